/**
 * Scenario 1: a warm invocation that sends one message and waits for its acknowledgement.
 * lambda-kafka: the produce function's handler() (begin, produce(), the EMF flush); the raw
 * binding: produce() and its delivery report; KafkaJS: producer.send().
 */
import { type BenchContext, rounds, VALUE, withTopic } from './context.js';
import { assertDelivered, lambdaEnv, produceFunction } from './lambda.js';
import { kafkaJsProducer, messages, RawProducer } from './peers.js';
import type { ScenarioResult } from './report.js';
import { interleave } from './rounds.js';
import type { StdoutSink } from './sink.js';
import { median, quantile } from './stats.js';

const WARM_UP = 20;

export function runLatency(ctx: BenchContext, sink: StdoutSink): Promise<ScenarioResult> {
  return withTopic(ctx, 'bench-latency', async (topic) => {
    const count = rounds(ctx, 1000, 200);
    ctx.progress(`latency: ${count} rounds of one-message invocations on ${topic}`);
    const lambdaKafka = produceFunction(lambdaEnv(ctx, { KAFKA_TOPICS: topic }));
    // The same function without the tracing code path: the cost of tracing with no SDK registered.
    const untraced = produceFunction(lambdaEnv(ctx, { KAFKA_TOPICS: topic, KAFKA_TRACING: 'false' }));
    let untracedSamples: number[] = [];
    let untracedFirst = false;
    const raw = await RawProducer.connect(ctx);
    const kafkajs = await kafkaJsProducer(ctx);
    const one = messages(1, VALUE);
    const event = { messages: one };
    const timed = async (send: () => Promise<unknown>) => {
      const started = performance.now();
      await send();
      return performance.now() - started;
    };
    const traced = () => timed(async () => assertDelivered(await lambdaKafka.invoke(event), 1));
    const plain = () => timed(async () => assertDelivered(await untraced.invoke(event), 1));
    const contenders = {
      // Both variants in every round, in alternating order; the round's figure is the default one's.
      lambdaKafka: async () => {
        untracedFirst = !untracedFirst;
        if (untracedFirst) {
          untracedSamples.push(await plain());
          return traced();
        }
        const figure = await traced();
        untracedSamples.push(await plain());
        return figure;
      },
      raw: () => timed(() => raw.send(topic, one)),
      kafkajs: () => timed(() => kafkajs.send({ topic, acks: -1, messages: one })),
    };
    try {
      await interleave(WARM_UP, contenders);
      untracedSamples = [];
      const emfBefore = sink.emfDocuments;
      const samples = await interleave(count, contenders, ctx.progress);
      // Two lambda-kafka invocations a round.
      const emfPerInvocation = (sink.emfDocuments - emfBefore) / count / 2;
      const tracedP50 = median(samples.lambdaKafka ?? []);
      const untracedP50 = median(untracedSamples);
      const figures = (q: (s: number[]) => number) => ({
        lambdaKafka: q(samples.lambdaKafka ?? []),
        raw: q(samples.raw ?? []),
        kafkajs: q(samples.kafkajs ?? []),
      });
      return {
        rows: [
          { measurement: '1-message invocation, p50', unit: 'ms ↓', values: figures(median), rounds: count },
          {
            measurement: '1-message invocation, p99',
            unit: 'ms ↓',
            values: figures((s) => quantile(s, 0.99)),
            rounds: count,
          },
          {
            measurement: 'the same, KAFKA_TRACING=false, p50',
            unit: 'ms ↓',
            values: { lambdaKafka: untracedP50 },
            rounds: count,
          },
        ],
        notes: [
          `Tracing with no OpenTelemetry SDK registered (the default KAFKA_TRACING=true; @opentelemetry/api installed): p50 ${tracedP50.toFixed(3)} ms against ${untracedP50.toFixed(3)} ms with KAFKA_TRACING=false, which skips the tracing code path (${((tracedP50 / untracedP50 - 1) * 100).toFixed(1)} %); both in every round, in alternating order.`,
          `1-message invocation: lambda-kafka's figure is a whole invocation of the produce function's handler() (begin, validation, send, EMF flush: ${emfPerInvocation.toFixed(2)} EMF documents per invocation, written to /dev/null with POWERTOOLS_LOG_LEVEL=WARN); raw binding: produce() + delivery report, linger.ms=0; KafkaJS: send(). ${WARM_UP} warm-up rounds not counted; topic of 3 partitions.`,
        ],
      };
    } finally {
      await Promise.all([lambdaKafka.shutdown(), untraced.shutdown(), raw.close(), kafkajs.disconnect()]);
    }
  });
}
