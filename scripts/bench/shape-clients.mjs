/**
 * The four clients of the shapes scenario as its child process (shape-child.mjs) uses them, each
 * loaded only when asked for, so that a child loads one client and nothing else:
 * - lambda-kafka: the deployed produce function (the package's dist/produce/index.mjs) and a consume
 *   function bundled the same way with a no-op processor (consume-entry.ts), called as Lambda calls them;
 * - raw: the package's own binding, RdKafka.Producer / KafkaConsumer in their plain use;
 * - kafkajs: KafkaJS's idempotent producer and its consumer's eachBatch;
 * - platformatic: @platformatic/kafka's Producer (idempotent, acks all) and Consumer stream.
 *
 * A producer has prepare(n) (the n messages in the client's own form, built before any clock
 * starts) and send(prepared, context), which resolves once all n are acknowledged or throws; context
 * is the invocation's Lambda context (lambdaContext()).
 * A drain reads `total` messages with a fresh group from the earliest offset and says when the
 * first and the last arrived.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * KafkaJS and @platformatic/kafka make one record batch per partition of a send(): 5000 × 1 KB over
 * 3 partitions passes the broker's 1 MB message.max.bytes (MESSAGE_TOO_LARGE), so they send in slices.
 */
const MAX_SEND = 1000;
/** How long one fake invocation may run (its Lambda timeout). */
const INVOCATION_TIMEOUT_MS = 60_000;

function binding(options) {
  return createRequire(join(options.packageDir, 'package.json'))('@confluentinc/kafka-javascript');
}

/**
 * The Lambda context the runtime passes: a deadline, a fresh request id, the function's memory. The
 * runtime builds it before it calls any function's handler, so the child builds one per send for
 * every client, before its clock starts (only lambda-kafka's handler reads it).
 */
export function lambdaContext(options) {
  const deadline = Date.now() + INVOCATION_TIMEOUT_MS;
  return {
    getRemainingTimeInMillis: () => deadline - Date.now(),
    awsRequestId: randomUUID(),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: String(options.memoryMb),
  };
}

function values(n, value) {
  return Array.from({ length: n }, () => value);
}

function slices(items) {
  const result = [];
  for (let i = 0; i < items.length; i += MAX_SEND) result.push(items.slice(i, i + MAX_SEND));
  return result;
}

