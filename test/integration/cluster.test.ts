/**
 * The local three-node KRaft cluster behaves like a replicated Kafka cluster: topics get three
 * in-sync replicas, a killed leader is replaced and writes with acks=all go on, and the node
 * started again catches up into every ISR. Checked with kcat and Kafka's tools, not the binding.
 * A single node could never show three in-sync replicas, so these fail if the cluster does not form.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clusterMetadata,
  groupCoordinator,
  killNode,
  partitionLeader,
  startNode,
  topicPartitions,
  waitForIsr,
  waitForNewLeader,
} from '../../scripts/kafka/cluster.js';
import { listenerEnvironment } from '../../scripts/kafka/connection.js';
import { apiVersionsOverSasl, createClusterTopic, offsetsPartitionFor, useCluster } from '../support/cluster.js';
import { kcat, kcatArgs, produceWithKcat, readWithKcat } from '../support/kcat.js';

const CLUSTER = 'cluster-smoke';
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const batch = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ key: `key-${from + i}`, value: `value ${from + i}` }));

describe('a local three-node KRaft cluster', () => {
  const connection = useCluster(CLUSTER);
  const topic = `cluster-smoke-${randomUUID().slice(0, 8)}`;

  it('has every node as a broker, and names all three as bootstrap servers on every listener', async () => {
    const metadata = await clusterMetadata(connection().listeners.PLAINTEXT.bootstrapServers);
    expect(metadata.brokers.map((broker) => broker.id).sort()).toEqual([1, 2, 3]);
    expect([1, 2, 3]).toContain(metadata.controllerId);
    for (const listener of Object.values(connection().listeners)) {
      expect(listenerEnvironment(listener).KAFKA_BOOTSTRAP_SERVERS?.split(',')).toHaveLength(3);
    }
  });

  it('accepts the client certificate and the SCRAM user on every node', async () => {
    for (const node of connection().nodes) {
      const [, , ...credentials] = kcatArgs('SSL', CLUSTER);
      const result = await kcat(['-b', `127.0.0.1:${node.ports.SSL}`, ...credentials, '-L', '-m', '10']);
      expect(result.stderr, `SSL listener of node ${node.id}`).not.toMatch(/ERROR/);
      expect(result.stdout, `SSL listener of node ${node.id}`).toMatch(/3 brokers:/);
    }
    const versions = await apiVersionsOverSasl(connection());
    for (const node of connection().nodes) {
      expect(versions).toContain(`127.0.0.1:${node.ports.SASL_SSL} (id: ${node.id} `);
    }
  });

  it('creates topics with replication factor 3 by default, all replicas in sync', async () => {
    await createClusterTopic(connection(), topic, 3);
    const partitions = await waitForIsr(connection(), topic, 3, 60_000);
    expect(partitions.map((partition) => partition.partition)).toEqual([0, 1, 2]);
    for (const partition of partitions) {
      expect([...partition.replicas].sort()).toEqual([1, 2, 3]);
      expect([...partition.isr].sort()).toEqual([1, 2, 3]);
    }
  });

  it('round-trips 100 messages produced with acks=all', async () => {
    await produceWithKcat('PLAINTEXT', topic, batch(0, 100), CLUSTER);
    const received = await readWithKcat('PLAINTEXT', topic, CLUSTER);
    expect(received.map((message) => message.key).sort()).toEqual(
      batch(0, 100)
        .map((m) => m.key)
        .sort(),
    );
    // Keyed messages spread over the partitions: every leader took writes.
    expect(new Set(received.map((message) => message.partition)).size).toBe(3);
  });

  it('names the group coordinator: the leader of the group’s __consumer_offsets partition', async () => {
    const group = `smoke-group-${randomUUID().slice(0, 8)}`;
    const coordinator = await groupCoordinator(connection(), group);
    const offsetsLeader = await partitionLeader(connection(), '__consumer_offsets', offsetsPartitionFor(group));
    expect([1, 2, 3]).toContain(coordinator);
    expect(coordinator).toBe(offsetsLeader);
  });

  it('elects a new leader when the leader is killed, keeps accepting acks=all writes, and takes the node back', async () => {
    const victim = await partitionLeader(connection(), topic, 0);
    if (victim === undefined) throw new Error(`partition 0 of ${topic} has no leader before the kill`);

    const killedAt = Date.now();
    expect(await killNode(CLUSTER, victim)).toBe(true);
    const leader = await waitForNewLeader(connection(), topic, 0, victim, 60_000);
    const election = seconds(killedAt);
    expect(leader).not.toBe(victim);
    // The controller fenced the dead node: it is out of every ISR, and two replicas still meet min.insync.replicas.
    const shrunk = await waitForIsr(connection(), topic, 2, 30_000);
    for (const partition of shrunk) expect(partition.isr).not.toContain(victim);
    await produceWithKcat('PLAINTEXT', topic, batch(100, 10), CLUSTER);

    const restartedAt = Date.now();
    await startNode(CLUSTER, victim);
    const serving = seconds(restartedAt);
    await waitForIsr(connection(), topic, 3, 90_000);
    const rejoin = seconds(restartedAt);
    expect((await readWithKcat('PLAINTEXT', topic, CLUSTER)).length).toBe(110);

    const leaders = (await topicPartitions(connection(), topic)).map((p) => `${p.partition}:${p.leader}`).join(' ');
    console.log(
      `cluster smoke: killed node ${victim} (leader of ${topic}/0); new leader node ${leader} after ${election} s; ` +
        `node ${victim} serving again after ${serving} s, back in every ISR after ${rejoin} s; leaders now ${leaders}`,
    );
  }, 240_000);
});
