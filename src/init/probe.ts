/**
 * The scheduled health check's own probes, run fresh every time (the stages are memoised, a
 * health check must not be): metadata, the configured topics, and the group's coordinator.
 */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from '../config/load.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { watchClients } from './clients.js';
import { type GroupView, inspectGroup } from './group.js';

export interface ProbeResult {
  ok: boolean;
  at: string;
  durationMs: number;
  topics?: number;
  missingTopics?: string[];
  group?: GroupView;
  error?: string;
}

export async function probeCluster(
  admin: KafkaJS.Admin,
  config: KafkaConfig,
  timeoutMs: number,
  recorders: ClientLogRecorder[],
  observer: ClientLogRecorder,
): Promise<ProbeResult> {
  const started = Date.now();
  const bounded = <T>(work: Promise<T>, operation: string) =>
    watchClients(work, {
      operation,
      timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)),
      recorders: [...recorders, observer],
    });
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
    const group = await bounded(
      inspectGroup(admin, config, groupId, observer, budget),
      'health check: group coordinator',
    );
    result.group = group;
  }
  if (missingTopics.length > 0) result.error = `topics missing: ${missingTopics.join(', ')}`;
  result.durationMs = Date.now() - started;
  return result;
}
