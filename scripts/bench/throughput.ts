/**
 * Scenario 2: produce throughput at 1, 500 and 5000 messages per invocation. A round is a few
 * invocations of one client, enough messages to outlast the clock's noise; messages/s is the round's
 * messages over its wall time, CPU µs/message is process.cpuUsage() (user + system, every thread of
 * the process: librdkafka's included) over the round. Each client in its best settings for the
 * shape: lambda-kafka's produce function with the N messages in one event; the raw binding queueing
 * all N, then waiting for all N reports — for 500 and 5000 both with linger.ms=0 and with
 * linger.ms=50 and flush() after the queueing (waited for, as an invocation must), the better of the
 * two counting; KafkaJS one send() with the N messages.
 */
import { type BenchContext, rounds, VALUE, withTopic } from './context.js';
import { assertDelivered, lambdaEnv, produceFunction } from './lambda.js';
import { kafkaJsProducer, messages, RawProducer } from './peers.js';
import type { ClientName, Row, ScenarioResult } from './report.js';
import { interleave } from './rounds.js';
import { median } from './stats.js';

/** Messages per invocation, and invocations per round (full run, quick run). */
const SHAPES = [
  { perInvocation: 1, invocations: [100, 50] },
  { perInvocation: 500, invocations: [10, 4] },
  { perInvocation: 5000, invocations: [2, 1] },
] as const;

/**
 * KafkaJS puts a send()'s messages for one partition into one record batch, and 5000 × 1 KB over 3
 * partitions is more than the broker's message.max.bytes (1 MB): it sends larger batches in slices.
 */
const KAFKAJS_MAX_SEND = 1000;
/** The raw binding's linger for batches, which flush() after the queueing cuts short. */
const RAW_BATCH_LINGER_MS = 50;

function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

interface Sample {
  messagesPerSecond: number;
  cpuMicrosPerMessage: number;
}

async function measure(invocations: number, perInvocation: number, invoke: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < invocations; i++) await invoke();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const total = invocations * perInvocation;
  return { messagesPerSecond: total / seconds, cpuMicrosPerMessage: (used.user + used.system) / total };
}

export function runThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  return withTopic(ctx, 'bench-throughput', async (topic) => {
    // Many short rounds rather than a few long ones: a stall of the shared machine spoils one round, not the median.
    const count = rounds(ctx, 15, 5);
    const lambdaKafka = produceFunction(lambdaEnv(ctx, { KAFKA_TOPICS: topic }));
    const raw = await RawProducer.connect(ctx);
    const rawBatching = await RawProducer.connect(ctx, { 'linger.ms': RAW_BATCH_LINGER_MS });
    const kafkajs = await kafkaJsProducer(ctx);
    const rows: Row[] = [];
    const rawChoices: string[] = [];
    try {
      for (const shape of SHAPES) {
        const n = shape.perInvocation;
        const invocations = shape.invocations[ctx.quick ? 1 : 0];
        const batch = messages(n, VALUE);
        const event = { messages: batch };
        const chunks = chunked(batch, KAFKAJS_MAX_SEND);
        // The raw binding runs both its settings in its turn; the better (by messages/s) stands for it.
        const contenders = {
          lambdaKafka: () => measure(invocations, n, async () => assertDelivered(await lambdaKafka.invoke(event), n)),
          raw: async () => ({
            ...(await measure(invocations, n, () => raw.send(topic, batch))),
            ...(n > 1 && { flushed: await measure(invocations, n, () => rawBatching.send(topic, batch, true)) }),
          }),
          kafkajs: () =>
            measure(invocations, n, async () => {
              for (const chunk of chunks) await kafkajs.send({ topic, acks: -1, messages: chunk });
            }),
        };
        ctx.progress(`throughput: ${count} rounds of ${invocations} invocations × ${n} messages`);
        await interleave(1, contenders);
        const samples = await interleave<Sample & { flushed?: Sample }>(count, contenders, ctx.progress);
        const rawPlain = samples.raw ?? [];
        const rawFlushed = rawPlain.flatMap((s) => (s.flushed ? [s.flushed] : []));
        const flushedBetter =
          rawFlushed.length > 0 &&
          median(rawFlushed.map((s) => s.messagesPerSecond)) > median(rawPlain.map((s) => s.messagesPerSecond));
        if (n > 1) {
          rawChoices.push(
            `${n}: ${flushedBetter ? 'linger.ms=50 + flush()' : 'linger.ms=0'} (${Math.round(median(rawPlain.map((s) => s.messagesPerSecond)))} vs ${Math.round(median(rawFlushed.map((s) => s.messagesPerSecond)))} msg/s)`,
          );
        }
        const figure = (pick: (s: Sample) => number): Partial<Record<ClientName, number>> => ({
          lambdaKafka: median((samples.lambdaKafka ?? []).map(pick)),
          raw: median((flushedBetter ? rawFlushed : rawPlain).map(pick)),
          kafkajs: median((samples.kafkajs ?? []).map(pick)),
        });
        rows.push(
          {
            measurement: `produce, ${n} msg/invocation`,
            unit: 'msg/s ↑',
            values: figure((s) => s.messagesPerSecond),
            rounds: count,
          },
          {
            measurement: `produce, ${n} msg/invocation, CPU`,
            unit: 'µs/msg ↓',
            values: figure((s) => s.cpuMicrosPerMessage),
            rounds: count,
          },
        );
      }
    } finally {
      await Promise.all([lambdaKafka.shutdown(), raw.close(), rawBatching.close(), kafkajs.disconnect()]);
    }
    return {
      rows,
      notes: [
        `produce throughput: a round is ${SHAPES.map((s) => `${s.invocations[ctx.quick ? 1 : 0]}×${s.perInvocation}`).join(', ')} messages per client, one warm-up round first; CPU is process.cpuUsage() (all threads) per message; lambda-kafka: whole invocations (EMF included), raw binding: queue all then wait for every report (1 message: linger.ms=0; 500 and 5000: the better of linger.ms=0 and linger.ms=50 with flush() after queueing, the flush waited for as an invocation must — chosen: ${rawChoices.join('; ')}), KafkaJS: one send() per batch (5000 as 5 sends of 1000: one send of 5000 × 1 KB makes record batches over the broker's 1 MB message.max.bytes).`,
      ],
    };
  });
}
