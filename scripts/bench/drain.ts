/**
 * Scenario 3: draining a topic of pre-produced messages. Every client starts from a fresh group,
 * joins it first (not timed), then is timed until it has processed them all:
 * - lambda-kafka: repeated invocations of the consume function (consumeBatch() through the
 *   initializer's handler(), a no-op MessageProcessor, idleMs 100) with maxMessages 500 or 10000;
 * - the raw binding: RdKafka.KafkaConsumer, consume(maxMessages) in a loop, an asynchronous
 *   commit() per batch;
 * - KafkaJS: run({ eachBatch }) with its defaults (it has no maxMessages: the same figure twice).
 * Then lambda-kafka's caught-up invocations: how long one takes when there is nothing to read.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import type { MessageProcessor } from '../../src/consume/processor.js';
import { type BenchContext, rounds, uniqueName, VALUE, withTopic } from './context.js';
import { consumeFunction, fakeContext, lambdaEnv } from './lambda.js';
import { kafkaJs, preload } from './peers.js';
import type { Row, ScenarioResult } from './report.js';
import { interleave } from './rounds.js';
import { median } from './stats.js';

const IDLE_MS = 100;
/** A peer's drain that takes longer than this is reported as failed rather than waited for. */
const GIVE_UP_MS = 120_000;
/**
 * lambda-kafka's drain stops after this long (full run, quick run) and its rate is taken over what
 * it processed by then: at a few hundred messages a second, 100k would take the whole run.
 */
const LAMBDA_KAFKA_BUDGET_MS = [30_000, 10_000] as const;
const noop: MessageProcessor = async () => {};

interface Drained {
  messagesPerSecond: number;
  invocations?: number;
  /** Set when the time budget ended the drain first: how many messages it processed. */
  processed?: number;
}

function checkTime(started: number, processed: number, total: number, who: string): void {
  if (performance.now() - started > GIVE_UP_MS) {
    throw new Error(`${who} drained only ${processed} of ${total} messages in ${GIVE_UP_MS / 1000} s`);
  }
}

/** lambda-kafka's consume function for a fresh group of `topic`, joined (one invocation asking for the consumer). */
async function joinedConsumeFunction(ctx: BenchContext, topic: string) {
  const env = lambdaEnv(ctx, { KAFKA_TOPICS: topic, KAFKA_CONSUMER_GROUP_ID: uniqueName('bench-drain-lk') });
  const fn = consumeFunction(env, noop);
  await fn.kafka.handler((_event: unknown, invocation) => fn.kafka.consumer(invocation))({}, fakeContext('bench'));
  return fn;
}

async function drainLambdaKafka(
  ctx: BenchContext,
  topic: string,
  total: number,
  maxMessages: number,
  budgetMs: number,
): Promise<Drained> {
  const fn = await joinedConsumeFunction(ctx, topic);
  try {
    const started = performance.now();
    let processed = 0;
    let invocations = 0;
    while (processed < total && performance.now() - started < budgetMs) {
      processed += (await fn.invoke({ maxMessages, idleMs: IDLE_MS })).processed;
      invocations++;
    }
    const elapsed = performance.now() - started;
    return { messagesPerSecond: processed / (elapsed / 1000), invocations, ...(processed < total && { processed }) };
  } finally {
    await fn.shutdown();
  }
}

/** Invocations of lambda-kafka's consume function with nothing left to read, after draining a small topic. */
async function caughtUpInvocations(ctx: BenchContext, count: number): Promise<number[]> {
  return withTopic(ctx, 'bench-caught-up', async (topic) => {
    await preload(ctx, topic, 300, VALUE);
    const fn = await joinedConsumeFunction(ctx, topic);
    try {
      let processed = 0;
      while (processed < 300) processed += (await fn.invoke({ maxMessages: 500, idleMs: IDLE_MS })).processed;
      const durations: number[] = [];
      for (let i = 0; i < count; i++) {
        const before = performance.now();
        const result = await fn.invoke({ maxMessages: 500, idleMs: IDLE_MS });
        durations.push(performance.now() - before);
        if (result.processed !== 0) throw new Error(`a caught-up invocation processed ${result.processed} messages`);
      }
      return durations;
    } finally {
      await fn.shutdown();
    }
  });
}

function consume(consumer: RdKafka.KafkaConsumer, max: number): Promise<RdKafka.Message[]> {
  return new Promise((resolve, reject) =>
    consumer.consume(max, (err, messages) => (err ? reject(err) : resolve(messages))),
  );
}

