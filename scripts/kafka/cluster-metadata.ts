/**
 * What a local cluster looks like from outside, independent of the client under test:
 * brokers, leaders and in-sync replicas from `kcat -L -J` on the PLAINTEXT listener,
 * and group coordinators from a FindCoordinator request of the probe.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterConnection } from './connection.js';
import { REPO_ROOT } from './layout.js';
import { findGroupCoordinator } from './probe.js';

export interface PartitionMetadata {
  partition: number;
  /** -1 while the partition has no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ClusterMetadata {
  /** The broker that answered, as kcat names it (`host:port/id`). */
  answeredBy: string;
  controllerId: number;
  /** Registered, unfenced brokers: a node that is down or still catching up is absent. */
  brokers: { id: number; address: string }[];
  topics: { topic: string; error: string | null; partitions: PartitionMetadata[] }[];
}

/** kcat -L -J, one JSON document. */
interface KcatMetadata {
  originating_broker: { id: number; name: string };
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: {
    topic: string;
    error?: string;
    partitions?: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[];
  }[];
}

/** Metadata through `bootstrapServers` (a PLAINTEXT list), for every topic or just `topic`. */
export function clusterMetadata(
  bootstrapServers: string,
  topic?: string,
  timeoutMs = 10_000,
): Promise<ClusterMetadata> {
  const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  const args = ['-L', '-J', '-b', bootstrapServers, '-m', seconds, ...(topic ? ['-t', topic] : [])];
  return new Promise((resolve, reject) => {
    execFile(join(REPO_ROOT, 'scripts', 'kcat.sh'), args, { timeout: timeoutMs + 5000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`kcat -L -b ${bootstrapServers} failed: ${stderr.trim() || error.message}`, { cause: error }));
        return;
      }
      const raw = JSON.parse(stdout) as KcatMetadata;
      resolve({
        answeredBy: raw.originating_broker.name,
        controllerId: raw.controllerid,
        brokers: raw.brokers.map((broker) => ({ id: broker.id, address: broker.name })),
        topics: raw.topics.map((entry) => ({
          topic: entry.topic,
          error: entry.error ?? null,
          partitions: (entry.partitions ?? []).map((partition) => ({
            partition: partition.partition,
            leader: partition.leader,
            replicas: partition.replicas.map((replica) => replica.id),
            isr: partition.isrs.map((replica) => replica.id),
          })),
        })),
      });
    });
  });
}

function plaintext(connection: ClusterConnection): string {
  return connection.listeners.PLAINTEXT.bootstrapServers;
}

/** The partitions of `topic`, or an error naming the topic when the cluster does not know it. */
export async function topicPartitions(connection: ClusterConnection, topic: string): Promise<PartitionMetadata[]> {
  const metadata = await clusterMetadata(plaintext(connection), topic);
  const entry = metadata.topics.find((candidate) => candidate.topic === topic);
  if (!entry || entry.error || entry.partitions.length === 0) {
    throw new Error(
      `Topic "${topic}" is not known to local cluster "${connection.cluster}": ${entry?.error ?? 'absent'}`,
    );
  }
  return entry.partitions.sort((a, b) => a.partition - b.partition);
}

/** Node id of the leader of `topic`/`partition`, or undefined while it has none. */
export async function partitionLeader(
  connection: ClusterConnection,
  topic: string,
  partition: number,
): Promise<number | undefined> {
  const found = (await topicPartitions(connection, topic)).find((candidate) => candidate.partition === partition);
  if (!found)
    throw new Error(`Topic "${topic}" has no partition ${partition} on local cluster "${connection.cluster}".`);
  return found.leader >= 0 ? found.leader : undefined;
}

/** An answer that waiting longer cannot change. */
class Final extends Error {}

/**
 * Polls `probe` every 250 ms until it returns a value; on timeout the error names `what` and the last state seen.
 * Errors are retried (a node may be down), except `Final` ones.
 */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  last: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof Final) throw error;
      lastError = error;
    }
    await sleep(250);
  }
  const reason = lastError ? `; last error: ${(lastError as Error).message}` : '';
  throw new Error(`${what} did not happen within ${timeoutMs} ms (last seen: ${last()})${reason}`);
}

/** Resolves with the partitions once every partition of `topic` has exactly `expectedIsrSize` in-sync replicas. */
export async function waitForIsr(
  connection: ClusterConnection,
  topic: string,
  expectedIsrSize: number,
  timeoutMs = 60_000,
): Promise<PartitionMetadata[]> {
  let seen: PartitionMetadata[] = [];
  return poll(
    `ISR of ${expectedIsrSize} on every partition of "${topic}"`,
    timeoutMs,
    async () => {
      seen = await topicPartitions(connection, topic);
      return seen.every((partition) => partition.isr.length === expectedIsrSize) ? seen : undefined;
    },
    () => seen.map((p) => `partition ${p.partition} leader ${p.leader} isr [${p.isr.join(',')}]`).join('; '),
  );
}

/** Resolves with the new leader once `topic`/`partition` is led by a node other than `previousLeader`. */
export async function waitForNewLeader(
  connection: ClusterConnection,
  topic: string,
  partition: number,
  previousLeader: number,
  timeoutMs = 60_000,
): Promise<number> {
  let seen: number | undefined;
  return poll(
    `A leader other than node ${previousLeader} for ${topic}/${partition}`,
    timeoutMs,
    async () => {
      seen = await partitionLeader(connection, topic, partition);
      return seen !== undefined && seen !== previousLeader ? seen : undefined;
    },
    () => `leader ${seen ?? 'none'}`,
  );
}

/** Kafka error codes FindCoordinator answers while the coordinator is being set up or moved. */
const COORDINATOR_PENDING = new Set([14, 15, 16]);

/**
 * Node id of the coordinator of consumer group `groupId`, asked of the running nodes in turn.
 * The first question may create __consumer_offsets, so "not available" answers are retried.
 */
export async function groupCoordinator(
  connection: ClusterConnection,
  groupId: string,
  timeoutMs = 30_000,
): Promise<number> {
  const [host] = plaintext(connection).split(':');
  let seen = 'no answer';
  return poll(
    `A coordinator for group "${groupId}"`,
    timeoutMs,
    async () => {
      for (const node of connection.nodes) {
        const target = { host: host ?? '127.0.0.1', port: node.ports.PLAINTEXT };
        const answer = await findGroupCoordinator(target, groupId).catch((error: Error) => {
          seen = `node ${node.id}: ${error.message}`;
          return undefined;
        });
        if (!answer) continue;
        if (answer.errorCode === 0) return answer.nodeId;
        seen = `node ${node.id}: error code ${answer.errorCode} ${answer.errorMessage ?? ''}`.trim();
        if (!COORDINATOR_PENDING.has(answer.errorCode)) throw new Final(`FindCoordinator answered ${seen}`);
      }
      return undefined;
    },
    () => seen,
  );
}
