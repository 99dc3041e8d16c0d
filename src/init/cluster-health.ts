/**
 * What the cluster metadata says about the configured topics and the brokers, as health findings:
 * a partition without a leader, or with fewer in-sync replicas than min.insync.replicas (every
 * acks=all write to it fails with NOT_ENOUGH_REPLICAS), is `unhealthy`; a partition with some
 * replicas out of sync, or a broker that partitions name as a replica but the cluster does not
 * list (it is down or unreachable), is `degraded`. Every finding names the topic, the partition and
 * the brokers, in a stable order, so that the same state gives the same reasons every run.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';

/**
 * One thing wrong with the cluster's replication or brokers.
 * @inline
 */
export interface ClusterFinding {
  /** What it makes the health status. */
  level: 'degraded' | 'unhealthy';
  /** What was found, naming the topic, partition and brokers. */
  reason: string;
  /** The brokers a finding about missing brokers names, by id. */
  missing?: number[];
}

/**
 * What the metadata says about the configured topics' partitions and the brokers holding them.
 * @inline
 */
export interface ClusterAssessment {
  /** Brokers in the metadata, by id. */
  brokers: number[];
  /** Brokers that partitions name as replicas but the metadata does not list. */
  missingBrokers: string[];
  /** What is wrong, in a stable order; empty when nothing is. */
  findings: ClusterFinding[];
}

export interface ClusterExpectations {
  topics: readonly string[];
  minInsyncReplicas: number;
  /** Addresses of brokers seen earlier in this execution environment, to name one that is gone. */
  known: ReadonlyMap<number, string>;
}

const list = (ids: readonly number[]) => [...ids].sort((a, b) => a - b).join(', ');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function describeBroker(id: number, known: ReadonlyMap<number, string>): string {
  const address = known.get(id);
  return address ? `broker ${id} (${address})` : `broker ${id}`;
}

/**
 * Topic descriptions as metadata of those topics: the brokers are the ones the answer gave an
 * address for (librdkafka names a replica that the cluster does not list by its id alone). Topics
 * described with an error (missing, not authorised) are left out and returned apart.
 */
export function metadataOfDescriptions(descriptions: readonly RdKafka.TopicDescription[]): {
  metadata: RdKafka.Metadata;
  failed: { name: string; error: unknown }[];
} {
  const brokers = new Map<number, RdKafka.BrokerMetadata>();
  const ids = (nodes: readonly RdKafka.Node[]) => {
    for (const node of nodes) if (node.host) brokers.set(node.id, { id: node.id, host: node.host, port: node.port });
    return nodes.map((node) => node.id);
  };
  const topics: RdKafka.TopicMetadata[] = [];
  const failed: { name: string; error: unknown }[] = [];
  for (const description of descriptions) {
    if (description.error) {
      failed.push({ name: description.name, error: description.error });
      continue;
    }
    topics.push({
      name: description.name,
      partitions: description.partitions.map((p) => ({
        id: p.partition,
        leader: p.leader ? (ids([p.leader])[0] as number) : -1,
        replicas: ids(p.replicas),
        isrs: ids(p.isr),
      })),
    });
  }
  const metadata = { orig_broker_id: -1, orig_broker_name: '', brokers: [...brokers.values()], topics };
  return { metadata, failed };
}

export function assessCluster(metadata: RdKafka.Metadata, expect: ClusterExpectations): ClusterAssessment {
  const live = new Set(metadata.brokers.map((b) => b.id));
  const findings: ClusterFinding[] = [];
  const named = new Set<number>();
  for (const topic of [...metadata.topics].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const partition of topic.partitions) for (const id of partition.replicas) named.add(id);
    if (!expect.topics.includes(topic.name)) continue;
    for (const partition of [...topic.partitions].sort((a, b) => a.id - b.id)) {
      const where = `${topic.name}[${partition.id}]`;
      const outOfSync = partition.replicas.filter((id) => !partition.isrs.includes(id)).sort((a, b) => a - b);
      const missing =
        outOfSync.length > 0
          ? ` (${outOfSync.map((id) => describeBroker(id, expect.known)).join(', ')} not in sync)`
          : '';
      if (partition.leader < 0 || !live.has(partition.leader)) {
        findings.push({
          level: 'unhealthy',
          reason: `${where} has no leader: its replicas are ${list(partition.replicas)}, none of them serving it${missing}; writes and reads of this partition wait until a replica comes back`,
        });
      } else if (partition.isrs.length < expect.minInsyncReplicas) {
        findings.push({
          level: 'unhealthy',
          reason: `${where} has ${plural(partition.isrs.length, 'in-sync replica')} (broker ${list(partition.isrs)})${missing}, fewer than min.insync.replicas ${expect.minInsyncReplicas}: every acks=all write to it fails with NOT_ENOUGH_REPLICAS until a replica catches up`,
        });
      } else if (outOfSync.length > 0) {
        findings.push({
          level: 'degraded',
          reason: `${where} has ${partition.isrs.length} of ${partition.replicas.length} replicas in sync${missing}`,
        });
      }
    }
  }
  const missingBrokers = [...named]
    .filter((id) => !live.has(id))
    .sort((a, b) => a - b)
    .map((id) => describeBroker(id, expect.known));
  if (missingBrokers.length > 0) {
    findings.unshift({
      level: 'degraded',
      missing: [...named].filter((id) => !live.has(id)).sort((a, b) => a - b),
      reason: `${missingBrokers.join(', ')} ${missingBrokers.length === 1 ? 'is' : 'are'} not in the cluster (down, or not reachable from the brokers): partitions name ${missingBrokers.length === 1 ? 'it' : 'them'} as a replica`,
    });
  }
  return { brokers: [...live].sort((a, b) => a - b), missingBrokers, findings };
}