async function drainRaw(ctx: BenchContext, topic: string, total: number, maxMessages: number): Promise<Drained> {
  const consumer = new RdKafka.KafkaConsumer(
    {
      'bootstrap.servers': ctx.bootstrap,
      'client.id': 'bench-raw',
      'group.id': uniqueName('bench-drain-raw'),
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    consumer.subscribe([topic]);
    consumer.setDefaultConsumeTimeout(IDLE_MS);
    (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void })
      // Return with what is there once one message arrived, rather than waiting to fill the batch.
      .setDefaultIsTimeoutOnlyForFirstMessage(true);
    let processed = 0;
    while (consumer.assignments().length === 0) processed += (await consume(consumer, 1)).length;
    const started = performance.now();
    while (processed < total) {
      const batch = await consume(consumer, maxMessages);
      processed += batch.length;
      if (batch.length > 0) consumer.commit();
      checkTime(started, processed, total, 'the raw binding');
    }
    return { messagesPerSecond: total / ((performance.now() - started) / 1000) };
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

async function drainKafkaJs(ctx: BenchContext, topic: string, total: number): Promise<Drained> {
  const consumer = kafkaJs(ctx).consumer({ groupId: uniqueName('bench-drain-kafkajs') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let started = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      started = performance.now();
    });
    let processed = 0;
    const elapsed = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`KafkaJS drained only ${processed} of ${total} messages in ${GIVE_UP_MS / 1000} s`)),
        GIVE_UP_MS,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            processed += batch.messages.length;
            if (processed >= total) {
              clearTimeout(timer);
              resolve(performance.now() - started);
            }
          },
        })
        .catch(reject);
    });
    return { messagesPerSecond: total / (elapsed / 1000) };
  } finally {
    await consumer.disconnect();
  }
}

export function runDrain(ctx: BenchContext): Promise<ScenarioResult> {
  return withTopic(ctx, 'bench-drain', async (topic) => {
    const total = ctx.quick ? 20_000 : 100_000;
    const count = rounds(ctx, 3, 1);
    const budgetMs = LAMBDA_KAFKA_BUDGET_MS[ctx.quick ? 1 : 0];
    ctx.progress(`drain: pre-producing ${total} messages to ${topic}`);
    await preload(ctx, topic, total, VALUE);
    const rows: Row[] = [];
    const details: string[] = [];
    for (const maxMessages of [500, 10_000]) {
      ctx.progress(`drain: ${count} rounds of ${total} messages, maxMessages ${maxMessages}`);
      const samples = await interleave<Drained>(
        count,
        {
          lambdaKafka: () => drainLambdaKafka(ctx, topic, total, maxMessages, budgetMs),
          raw: () => drainRaw(ctx, topic, total, maxMessages),
          kafkajs: () => drainKafkaJs(ctx, topic, total),
        },
        ctx.progress,
      );
      const rate = (list: Drained[] | undefined) => median((list ?? []).map((s) => s.messagesPerSecond));
      rows.push({
        measurement: `drain ${total / 1000}k, maxMessages ${maxMessages}`,
        unit: 'msg/s ↑',
        values: { lambdaKafka: rate(samples.lambdaKafka), raw: rate(samples.raw), kafkajs: rate(samples.kafkajs) },
        rounds: count,
      });
      const lk = samples.lambdaKafka ?? [];
      const capped = lk.filter((s) => s.processed !== undefined).map((s) => s.processed);
      details.push(
        `at ${maxMessages}: ${median(lk.map((s) => s.invocations ?? 0))} invocations per drain` +
          (capped.length > 0 ? `, stopped by the ${budgetMs / 1000} s budget after ${capped.join(', ')} messages` : ''),
      );
    }
    const caughtUpCount = rounds(ctx, 9, 3);
    ctx.progress(`drain: ${caughtUpCount} caught-up invocations of lambda-kafka`);
    const caughtUp = await caughtUpInvocations(ctx, caughtUpCount);
    rows.push({
      measurement: `caught-up drain invocation (idleMs ${IDLE_MS}; target ≤ ${IDLE_MS + 20})`,
      unit: 'ms ↓',
      values: { lambdaKafka: median(caughtUp) },
      rounds: caughtUp.length,
    });
    return {
      rows,
      notes: [
        `drain: ${total} messages pre-produced (raw producer) to one topic of 3 partitions; each round a fresh group per client, joined before the clock starts; lambda-kafka: invocations of the consume function (idleMs ${IDLE_MS}, EMF included; ${details.join('; ')}), raw binding: consume(maxMessages) + async commit() per batch, KafkaJS: eachBatch with its defaults (no maxMessages setting: both rows measure the same thing).`,
        `caught-up drain invocation: lambda-kafka's consume function after it drained a topic of 300 messages, ${caughtUpCount} invocations with nothing to read (p50); the whole invocation, EMF included.`,
      ],
    };
  });
}
