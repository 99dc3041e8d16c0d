/**
 * The scheduled health check's own probes, run fresh every time (the stages are memoised, a
 * health check must not be): metadata, the configured topics, and the group's coordinator.
 */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from '../config/load.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { watchClients } from './clients.js';

const GROUP_STATES = ['unknown', 'preparing-rebalance', 'completing-rebalance', 'stable', 'dead', 'empty'];

export interface ProbeResult {
  ok: boolean;
  at: string;
  durationMs: number;
  topics?: number;
  missingTopics?: string[];
  group?: { id: string; state: string; members: number; coordinator: string | null };
  error?: string;
}

export async function probeCluster(
  admin: KafkaJS.Admin,
  config: KafkaConfig,
  timeoutMs: number,
  recorders: ClientLogRecorder[],
): Promise<ProbeResult> {
  const started = Date.now();
  const bounded = <T>(work: Promise<T>, operation: string) =>
    watchClients(work, { operation, timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)), recorders });
  const budget = () => Math.max(1, timeoutMs - (Date.now() - started) - 250);

  const topics = await bounded(admin.listTopics({ timeout: budget() }), 'health check: metadata');
  const missingTopics = config.topics.names.filter((name) => !topics.includes(name));
  const result: ProbeResult = {
    ok: missingTopics.length === 0,
    at: new Date(started).toISOString(),
    durationMs: 0,
    topics: topics.filter((name) => !name.startsWith('__')).length,
    missingTopics,
  };
  const groupId = config.consumer.groupId;
  if (groupId) {
    const { groups } = await bounded(
      admin.describeGroups([groupId], { timeout: budget() }),
      'health check: group coordinator',
    );
    const group = groups[0];
    if (group?.error) throw group.error;
    const coordinator = group?.coordinator
      ? `${group.coordinator.host}:${group.coordinator.port} (broker ${group.coordinator.id})`
      : null;
    result.group = {
      id: groupId,
      state: GROUP_STATES[group?.state ?? 0] ?? 'unknown',
      members: group?.members.length ?? 0,
      coordinator,
    };
  }
  if (missingTopics.length > 0) result.error = `topics missing: ${missingTopics.join(', ')}`;
  result.durationMs = Date.now() - started;
  return result;
}
