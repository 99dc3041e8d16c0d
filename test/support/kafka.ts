/**
 * Test helpers around the real local broker: client settings per listener, topics,
 * and a binding-based round trip. kcat, the independent client, is in kcat.ts.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { type ClientListener, type ListenerConnection, readConnection } from '../../scripts/kafka/connection.js';
import { brokerLayout, LIB_DIR } from '../../scripts/kafka/layout.js';

const execFileAsync = promisify(execFile);

export type RdKafkaConfig = Record<string, string | number | boolean>;

/** librdkafka properties that reach `listener` of local broker `broker` with the credentials it expects. */
export function listenerConfig(listener: ClientListener, broker = 'default'): RdKafkaConfig {
  return connectionConfig(readConnection(broker).listeners[listener]);
}

export function connectionConfig(connection: ListenerConnection): RdKafkaConfig {
  const config: RdKafkaConfig = {
    'bootstrap.servers': connection.bootstrapServers,
    'security.protocol': connection.securityProtocol.toLowerCase(),
    // The binding's default logger prints every librdkafka line to the console; tests read errors instead.
    log_level: 0,
  };
  if (connection.caFile) config['ssl.ca.location'] = connection.caFile;
  if (connection.certFile) config['ssl.certificate.location'] = connection.certFile;
  if (connection.keyFile) config['ssl.key.location'] = connection.keyFile;
  if (connection.saslMechanism) config['sasl.mechanisms'] = connection.saslMechanism;
  if (connection.username) config['sasl.username'] = connection.username;
  if (connection.password) config['sasl.password'] = connection.password;
  return config;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopic(name: string, partitions = 1, broker = 'default'): Promise<void> {
  const admin = new KafkaJS.Kafka({}).admin(listenerConfig('PLAINTEXT', broker));
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

export async function topicExists(name: string, broker = 'default'): Promise<boolean> {
  const admin = new KafkaJS.Kafka({}).admin(listenerConfig('PLAINTEXT', broker));
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(name);
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(name: string, broker = 'default'): Promise<void> {
  const admin = new KafkaJS.Kafka({}).admin(listenerConfig('PLAINTEXT', broker));
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [name] });
  } finally {
    await admin.disconnect();
  }
}

export interface ReceivedMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Subscribes with a fresh group from the earliest offset and resolves once `count` messages arrived. */
export async function consumeWithBinding(
  config: RdKafkaConfig,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReceivedMessage[]> {
  const consumer = new KafkaJS.Kafka({}).consumer({
    ...config,
    'group.id': uniqueName('test-group'),
    'auto.offset.reset': 'earliest',
  });
  const received: ReceivedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`received ${received.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
            received.push({
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers,
              partition,
              offset: message.offset,
            });
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Marks the current end of a local broker's server.log; `linesSince` returns what the broker logged after it. */
export function brokerLogMark(broker = 'default'): { linesSince: () => string[] } {
  const file = readConnection(broker).serverLog;
  const start = statSync(file).size;
  return {
    linesSince: () => readFileSync(file).subarray(start).toString('utf8').split('\n').filter(Boolean),
  };
}

/**
 * The record batches the broker wrote to `topic`'s `partition`, read from its log segments with
 * Kafka's DumpLogSegments: one per produce request that carried messages for that partition.
 */
export async function recordBatches(topic: string, partition: number, broker = 'default'): Promise<number[]> {
  const dir = join(brokerLayout(broker).dataDir, `${topic}-${partition}`);
  const segments = readdirSync(dir)
    .filter((file) => file.endsWith('.log'))
    .map((file) => join(dir, file));
  const { stdout } = await execFileAsync(
    'java',
    ['-cp', join(LIB_DIR, '*'), 'kafka.tools.DumpLogSegments', '--files', segments.join(',')],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return [...stdout.matchAll(/^baseOffset: \d+ lastOffset: \d+ count: (\d+)/gm)].map((m) => Number(m[1]));
}
