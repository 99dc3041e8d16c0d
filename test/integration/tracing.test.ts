/**
 * One trace through Kafka, with OpenTelemetry's SDK and its in-memory exporter, through the local
 * broker: the produce path's PRODUCER span and the trace context it writes into each message's
 * headers; the consume function's and the forward function's CONSUMER span per batch, the
 * producer's child for one message, linked to every producer for several.
 */

import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import middy from '@middy/core';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeBatch } from '../../src/consume/consume.js';
import type { ConsumedMessage } from '../../src/consume/processor.js';
import { type ForwardEvent, forward } from '../../src/forward/forward.js';
import { FORWARD_SCHEMA } from '../../src/forward/records.js';
import { KafkaInitializer } from '../../src/init/initializer.js';
import { kafkaInvocation, kafkaMiddleware } from '../../src/middy.js';
import { type DirectResult, produce } from '../../src/produce/produce.js';
import { lambdaContext } from '../support/context.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const XRAY = 'Root=1-6742a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1';
const initializers: KafkaInitializer[] = [];
/** Every line the library logged (Powertools writes JSON to stdout). */
const logged: Record<string, unknown>[] = [];
const write = process.stdout.write.bind(process.stdout);

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
  // The library's lines (and EMF documents) are kept, not printed: they would fill the test run's output.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const lines = String(chunk).split('\n');
    for (const line of lines) {
      if (line.startsWith('{"level"')) logged.push(JSON.parse(line) as Record<string, unknown>);
    }
    if (lines.every((line) => line === '' || line.startsWith('{'))) return true;
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
});
afterAll(async () => {
  process.stdout.write = write;
  await Promise.all(initializers.map((kafka) => kafka.shutdown('done')));
  trace.disable();
  context.disable();
});

function initializer(env: Record<string, string>): KafkaInitializer {
  const kafka = new KafkaInitializer({
    env: { ...env, AWS_LAMBDA_FUNCTION_NAME: 'tracing-test' },
    handleSigterm: false,
  });
  initializers.push(kafka);
  return kafka;
}

