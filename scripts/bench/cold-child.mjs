/**
 * One fresh process of the cold-start scenario (scripts/bench/cold-start.ts): loads one client,
 * sends one 1 KB message, and prints BENCH-ACKNOWLEDGED once it is acknowledged. Plain JavaScript,
 * so that nothing but the client itself is loaded.
 *
 *   node cold-child.mjs lambda-kafka|raw|kafkajs|baseline     (BENCH_BOOTSTRAP, BENCH_TOPIC, BENCH_BUNDLE)
 *
 * `baseline` loads nothing and sends nothing: what every client's figure includes of Node itself.
 */
const client = process.argv[2];
const { BENCH_BOOTSTRAP: bootstrap, BENCH_TOPIC: topic, BENCH_BUNDLE: bundle } = process.env;
const value = 'x'.repeat(1024);

async function lambdaKafka() {
  // The bundled produce function, as Lambda loads it; its initializer reads KAFKA_* from the environment.
  const { handler } = await import(bundle);
  const deadline = Date.now() + 30_000;
  const context = { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: 'cold', functionName: 'cold' };
  const result = await handler({ messages: [{ value }] }, context);
  if (result.sent !== 1) throw new Error(`not sent: ${JSON.stringify(result.results[0])}`);
}

async function raw() {
  const { RdKafka } = (await import('@confluentinc/kafka-javascript')).default;
  const producer = new RdKafka.Producer({
    'bootstrap.servers': bootstrap,
    'enable.idempotence': true,
    acks: -1,
    'linger.ms': 0,
    dr_cb: true,
  });
  await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())));
  producer.setPollInBackground(true);
  await new Promise((resolve, reject) => {
    producer.once('delivery-report', (err) => (err ? reject(err) : resolve()));
    producer.produce(topic, null, Buffer.from(value), null, null);
  });
}

async function kafkajs() {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({ clientId: 'bench-cold', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value }] });
}

const clients = { 'lambda-kafka': lambdaKafka, raw, kafkajs, baseline: async () => {} };
try {
  await clients[client]();
  process.stdout.write('BENCH-ACKNOWLEDGED\n');
  process.exit(0);
} catch (error) {
  process.stderr.write(`${client}: ${error.stack ?? error}\n`);
  process.exit(1);
}
