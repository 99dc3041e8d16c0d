/** The library's environment variables for a local broker listener, as a deployment would set them. */
import { createServer } from 'node:net';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { BrokerConnection, ClientListener } from '../../scripts/kafka/connection.js';
import { listenerEnvironment, readConnection } from '../../scripts/kafka/connection.js';
import { type ClientType, librdkafkaProperties } from '../../src/config/librdkafka.js';
import { loadConfig } from '../../src/config/load.js';
import { ClientLogRecorder } from '../../src/observability/client-log.js';

export function envFor(
  listener: ClientListener,
  connection: BrokerConnection = readConnection(),
): Record<string, string> {
  return listenerEnvironment(connection.listeners[listener]);
}

/** A binding client of `type` built from `env` the way the library builds them, with its log recorded. */
export function clientFor<T extends ClientType>(
  type: T,
  env: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  const recorder = new ClientLogRecorder(`test-${type}`);
  const kafka = new KafkaJS.Kafka({});
  const props = { ...librdkafkaProperties(loadConfig(env), type), ...extra, kafkaJS: { logger: recorder } };
  const client = (
    type === 'producer'
      ? kafka.producer(props)
      : type === 'consumer'
        ? kafka.consumer(props as never)
        : kafka.admin(props)
  ) as T extends 'producer' ? KafkaJS.Producer : T extends 'consumer' ? KafkaJS.Consumer : KafkaJS.Admin;
  return { client, recorder };
}

/** A loopback port nothing listens on. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
