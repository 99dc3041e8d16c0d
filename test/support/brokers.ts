/** Extra local brokers for one test file: started before its tests, stopped after them. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startBroker, stopBroker } from '../../scripts/kafka/broker.js';
import type { BrokerConnection } from '../../scripts/kafka/connection.js';
import { javaCommand, LIB_CLASSPATH } from '../../scripts/kafka/jars.js';
import { brokerLayout } from '../../scripts/kafka/layout.js';
import { kafkaTool as kafkaToolOffline } from './cluster.js';
import { createTopic } from './kafka.js';

/** Port bases reserved per test broker, so test files running in parallel never collide. */
export const TEST_BROKERS = {
  coordinator: { portBase: 19192, props: { 'offsets.topic.replication.factor': '2' } },
  acl: {
    portBase: 19292,
    props: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // PLAINTEXT (the broker itself, test set-up) is ANONYMOUS and a super user; the SASL user is not.
      'super.users': 'User:ANONYMOUS',
      'allow.everyone.if.no.acl.found': 'true',
    },
  },
  /** Stopped and started by the recovery tests. */
  lifecycle: { portBase: 19392, props: {} },
  /** A new cluster for each run: no __consumer_offsets yet. */
  fresh: { portBase: 19492, props: {} },
  /** Same fault as `coordinator`, for the initializer's tests. */
  nocoord: { portBase: 19592, props: { 'offsets.topic.replication.factor': '2' } },
  /** Stopped and started by the health-check tests. */
  health: { portBase: 19692, props: {} },
  /** Used by the packaged-zip test. */
  packaged: { portBase: 19792, props: {} },
  /** Advertises its SASL_SSL listener under a name that does not resolve. */
  'diag-advertised': {
    portBase: 19892,
    props: {
      'advertised.listeners':
        'PLAINTEXT://127.0.0.1:19892,SSL://127.0.0.1:19893,SASL_SSL://unreachable-broker.invalid:19894',
    },
  },
  /** Listens on 127.0.0.2, which the test broker certificate does not cover. */
  'diag-hostname': { portBase: 19992, props: {}, host: '127.0.0.2' },
  'diag-nocoord': { portBase: 20192, props: { 'offsets.topic.replication.factor': '2' } },
  'diag-acl': {
    portBase: 20292,
    props: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:ANONYMOUS',
      'allow.everyone.if.no.acl.found': 'true',
    },
  },
  /** Started, then stopped: a broker that is down. */
  'diag-down': { portBase: 20392, props: {} },
  /** Down, then back, under the Lambda runtime (runtime-unavailable.test.ts). */
  outage: { portBase: 20592, props: {} },
  /** Paused with SIGSTOP: accepts connections, answers nothing (slow-brokers.test.ts). */
  paused: { portBase: 20792, props: {} },
  /** Reached through a breakable proxy (runtime-warm-outage.test.ts), which sets its advertised listeners. */
  proxied: { portBase: 20692, props: {} },
  /** Like diag-hostname (127.0.0.2, not covered by the test certificate), for the fault-cause tests. */
  'fault-hostname': { portBase: 20492, props: {}, host: '127.0.0.2' },
  /** Started with a truststore of another CA than its certificate's (split CA): see fault-causes.test.ts. */
  'fault-split-ca': { portBase: 20892, props: {} },
  /** Its SCRAM password is rotated, and it is restarted, under a warm function (secrets.test.ts). */
  secrets: { portBase: 20992, props: {} },
  /** Forgets an idle producer's id after 5 s (producer.id.expiration.ms; checked every second). */
  'pid-expiry': {
    portBase: 23092,
    props: { 'producer.id.expiration.ms': '5000', 'producer.id.expiration.check.interval.ms': '1000' },
  },
  /** Loses the tail of a partition's log while stopped (what an unclean leader election does). */
  truncated: { portBase: 23192, props: {} },
  /** Reached through a breakable proxy that loses the broker's answers (producer-epoch.test.ts). */
  epoch: { portBase: 23292, props: {} },
} as const;

