/**
 * The scheduled health check's own probes, run fresh every time (the stages are memoised, a
 * health check must not be): metadata, the configured topics, and the group's coordinator and
 * lag. It reuses the environment's clients: no new client or connection once warm.
 */
import type { ManagedAdmin } from '../clients/admin.js';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import { KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';
import { explainTlsFailure } from '../ssl/tls-causes.js';
import { assessCluster, type ClusterAssessment } from './cluster-health.js';
import { GroupObserver, type GroupView, type Partition } from './group.js';

export interface ProbeResult {
  ok: boolean;
  at: string;
  durationMs: number;
  topics?: number;
  missingTopics?: string[];
  /** Brokers, and the configured topics' replication, as the metadata shows them. */
  cluster?: ClusterAssessment;
  group?: GroupView;
  error?: string;
}

export interface ProbeContext {
  deadline: Deadline;
  recorders: readonly ClientLogRecorder[];
  /** The group observer of KAFKA_CONSUMER_GROUP_ID, when it is set. */
  observer?: GroupObserver;
  /** Brokers seen by this environment, by id: updated here, used to name one that is gone. */
  knownBrokers: Map<number, string>;
  /** The configured topics' partitions the last probe found: updated here, so the next one asks about the group at once. */
  partitions: Partition[];
}

export async function probeCluster(admin: ManagedAdmin, config: KafkaConfig, ctx: ProbeContext): Promise<ProbeResult> {
  const started = Date.now();
  const observer = ctx.observer;
  // The group is asked about at the same time as the metadata, over the partitions the last probe
  // found; only the first probe of an environment waits for the metadata to know them.
  const inspect = (partitions: Partition[]) =>
    (observer as GroupObserver).inspect(admin, partitions, ctx.deadline).catch((error: unknown) => {
      // The observer's log says why the coordinator did not answer (FindCoordinator errors).
      const recentLogs = (observer as GroupObserver).recorder.recent(started);
      throw new KafkaOperationError(
        `health check: consumer group ${(observer as GroupObserver).groupId}`,
        classifyKafkaError(error, { recentLogs }),
        { cause: error },
      );
    });
  const early = observer && ctx.partitions.length > 0 ? inspect(ctx.partitions) : undefined;
  early?.catch(() => {});
  const metadata = await admin.metadataWhenReachable('health check: metadata', {
    deadline: ctx.deadline,
    recorders: ctx.recorders,
    // A broker certificate replaced since the stages ran is named as the stages would name it.
    explain: (cause, deadline) => explainTlsFailure(cause, config, deadline),
  });
  const topics = metadata.topics.map((t) => t.name);
  const missingTopics = config.topics.names.filter((name) => !topics.includes(name));
  for (const broker of metadata.brokers) ctx.knownBrokers.set(broker.id, `${broker.host}:${broker.port}`);
  const partitions = GroupObserver.partitionsOf(metadata, config.topics.names);
  ctx.partitions.splice(0, ctx.partitions.length, ...partitions);
  const result: ProbeResult = {
    ok: missingTopics.length === 0,
    at: new Date(started).toISOString(),
    durationMs: 0,
    topics: topics.filter((name) => !name.startsWith('__')).length,
    missingTopics,
    cluster: assessCluster(metadata, {
      topics: config.topics.names,
      minInsyncReplicas: config.topics.minInsyncReplicas,
      known: ctx.knownBrokers,
    }),
  };
  if (observer) result.group = await (early ?? inspect(partitions));
  if (missingTopics.length > 0) result.error = `topics missing: ${missingTopics.join(', ')}`;
  result.durationMs = Date.now() - started;
  return result;
}
