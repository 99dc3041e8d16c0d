/**
 * The scheduled health check's own probes, run fresh every time (the stages are memoised, a
 * health check must not be): the configured topics as the cluster describes them (leaders,
 * replicas, in-sync replicas), and the group's coordinator and lag, asked at the same time. It
 * reuses the environment's clients: no new client or connection once warm. The topics are
 * described rather than read from all-topic metadata: one request about them only (the binding
 * spends milliseconds converting every topic of a cluster for JS, on every call).
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { ManagedAdmin } from '../clients/admin.js';
import { isUnreachable, type WaitContext } from '../clients/wait.js';
import type { KafkaConfig } from '../config/load.js';
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { causeLine, KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';
import { explainTlsFailure } from '../ssl/tls-causes.js';
import {
  assessCluster,
  type ClusterAssessment,
  type ClusterFinding,
  metadataOfDescriptions,
} from './cluster-health.js';
import { GroupObserver, type GroupView, type Partition } from './group.js';
import type { DownBroker, SweepMetadata } from './reachability.js';

/**
 * What a scheduled health check found when it probed the cluster.
 * @inline
 */
export interface ProbeResult {
  /** Whether the cluster answered and described every configured topic; replication findings are in `cluster`. */
  ok: boolean;
  /** When it started, ISO 8601. */
  at: string;
  /** How long it took, ms. */
  durationMs: number;
  /** How many of KAFKA_TOPICS the cluster described. */
  topics?: number;
  /** The configured topics the cluster does not have. */
  missingTopics?: string[];
  /** The configured topics' replication, and the brokers that hold them, as the cluster describes them. */
  cluster?: ClusterAssessment;
  /** KAFKA_CONSUMER_GROUP_ID's coordinator and lag, when one is set. */
  group?: GroupView;
  /** Why `ok` is false, on one line: missing or denied topics, or the failure's cause and hint. */
  error?: string;
  /** Expected brokers (bootstrap list, metadata, seen earlier) that did not accept a connection, and what that means. */
  down?: {
    /** The brokers, by id and address where known. */
    brokers: DownBroker[];
    /** What each means for the function, as health reasons. */
    findings: ClusterFinding[];
  };
}

/** Below this, the metadata fallback of a failed DescribeTopics is not worth starting. */
const FALLBACK_MIN_MS = 1000;

/**
 * The configured topics as the cluster describes them. DescribeTopics goes where librdkafka sends
 * it, and with brokers down (the controller among them) it may wait for one that is gone; when it
 * has not answered within a third of the time, the metadata, which any live broker answers, stands
 * in (every topic's, so a missing one is told apart: code 3).
 */
async function describedTopics(
  admin: ManagedAdmin,
  names: readonly string[],
  wait: Omit<WaitContext, 'calls'>,
): Promise<{ metadata: RdKafka.Metadata; failed: { name: string; error: unknown }[] }> {
  try {
    const share = { ...wait, deadline: wait.deadline.cappedAt(Math.max(1000, wait.deadline.remainingMs() / 3)) };
    return metadataOfDescriptions(await admin.describeTopicsWhenReachable('health check: topics', [...names], share));
  } catch (error) {
    const classification = classifyKafkaError(error);
    // A cause of its own is the answer; so is the describe's when librdkafka held on to it past its
    // share and too little time is left for the metadata.
    if (classification.kind !== 'transient' || wait.deadline.remainingMs() < FALLBACK_MIN_MS) throw error;
    let all: RdKafka.Metadata;
    try {
      all = await admin.metadataWhenReachable('health check: metadata', wait, { allTopics: true });
    } catch (fallbackError) {
      // Brokers refusing, then no answer in time: the refusal says more than the timeout.
      throw isUnreachable(classification) && classifyKafkaError(fallbackError).code === -185 ? error : fallbackError;
    }
    const present = new Set(all.topics.map((t) => t.name));
    return {
      metadata: { ...all, topics: all.topics.filter((t) => names.includes(t.name)) },
      failed: names
        .filter((name) => !present.has(name))
        .map((name) => ({ name, error: { code: 3, message: `topic ${name} does not exist` } })),
    };
  }
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
  /** Told what the cluster described, for the down-broker sweep. */
  onMetadata?: (metadata: SweepMetadata) => void;
}

/** The metadata as the down-broker sweep reads it: live brokers' addresses, replica ids, leaders of the configured topics. */
export function sweepMetadataOf(metadata: RdKafka.Metadata, topics: readonly string[]): SweepMetadata {
  const live = new Map(metadata.brokers.map((b) => [b.id, `${b.host}:${b.port}`] as const));
  const replicas = new Set<number>();
  const leads = new Map<number, string[]>();
  for (const topic of metadata.topics) {
    if (!topics.includes(topic.name)) continue;
    for (const partition of topic.partitions) {
      for (const id of partition.replicas) replicas.add(id);
      if (partition.leader >= 0)
        leads.set(partition.leader, [...(leads.get(partition.leader) ?? []), `${topic.name}[${partition.id}]`]);
    }
  }
  return { live, replicas, leads };
}

export async function probeCluster(admin: ManagedAdmin, config: KafkaConfig, ctx: ProbeContext): Promise<ProbeResult> {
  const started = Date.now();
  const observer = ctx.observer;
  // The group is asked about at the same time as the topics, over the partitions the last probe
  // found; only the first probe of an environment waits for the topics' description to know them.
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
  const wait = {
    deadline: ctx.deadline,
    recorders: ctx.recorders,
    // A broker certificate replaced since the stages ran is named as the stages would name it.
    explain: (cause: Classification, deadline: Deadline) => explainTlsFailure(cause, config, deadline),
  };
  const names = config.topics.names;
  const { metadata, failed } =
    names.length > 0
      ? await describedTopics(admin, names, wait)
      : {
          metadata: await admin.metadataWhenReachable('health check: metadata', wait, { allTopics: false }),
          failed: [],
        };
  const missingTopics = failed.filter((t) => classifyKafkaError(t.error).code === 3).map((t) => t.name);
  const denied = failed.filter((t) => !missingTopics.includes(t.name));
  ctx.onMetadata?.(sweepMetadataOf(metadata, names));
  for (const broker of metadata.brokers) ctx.knownBrokers.set(broker.id, `${broker.host}:${broker.port}`);
  const partitions = GroupObserver.partitionsOf(metadata, names);
  ctx.partitions.splice(0, ctx.partitions.length, ...partitions);
  const result: ProbeResult = {
    ok: failed.length === 0,
    at: new Date(started).toISOString(),
    durationMs: 0,
    topics: metadata.topics.length,
    missingTopics,
    cluster: assessCluster(metadata, {
      topics: config.topics.names,
      minInsyncReplicas: config.topics.minInsyncReplicas,
      known: ctx.knownBrokers,
    }),
  };
  if (observer) result.group = await (early ?? inspect(partitions));
  const errors = [
    ...(missingTopics.length > 0 ? [`topics missing: ${missingTopics.join(', ')}`] : []),
    ...denied.map((t) => `topic ${t.name}: ${causeLine(classifyKafkaError(t.error))}`),
  ];
  if (errors.length > 0) result.error = errors.join('; ');
  result.durationMs = Date.now() - started;
  return result;
}
