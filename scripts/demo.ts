/**
 * The main job (for now): start the local broker, then produce and consume one message
 * through each client listener with the native binding, printing what happened.
 */
import { randomUUID } from 'node:crypto';
import { KafkaJS, RdKafka } from '@confluentinc/kafka-javascript';
import { startBroker } from './kafka/broker.js';
import { CLIENT_LISTENERS, type ListenerConnection } from './kafka/connection.js';

function clientConfig(listener: ListenerConnection): Record<string, string | number> {
  const config: Record<string, string | number> = {
    'bootstrap.servers': listener.bootstrapServers,
    'security.protocol': listener.securityProtocol.toLowerCase(),
    log_level: 0,
  };
  if (listener.caFile) config['ssl.ca.location'] = listener.caFile;
  if (listener.certFile) config['ssl.certificate.location'] = listener.certFile;
  if (listener.keyFile) config['ssl.key.location'] = listener.keyFile;
  if (listener.saslMechanism) config['sasl.mechanisms'] = listener.saslMechanism;
  if (listener.username) config['sasl.username'] = listener.username;
  if (listener.password) config['sasl.password'] = listener.password;
  return config;
}

async function roundTrip(listener: ListenerConnection): Promise<void> {
  const kafka = new KafkaJS.Kafka({});
  const config = clientConfig(listener);
  const topic = `demo-${listener.securityProtocol.toLowerCase().replace('_', '-')}`;
  const admin = kafka.admin(config);
  await admin.connect();
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  }
  await admin.disconnect();

  const value = `hello from lambda-kafka over ${listener.securityProtocol} (${randomUUID().slice(0, 8)})`;
  const producer = kafka.producer({ ...config, 'enable.idempotence': true, acks: -1 });
  await producer.connect();
  const [report] = await producer.send({ topic, messages: [{ key: 'demo', value }] });
  await producer.disconnect();
  console.log(`  produced  ${topic}[${report?.partition}]@${report?.baseOffset}: "${value}"`);

  const consumer = kafka.consumer({ ...config, 'group.id': `demo-${randomUUID()}`, 'auto.offset.reset': 'earliest' });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  const received = await new Promise<{ offset: string; value: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message back from ${topic} within 30 s`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString() !== value) return;
          clearTimeout(timer);
          resolve({ offset: message.offset, value: message.value.toString() });
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  console.log(`  consumed  ${topic}@${received.offset}: "${received.value}"`);
}

async function main(): Promise<void> {
  const connection = await startBroker({ log: (line) => console.log(line) });
  console.log(
    `Local Kafka broker ready (cluster ${connection.clusterId}); binding on librdkafka ${RdKafka.librdkafkaVersion}.`,
  );
  for (const name of CLIENT_LISTENERS) {
    const listener = connection.listeners[name];
    console.log(`${name} listener at ${listener.bootstrapServers}:`);
    await roundTrip(listener);
  }
  console.log('Every listener round-tripped a message. Stop the broker with `npm run kafka:stop`.');
}

main().catch((error: Error) => {
  console.error(`Demo failed: ${error.message}`);
  process.exit(1);
});
