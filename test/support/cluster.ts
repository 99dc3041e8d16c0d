/** Local three-node clusters for one test file, and the Kafka tools that manage their topics. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startCluster, stopCluster } from '../../scripts/kafka/cluster.js';
import type { Topology } from '../../scripts/kafka/cluster-config.js';
import type { ClusterConnection } from '../../scripts/kafka/connection.js';
import { javaCommand, LIB_CLASSPATH } from '../../scripts/kafka/jars.js';

/** Port bases reserved per test cluster (brokers at +0, +10, +20, dedicated controllers at +30..+50), clear of the test brokers' (test/support/brokers.ts). */
export const TEST_CLUSTERS = {
  /** The cluster's own smoke test: kills and restarts nodes. */
  'cluster-smoke': { portBase: 21092 },
  /** The functions through leader loss, a rolling restart, a coordinator move, and too few replicas. */
  resilience: { portBase: 22092 },
  /** MSK's shape (dedicated controllers): health and diagnose with every one or two brokers down. */
  'msk-health': { portBase: 24092, topology: 'split' },
  /** MSK's shape: the short chaos soak of `npm test`. */
  'soak-short': { portBase: 24192, topology: 'split' },
} as const satisfies Record<string, { portBase: number; topology?: Topology }>;

/** Registers hooks that run a fresh cluster `name` for this file; the returned getter gives its connection. */
export function useCluster(name: keyof typeof TEST_CLUSTERS): () => ClusterConnection {
  let connection: ClusterConnection | undefined;
  beforeAll(async () => {
    connection = await startCluster({
      name,
      portBase: TEST_CLUSTERS[name].portBase,
      topology: (TEST_CLUSTERS[name] as { topology?: Topology }).topology ?? 'combined',
      fresh: true,
      log: (line) => console.log(`[${name}] ${line}`),
    });
  }, 300_000);
  afterAll(async () => {
    await stopCluster(name);
  }, 120_000);
  return () => {
    if (!connection) throw new Error(`cluster ${name} is not started`);
    return connection;
  };
}

/** Runs one of Kafka's command-line tools (a main class from the jars); resolves with its stdout. */
export function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(javaCommand(), ['-cp', LIB_CLASSPATH, mainClass, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${mainClass} ${args.join(' ')} failed: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** Kafka's own kafka-topics tool against a cluster's PLAINTEXT listeners: independent of the binding. */
export function kafkaTopics(connection: ClusterConnection, args: string[]): Promise<string> {
  const bootstrap = connection.listeners.PLAINTEXT.bootstrapServers;
  return kafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, ...args]);
}

/**
 * Kafka's kafka-broker-api-versions over SASL_SSL with the cluster's SCRAM user: it authenticates with every
 * broker the metadata names. Java, because kcat's librdkafka may predate the SCRAM fix Kafka 4 needs.
 */
export async function apiVersionsOverSasl(connection: ClusterConnection): Promise<string> {
  const sasl = connection.listeners.SASL_SSL;
  const dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-sasl-'));
  const config = join(dir, 'client.properties');
  writeFileSync(
    config,
    [
      'security.protocol=SASL_SSL',
      `sasl.mechanism=${sasl.saslMechanism}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${sasl.username}" password="${sasl.password}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${sasl.caFile}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    const args = ['--bootstrap-server', sasl.bootstrapServers, '--command-config', config];
    return await kafkaTool('org.apache.kafka.tools.BrokerApiVersionsCommand', args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates `topic` with the cluster's default replication factor (no --replication-factor, as a user would). */
export async function createClusterTopic(
  connection: ClusterConnection,
  topic: string,
  partitions: number,
  replicationFactor?: number,
) {
  const rf = replicationFactor === undefined ? [] : ['--replication-factor', String(replicationFactor)];
  await kafkaTopics(connection, ['--create', '--topic', topic, '--partitions', String(partitions), ...rf]);
}

/** Java's String.hashCode, for finding the __consumer_offsets partition of a group the way Kafka does. */
export function javaStringHash(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (Math.imul(31, hash) + value.charCodeAt(i)) | 0;
  return hash;
}

/** The __consumer_offsets partition that holds group `groupId` (Kafka: Utils.abs(groupId.hashCode()) % partitions). */
export function offsetsPartitionFor(groupId: string, partitions = 50): number {
  const hash = javaStringHash(groupId);
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}