/** A produce function: each invocation sends `keys` to `topic`, under the X-Ray id Lambda would set. */
function producer(topic: string, env = envFor('SASL_SSL')) {
  const kafka = initializer({ ...env, KAFKA_TOPICS: topic });
  const handler = kafka.handler((event: { messages: { key: string; value: string }[] }, invocation) =>
    produce(kafka, event, invocation),
  );
  return async (keys: string[], value = (key: string) => key) => {
    process.env._X_AMZN_TRACE_ID = XRAY;
    try {
      return (await handler(
        { messages: keys.map((key) => ({ key, value: value(key) })) },
        lambdaContext(),
      )) as DirectResult;
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
  };
}

/** A consume function whose processor keeps each message, starts a span of its own and logs a line. */
function consumer(topic: string) {
  const kafka = initializer({
    ...envFor('PLAINTEXT'),
    KAFKA_TOPICS: topic,
    KAFKA_CONSUMER_GROUP_ID: uniqueName('trace'),
  });
  const received: ConsumedMessage[] = [];
  const handler = kafka.handler((event: { idleMs: number }, invocation) =>
    consumeBatch(kafka, event, invocation, async (message, { log }) => {
      received.push(message);
      trace.getTracer('user').startSpan(`handle ${message.topic} ${message.key}`).end();
      log.info('Handled', { key: message.key });
    }),
  );
  return { received, drain: () => handler({ idleMs: 1500 }, lambdaContext()) };
}

/** The event an MSK event source mapping delivers for `messages` (base64 keys and values, header bytes). */
function mappingEvent(messages: readonly ConsumedMessage[]) {
  const records: Record<string, unknown[]> = {};
  for (const m of messages) {
    const key = `${m.topic}-${m.partition}`;
    records[key] ??= [];
    records[key].push({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp ?? Date.now(),
      timestampType: 'CREATE_TIME',
      key: m.key === null ? null : Buffer.from(m.key).toString('base64'),
      value: m.value === null ? null : m.value.toString('base64'),
      headers: Object.entries(m.headers).map(([name, value]) => ({ [name]: [...Buffer.from(value)] })),
    });
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:000000000000:cluster/local/00000000-0000-0000-0000-000000000000-1',
    bootstrapServers: '127.0.0.1:19092',
    records,
  };
}

const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const only = (name: string): ReadableSpan => {
  const spans = spansNamed(name);
  expect(
    spans.map((s) => s.name),
    `spans named ${name}`,
  ).toEqual([name]);
  return spans[0] as ReadableSpan;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('tracing through Kafka with an OpenTelemetry SDK registered', () => {
  it('a message produced in one invocation and read by the consume and the forward functions is one trace', async () => {
    // Prepare
    const [topic, target] = [uniqueName('traced'), uniqueName('traced-fwd')];
    await createTopic(topic, 1);
    await createTopic(target, 1);
    const send = producer(topic);
    const read = consumer(topic);
    const forwarder = initializer({ ...envFor('PLAINTEXT'), KAFKA_TOPICS: target, KAFKA_FORWARD_TOPIC: target });
    const forwardHandler = kafkaConsumer(
      forwarder.handler((event: ForwardEvent, invocation) => forward(forwarder, event, invocation)),
      FORWARD_SCHEMA,
    );
    const readForwarded = consumer(target);

    // Act: produce under an invocation span, as an instrumented Lambda has one
    const invocationSpan = trace.getTracer('lambda').startSpan('produce-function');
    const sent = await context.with(trace.setSpan(context.active(), invocationSpan), () =>
      send(['k1'], () => JSON.stringify({ id: 1 })),
    );
    invocationSpan.end();
    await read.drain();
    const [message] = read.received;
    await forwardHandler(mappingEvent(read.received) as never, lambdaContext() as never);
    await readForwarded.drain();

    // Assess: the send
    expect(sent.results[0]).toMatchObject({ ok: true, partition: 0 });
    const sendSpan = only(`send ${topic}`);
    const { traceId, spanId } = sendSpan.spanContext();
    expect(sendSpan.kind).toBe(3);
    expect(parentOf(sendSpan)).toBe(invocationSpan.spanContext().spanId);
    expect(sendSpan.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': Number((sent.results[0] as { offset: string }).offset),
      'messaging.client.id': 'tracing-test',
      'server.address': '127.0.0.1',
    });
    // the headers the message carries
    expect(message?.headers).toMatchObject({ traceparent: `00-${traceId}-${spanId}-01`, 'x-amzn-trace-id': XRAY });
    // the consume function (the batch span with the group): the producer's child, linked to it,
    // its processor's span inside it; the forward function's batch span (no group) is the other
    const batches = spansNamed(`process ${topic}`);
    expect(batches).toHaveLength(2);
    const processSpan = batches.find(
      (s) => s.attributes['messaging.consumer.group.name'] !== undefined,
    ) as ReadableSpan;
    const forwardBatch = batches.find((s) => s !== processSpan) as ReadableSpan;
    expect(processSpan.kind).toBe(4);
    expect(processSpan.spanContext().traceId).toBe(traceId);
    expect(parentOf(processSpan)).toBe(spanId);
    expect(processSpan.links.map((l) => l.context.spanId)).toEqual([spanId]);
    expect(processSpan.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': message?.offset,
    });
    expect(processSpan.attributes['messaging.consumer.group.name']).toMatch(/^trace-/);
    expect(parentOf(only(`handle ${topic} k1`))).toBe(processSpan.spanContext().spanId);
    // the forward function: its batch span is the producer's child too, and its send is the batch span's
    expect(forwardBatch.kind).toBe(4);
    expect(parentOf(forwardBatch)).toBe(spanId);
    expect(forwardBatch.links.map((l) => l.context.spanId)).toEqual([spanId]);
    const forwardSend = only(`send ${target}`);
    expect(forwardSend.spanContext().traceId).toBe(traceId);
    expect(parentOf(forwardSend)).toBe(forwardBatch.spanContext().spanId);
    // the forwarded message carries the forward's send, and its reader continues the same trace
    expect(readForwarded.received[0]?.headers.traceparent).toBe(`00-${traceId}-${forwardSend.spanContext().spanId}-01`);
    expect(only(`process ${target}`).spanContext().traceId).toBe(traceId);
    // the processor's log line carries the producer's trace id
    expect(logged.find((l) => l.message === 'Handled' && l.key === 'k1')).toMatchObject({ trace_id: traceId });
  }, 120_000);

  it("a batch of several producers' messages is one span linked to each producer, and each message's log line has its producer's trace id", async () => {
    // Prepare
    const topic = uniqueName('traced-batch');
    await createTopic(topic, 1);
    const send = producer(topic);
    const read = consumer(topic);

    // Act: three invocations, three sends (three traces), one drain
    for (const key of ['a', 'b', 'c']) await send([key]);
    await read.drain();

    // Assess
    const sends = spansNamed(`send ${topic}`);
    expect(sends).toHaveLength(3);
    expect(new Set(sends.map((s) => s.spanContext().traceId)).size).toBe(3);
    const batch = only(`process ${topic}`);
    expect(batch.attributes['messaging.batch.message_count']).toBe(3);
    expect(batch.attributes['messaging.kafka.offset']).toBeUndefined();
    expect(parentOf(batch)).toBeUndefined();
    expect(batch.links.map((l) => l.context.spanId).sort()).toEqual(sends.map((s) => s.spanContext().spanId).sort());
    for (const [i, key] of ['a', 'b', 'c'].entries()) {
      const line = logged.find((l) => l.message === 'Handled' && l.key === key);
      expect(line?.trace_id).toBe(sends[i]?.spanContext().traceId);
    }
  }, 120_000);

  it("a failed send's span carries the classified cause; no span and no header carries a secret", async () => {
    // Prepare: SASL_SSL, whose password must appear nowhere
    const topic = uniqueName('traced-fail');
    await createTopic(topic, 1);
    const env = envFor('SASL_SSL');
    const send = producer(topic, env);
    const read = consumer(topic);

    // Act: one message over the producer's message.max.bytes (1 MB), one that fits
    const failed = await send(['too-big'], () => 'x'.repeat(1_100_000));
    const fine = await send(['fits']);
    await read.drain();

    // Assess
    expect(failed.results[0]).toMatchObject({ ok: false, errorName: 'MSG_SIZE_TOO_LARGE' });
    expect(fine.results[0]?.ok).toBe(true);
    const [bad, good] = spansNamed(`send ${topic}`);
    expect(bad?.status.code).toBe(2);
    expect(bad?.status.message).toMatch(/^MSG_SIZE_TOO_LARGE \(10\): /);
    expect(bad?.attributes['error.type']).toBe('MSG_SIZE_TOO_LARGE');
    expect(good?.status.code).toBe(0);
    const everything = JSON.stringify([
      exporter.getFinishedSpans().map((s) => [s.name, s.attributes, s.status, s.links, s.events]),
      read.received.map((m) => m.headers),
    ]);
    expect(env.KAFKA_SASL_PASSWORD?.length).toBeGreaterThan(8);
    expect(everything).not.toContain(env.KAFKA_SASL_PASSWORD);
    expect(Object.keys(read.received[0]?.headers ?? {}).sort()).toEqual(['traceparent', 'x-amzn-trace-id']);
  }, 120_000);

  it('KAFKA_TRACE_HEADERS=false keeps the spans and writes no header; KAFKA_TRACING=false makes neither', async () => {
    // Prepare
    const topic = uniqueName('traced-off');
    await createTopic(topic, 1);
    const noHeaders = producer(topic, { ...envFor('PLAINTEXT'), KAFKA_TRACE_HEADERS: 'false' });
    const off = producer(topic, { ...envFor('PLAINTEXT'), KAFKA_TRACING: 'false' });
    const read = consumer(topic);

    // Act
    await noHeaders(['no-headers']);
    await off(['off']);
    await read.drain();

    // Assess: one send span (the first producer's), and no message carries a header
    expect(spansNamed(`send ${topic}`)).toHaveLength(1);
    expect(read.received.map((m) => [m.key, m.headers])).toEqual([
      ['no-headers', {}],
      ['off', {}],
    ]);
  }, 120_000);

  it('a middy handler of your own that sends through kafka.producer() is traced the same way', async () => {
    // Prepare: as test/fixtures/middy-handler.ts, in this process
    const topic = uniqueName('traced-middy');
    await createTopic(topic, 1);
    const kafka = initializer({ ...envFor('PLAINTEXT'), KAFKA_TOPICS: topic });
    const handler = middy(async (event: { values: string[] }, lambda: Context) => {
      const producer = await kafka.producer(kafkaInvocation(lambda));
      const { results } = await producer.send(
        event.values.map((value) => ({ topic, value })),
        kafkaInvocation(lambda).deadline,
      );
      return results.filter((r) => r.ok).length;
    }).use(kafkaMiddleware(kafka));
    const read = consumer(topic);

    // Act
    const sent = await handler({ values: ['one', 'two'] }, lambdaContext() as unknown as Context);
    await read.drain();

    // Assess
    expect(sent).toBe(2);
    const span = only(`send ${topic}`);
    expect(span.attributes).toMatchObject({
      'messaging.batch.message_count': 2,
      'messaging.destination.partition.id': '0',
    });
    const { traceId, spanId } = span.spanContext();
    for (const message of read.received) expect(message.headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(only(`process ${topic}`).links).toHaveLength(2);
  }, 120_000);
});