/** Registers hooks that run broker `name` for this file; the returned getter gives its connection. */
export function useBroker(name: keyof typeof TEST_BROKERS, options: { fresh?: boolean } = {}): () => BrokerConnection {
  let connection: BrokerConnection | undefined;
  beforeAll(async () => {
    connection = await startTestBroker(name, options);
  }, 120_000);
  afterAll(async () => {
    await stopBroker(name);
  }, 60_000);
  return () => {
    if (!connection) throw new Error(`broker ${name} is not started`);
    return connection;
  };
}

export function startTestBroker(
  name: keyof typeof TEST_BROKERS,
  options: { fresh?: boolean; props?: Record<string, string> } = {},
): Promise<BrokerConnection> {
  const settings: { portBase: number; props: Record<string, string>; host?: string } = TEST_BROKERS[name];
  const { props, ...rest } = options;
  return startBroker({
    name,
    portBase: settings.portBase,
    props: { ...settings.props, ...props },
    host: settings.host,
    ...rest,
  });
}

/** A new topic on broker `name` whose only ACL is for someone else: every other principal is denied. */
export async function createDeniedTopic(
  name: keyof typeof TEST_BROKERS,
  connection: BrokerConnection,
  prefix: string,
): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopic(topic, 1, name);
  await kafkaAcls(connection, [
    '--add',
    '--allow-principal',
    'User:someone-else',
    '--operation',
    'All',
    '--topic',
    topic,
  ]);
  return topic;
}

/** One of Kafka's own tools (`mainClass`) against a broker's PLAINTEXT listener; its standard output. */
function kafkaTool(connection: BrokerConnection, mainClass: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      javaCommand(),
      [
        '-Dlog4j2.configurationFile=/dev/null',
        '-cp',
        LIB_CLASSPATH,
        mainClass,
        '--bootstrap-server',
        connection.listeners.PLAINTEXT.bootstrapServers,
        ...args,
      ],
      (error, stdout, stderr) => (error ? reject(new Error(`${mainClass} failed: ${stderr}`)) : resolve(stdout)),
    );
  });
}

/** Kafka's own kafka-acls tool against a broker's PLAINTEXT listener. */
export function kafkaAcls(connection: BrokerConnection, args: string[]): Promise<string> {
  return kafkaTool(connection, 'org.apache.kafka.tools.AclCommand', args);
}

/** The producer ids partition `topic`[`partition`] keeps state for (kafka-transactions describe-producers). */
export async function activeProducerIds(connection: BrokerConnection, topic: string, partition = 0): Promise<string[]> {
  const out = await kafkaTool(connection, 'org.apache.kafka.tools.TransactionsCommand', [
    'describe-producers',
    '--topic',
    topic,
    '--partition',
    String(partition),
  ]);
  // A header line, then one line per producer id.
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0] as string)
    .filter((id) => /^\d+$/.test(id));
}

/**
 * Cuts partition `topic`[`partition`] of stopped broker `name` back to before offset `from`: the
 * batches from it on are gone, as after an unclean leader election, and the broker rebuilds the
 * partition's producer state from what is left at its next start (indexes and snapshots removed,
 * no clean-shutdown marker). Returns how many bytes of the segment were kept.
 */
export async function truncatePartition(
  name: keyof typeof TEST_BROKERS,
  topic: string,
  partition: number,
  from: number,
): Promise<number> {
  const { dataDir } = brokerLayout(name);
  const dir = join(dataDir, `${topic}-${partition}`);
  const segment = join(dir, '00000000000000000000.log');
  const dump = await kafkaToolOffline('kafka.tools.DumpLogSegments', ['--files', segment]);
  const position = new RegExp(`^baseOffset: ${from} .*? position: (\\d+) `, 'm').exec(dump)?.[1];
  if (position === undefined) throw new Error(`no batch at offset ${from} in ${segment}:\n${dump}`);
  truncateSync(segment, Number(position));
  for (const file of readdirSync(dir)) if (/\.(index|timeindex|snapshot)$/.test(file)) rmSync(join(dir, file));
  const marker = join(dataDir, '.kafka_cleanshutdown');
  if (existsSync(marker)) rmSync(marker);
  return Number(position);
}
