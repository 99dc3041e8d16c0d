/**
 * The two peers lambda-kafka is measured against, each in its plain, recommended use: the raw
 * binding (RdKafka.Producer, linger.ms=0, delivery reports through the binding's background poll)
 * and KafkaJS. Both are idempotent with acks=all, like lambda-kafka's producer.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { BenchContext } from './context.js';

/** One message of a benchmark batch: the same object lambda-kafka's event and KafkaJS's send carry. */
export interface Message {
  value: string;
}

interface Batch {
  remaining: number;
  error?: Error;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class RawProducer {
  readonly client: RdKafka.Producer;

  private constructor(client: RdKafka.Producer) {
    this.client = client;
    // One batch object is the opaque of all its messages: the report counts down, nothing per message.
    client.on('delivery-report', (error, report) => {
      const batch = report.opaque as Batch;
      if (error && !batch.error) batch.error = new Error(`raw binding delivery failed: ${error.message}`);
      if (--batch.remaining > 0) return;
      if (batch.error) batch.reject(batch.error);
      else batch.resolve();
    });
  }

  static async connect(ctx: BenchContext, extra: Record<string, string | number> = {}): Promise<RawProducer> {
    const client = new RdKafka.Producer({
      'bootstrap.servers': ctx.bootstrap,
      'client.id': 'bench-raw',
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 0,
      dr_cb: true,
      ...extra,
    } as RdKafka.ProducerGlobalConfig);
    await new Promise<void>((resolve, reject) => client.connect({}, (err) => (err ? reject(err) : resolve())));
    client.setPollInBackground(true);
    return new RawProducer(client);
  }

  /**
   * Queues every message, then waits for all their delivery reports. With `flush`, flush() follows
   * the queueing (librdkafka then sends what is queued at once, whatever linger.ms says) and the send
   * also waits for flush() to return, as an invocation must: a call left running holds one of libuv's
   * pool threads after the answer (with background polling flush() returns in 10 ms steps).
   */
  send(topic: string, messages: readonly Message[], flush = false): Promise<void> {
    const delivered = new Promise<void>((resolve, reject) => {
      const batch: Batch = { remaining: messages.length, resolve, reject };
      for (const message of messages) this.client.produce(topic, null, Buffer.from(message.value), null, null, batch);
    });
    if (!flush) return delivered;
    const flushed = new Promise<void>((resolve) => this.client.flush(30_000, () => resolve()));
    return Promise.all([delivered, flushed]).then(() => {});
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.disconnect(5000, () => resolve()));
  }
}

export function kafkaJs(ctx: BenchContext): Kafka {
  return new Kafka({ clientId: 'bench-kafkajs', brokers: [ctx.bootstrap], logLevel: logLevel.NOTHING });
}

/** KafkaJS's idempotent producer (it requires maxInFlightRequests 1). */
export async function kafkaJsProducer(ctx: BenchContext): Promise<Producer> {
  const producer = kafkaJs(ctx).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** A batch of `count` 1 KB messages, built before any clock starts. */
export function messages(count: number, value: string): Message[] {
  return Array.from({ length: count }, () => ({ value }));
}

/** Fills `topic` with `count` messages of `value` through a raw producer (not measured). */
export async function preload(ctx: BenchContext, topic: string, count: number, value: string): Promise<void> {
  const producer = await RawProducer.connect(ctx, { 'queue.buffering.max.messages': count + 1000, 'linger.ms': 5 });
  try {
    const chunk = messages(10_000, value);
    for (let sent = 0; sent < count; sent += chunk.length) {
      await producer.send(topic, chunk.slice(0, Math.min(chunk.length, count - sent)));
    }
  } finally {
    await producer.close();
  }
}