export const producers = {
  async 'lambda-kafka'(options) {
    const { handler } = await import(options.produceBundle);
    return {
      prepare: (n) => ({ messages: values(n, options.value).map((value) => ({ value })) }),
      async send(event, context) {
        const result = await handler(event, context);
        if (result.sent !== event.messages.length) {
          const failed = result.results?.find((r) => !r.ok);
          throw new Error(`lambda-kafka sent ${result.sent} of ${event.messages.length}: ${JSON.stringify(failed)}`);
        }
      },
    };
  },

  async raw(options) {
    const { RdKafka } = binding(options);
    const producer = new RdKafka.Producer({
      'bootstrap.servers': options.bootstrap,
      'client.id': 'bench-shapes-raw',
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 0,
      dr_cb: true,
    });
    await new Promise((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())));
    producer.setPollInBackground(true);
    // One listener; a send's opaque is its own countdown, settled by its last report.
    producer.on('delivery-report', (err, report) => {
      const batch = report.opaque;
      if (err && !batch.error) batch.error = new Error(`raw binding delivery failed: ${err.message}`);
      if (--batch.remaining > 0) return;
      if (batch.error) batch.reject(batch.error);
      else batch.resolve();
    });
    return {
      prepare: (n) => values(n, options.value),
      send: (batchValues) =>
        new Promise((resolve, reject) => {
          const batch = { remaining: batchValues.length, resolve, reject };
          for (const value of batchValues) producer.produce(options.topic, null, Buffer.from(value), null, null, batch);
        }),
    };
  },

  async kafkajs(options) {
    const { Kafka, logLevel } = (await import('kafkajs')).default;
    const kafka = new Kafka({
      clientId: 'bench-shapes-kafkajs',
      brokers: [options.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return {
      prepare: (n) => slices(values(n, options.value).map((value) => ({ value }))),
      async send(chunks) {
        for (const messages of chunks) await producer.send({ topic: options.topic, acks: -1, messages });
      },
    };
  },

  async platformatic(options) {
    const { Producer, ProduceAcks, stringSerializers } = await import('@platformatic/kafka');
    const producer = new Producer({
      clientId: 'bench-shapes-platformatic',
      bootstrapBrokers: [options.bootstrap],
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
    });
    return {
      prepare: (n) => slices(values(n, options.value).map((value) => ({ topic: options.topic, value }))),
      async send(chunks) {
        for (const messages of chunks) await producer.send({ messages });
      },
    };
  },
};

/** The clock of a drain: when it started (after the client's module loaded), its first and its last message. */
class DrainClock {
  started = performance.now();
  first = undefined;
  last = undefined;
  processed = 0;

  count(n) {
    if (n === 0) return;
    const now = performance.now();
    this.first ??= now;
    this.last = now;
    this.processed += n;
  }

  result() {
    return { processed: this.processed, wallMs: this.last - this.started, readingMs: this.last - this.first };
  }
}

function groupId(client) {
  return `bench-shapes-${client}-${randomUUID().slice(0, 8)}`;
}

export const drains = {
  async 'lambda-kafka'(options, total) {
    // The consume function reads KAFKA_CONSUMER_GROUP_ID from the environment the parent set.
    const { handler, counted } = await import(options.consumeBundle);
    const clock = new DrainClock();
    const event = { maxMessages: 500, idleMs: 1000 };
    let empty = 0;
    while (counted.messages < total) {
      const result = await handler(event, lambdaContext(options));
      if (result.error) throw new Error(`lambda-kafka's drain failed: ${result.error}`);
      // The first invocation may end before the group has assigned it anything; five in a row that read nothing is a stall.
      if (result.processed > 0) empty = 0;
      else if (++empty >= 5) {
        throw new Error(
          `lambda-kafka's drain read nothing 5 times in a row at ${counted.messages} of ${total} (${result.stoppedBecause})`,
        );
      }
      clock.count(counted.messages - clock.processed);
    }
    return clock.result();
  },

  async raw(options, total) {
    const { RdKafka } = binding(options);
    // librdkafka's defaults otherwise, its prefetch (queued.max.messages.kbytes, fetch.max.bytes) included.
    const consumer = new RdKafka.KafkaConsumer(
      {
        'bootstrap.servers': options.bootstrap,
        'client.id': 'bench-shapes-raw',
        'group.id': groupId('raw'),
        'enable.auto.commit': false,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    const clock = new DrainClock();
    await new Promise((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
    consumer.subscribe([options.topic]);
    consumer.setDefaultConsumeTimeout(1000);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    while (clock.processed < total) {
      const batch = await new Promise((resolve, reject) =>
        consumer.consume(500, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      clock.count(batch.length);
      if (batch.length > 0) consumer.commit();
    }
    return clock.result();
  },

  async kafkajs(options, total) {
    const { Kafka, logLevel } = (await import('kafkajs')).default;
    const kafka = new Kafka({
      clientId: 'bench-shapes-kafkajs',
      brokers: [options.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: groupId('kafkajs') });
    const clock = new DrainClock();
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await new Promise((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            clock.count(batch.messages.length);
            if (clock.processed >= total) resolve();
          },
        })
        .catch(reject);
    });
    return clock.result();
  },

  async platformatic(options, total) {
    const { Consumer, MessagesStreamModes, MessagesStreamFallbackModes } = await import('@platformatic/kafka');
    const consumer = new Consumer({
      clientId: 'bench-shapes-platformatic',
      groupId: groupId('platformatic'),
      bootstrapBrokers: [options.bootstrap],
    });
    const clock = new DrainClock();
    // A fresh group has nothing committed: it starts from the earliest offset (autocommit after each fetch, the default).
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    });
    for await (const _message of stream) {
      clock.count(1);
      if (clock.processed >= total) break;
    }
    return clock.result();
  },
};
