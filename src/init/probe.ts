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
import type { GroupObserver, GroupView } from './group.js';

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
}

export async function probeCluster(admin: ManagedAdmin, config: KafkaConfig, ctx: ProbeContext): Promise<ProbeResult> {
  const started = Date.now();
  const metadata = await admin.metadataWhenReachable('health check: metadata', {
    deadline: ctx.deadline,
    recorders: ctx.recorders,
    // A broker certificate replaced since the stages ran is named as the stages would name it.
    explain: (cause, deadline) => explainTlsFailure(cause, config, deadline),
  });
  const topics = metadata.topics.map((t) => t.name);
  const missingTopics = config.topics.names.filter((name) => !topics.includes(name));
  for (const broker of metadata.brokers) ctx.knownBrokers.set(broker.id, `${broker.host}:${broker.port}`);
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
  if (ctx.observer) {
    const observer = ctx.observer;
    const since = Date.now();
    result.group = await observer.inspect(admin, metadata, config.topics.names, ctx.deadline).catch((error) => {
      // The observer's log says why the coordinator did not answer (FindCoordinator errors).
      const recentLogs = observer.recorder.recent(since);
      throw new KafkaOperationError(
        `health check: consumer group ${observer.groupId}`,
        classifyKafkaError(error, { recentLogs }),
        {
          cause: error,
        },
      );
    });
  }
  if (missingTopics.length > 0) result.error = `topics missing: ${missingTopics.join(', ')}`;
  result.durationMs = Date.now() - started;
  return result;
}
