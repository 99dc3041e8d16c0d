/**
 * Test helpers around the real local broker: client settings per listener, topics,
 * a binding-based round trip, and kcat as an independent client.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { type ClientListener, type ListenerConnection, readConnection } from '../../scripts/kafka/connection.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

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

/** `-b` and `-X` arguments for kcat from the same connection details the binding used. */
export function kcatArgs(listener: ClientListener, broker = 'default'): string[] {
  const connection = readConnection(broker).listeners[listener];
  const args = ['-b', connection.bootstrapServers, '-X', `security.protocol=${connection.securityProtocol}`];
  if (connection.caFile) args.push('-X', `ssl.ca.location=${connection.caFile}`);
  if (connection.certFile) args.push('-X', `ssl.certificate.location=${connection.certFile}`);
  if (connection.keyFile) args.push('-X', `ssl.key.location=${connection.keyFile}`);
  if (connection.saslMechanism) args.push('-X', `sasl.mechanisms=${connection.saslMechanism}`);
  if (connection.username) args.push('-X', `sasl.username=${connection.username}`);
  if (connection.password) args.push('-X', `sasl.password=${connection.password}`);
  return args;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kcat (through scripts/kcat.sh) and never rejects: the caller asserts on code and output. */
export function kcat(args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(join(REPO_ROOT, 'scripts', 'kcat.sh'), args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

/** Reads a whole topic from the beginning with kcat (`-J`: one JSON object per message). */
export async function readWithKcat(
  listener: ClientListener,
  topic: string,
  broker = 'default',
): Promise<KcatMessage[]> {
  const result = await kcat([...kcatArgs(listener, broker), '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q']);
  if (result.code !== 0) throw new Error(`kcat failed (${result.code}): ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const raw = JSON.parse(line) as Omit<KcatMessage, 'headers'> & { headers?: string[] };
      const headers: Record<string, string> = {};
      // kcat -J prints headers as a flat [name, value, name, value, ...] array.
      for (let i = 0; i + 1 < (raw.headers?.length ?? 0); i += 2) {
        headers[raw.headers?.[i] as string] = raw.headers?.[i + 1] as string;
      }
      return { ...raw, headers };
    });
}

/** Marks the current end of a local broker's server.log; `linesSince` returns what the broker logged after it. */
export function brokerLogMark(broker = 'default'): { linesSince: () => string[] } {
  const file = readConnection(broker).serverLog;
  const start = statSync(file).size;
  return {
    linesSince: () => readFileSync(file).subarray(start).toString('utf8').split('\n').filter(Boolean),
  };
}
