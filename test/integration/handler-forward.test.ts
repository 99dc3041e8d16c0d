/**
 * handlers/forward.ts in an emulated Lambda against the local broker. The event is built from real
 * messages: kcat produces them (keys, values, headers) to a source topic, kcat reads them back raw,
 * and they are put in the shape an event source mapping delivers (base64 keys and values, headers
 * as byte arrays, grouped by "<topic>-<partition>"). kcat then reads what was forwarded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { kcat, kcatArgs, readWithKcat } from '../support/kcat.js';
import { handlerEnvironment } from '../support/lambda.js';

interface SourceMessage {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** One message per kcat run, so each gets its own partition and headers (`-H` applies to a whole run). */
async function produceToPartitions(topic: string, messages: readonly SourceMessage[]): Promise<void> {
  for (const m of messages) {
    const headers = Object.entries(m.headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
    const args = [...kcatArgs('PLAINTEXT'), '-P', '-t', topic, '-p', String(m.partition), '-K', '\t', ...headers];
    const result = await kcat([...args, '-X', 'acks=all'], 30_000, `${m.key}\t${m.value}\n`);
    if (result.code !== 0) throw new Error(`kcat -P to ${topic} failed (${result.code}): ${result.stderr}`);
  }
}

/** What kcat -J prints for one message. */
interface RawMessage {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

type EventSource = 'aws:kafka' | 'SelfManagedKafka';

/** The topic read back raw, as the event an event source mapping of `eventSource` would deliver. */
async function mappingEvent(topic: string, eventSource: EventSource) {
  const read = await kcat([...kcatArgs('PLAINTEXT'), '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], 60_000);
  if (read.code !== 0) throw new Error(`kcat -C ${topic} failed (${read.code}): ${read.stderr}`);
  const raw = read.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RawMessage);
  const records: Record<string, unknown[]> = {};
  for (const m of raw.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const headers: Record<string, number[]>[] = [];
    // kcat -J prints headers as a flat [name, value, name, value, ...] array; Lambda gives each value's bytes.
    for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2) {
      headers.push({ [m.headers?.[i] as string]: [...Buffer.from(m.headers?.[i + 1] as string)] });
    }
    const key = `${m.topic}-${m.partition}`;
    records[key] = records[key] ?? [];
    records[key].push({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.ts,
      timestampType: 'CREATE_TIME',
      key: m.key === null ? null : Buffer.from(m.key).toString('base64'),
      value: m.payload === null ? null : Buffer.from(m.payload).toString('base64'),
      headers,
    });
  }
  const mapping = {
    eventSource,
    bootstrapServers: '127.0.0.1:19092',
    ...(eventSource === 'aws:kafka'
      ? { eventSourceArn: 'arn:aws:kafka:eu-west-1:000000000000:cluster/local/00000000-0000-0000-0000-000000000000-1' }
      : {}),
  };
  return { event: { ...mapping, records }, raw };
}

interface Forwarded {
  source: { topic: string; partition: number; offset: number; timestamp: number };
  value: Record<string, unknown>;
}

type Response = { batchItemFailures: { itemIdentifier: { partition: string; offset: number } }[] };

const sasl = () => envFor('SASL_SSL');

describe('a batch from an MSK event source mapping', () => {
  const source = uniqueName('forward-source');
  const target = uniqueName('forward-target');
  const messages: SourceMessage[] = Array.from({ length: 12 }, (_, i) => ({
    partition: i % 3,
    key: `order-${i}`,
    value: JSON.stringify({ order: i, items: ['a', 'b'], note: `ünïcode ${i}` }),
    headers: { 'x-index': String(i), 'x-trace': `trace-${i}` },
  }));

  beforeAll(async () => {
    await createTopic(source, 3);
    await createTopic(target, 2);
    await produceToPartitions(source, messages);
  });

  it('forwards every record once, transformed, with its key and headers, and reports no failure', async () => {
    // Prepare
    const { event, raw } = await mappingEvent(source, 'aws:kafka');
    expect(raw).toHaveLength(12);
    const lambda = await handlerEnvironment('handlers/forward.ts', {
      ...sasl(),
      KAFKA_TOPICS: target,
      KAFKA_FORWARD_TOPIC: target,
    });

    // Act
    const result = await lambda.invoke<Response>(event, 30_000);

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.value).toEqual({ batchItemFailures: [] });
    const forwarded = await readWithKcat('PLAINTEXT', target);
    expect(forwarded).toHaveLength(12);
    for (const m of raw) {
      const copies = forwarded.filter((f) => f.key === m.key);
      expect(copies, `${m.key} forwarded once`).toHaveLength(1);
      const [copy] = copies;
      expect(JSON.parse(copy?.payload as string) as Forwarded).toEqual({
        source: { topic: source, partition: m.partition, offset: m.offset, timestamp: m.ts },
        value: JSON.parse(m.payload as string),
      });
      const i = Number((m.key as string).slice('order-'.length));
      expect(copy?.headers).toEqual(messages[i]?.headers);
    }
  });
});

describe('a batch with a record that cannot be decoded (self-managed Kafka)', () => {
  const source = uniqueName('forward-bad-source');
  const target = uniqueName('forward-bad-target');

  beforeAll(async () => {
    await createTopic(source, 2);
    await createTopic(target, 1);
    await produceToPartitions(source, [
      { partition: 0, key: 'p0-a', value: '{"n":0}', headers: { h: '0' } },
      { partition: 0, key: 'p0-b', value: '{"n":1}', headers: { h: '1' } },
      { partition: 0, key: 'p0-bad', value: 'not json {', headers: { h: '2' } },
      { partition: 0, key: 'p0-after', value: '{"n":3}', headers: { h: '3' } },
      { partition: 1, key: 'p1-a', value: '{"n":4}', headers: { h: '4' } },
      { partition: 1, key: 'p1-b', value: '{"n":5}', headers: { h: '5' } },
    ]);
  });

  it('reports it and the later records of its partition in batchItemFailures, and forwards the rest', async () => {
    // Prepare
    const { event } = await mappingEvent(source, 'SelfManagedKafka');
    const lambda = await handlerEnvironment('handlers/forward.ts', {
      ...sasl(),
      KAFKA_TOPICS: target,
      KAFKA_FORWARD_TOPIC: target,
    });

    // Act
    const result = await lambda.invoke<Response>(event, 30_000);

    // Assess: the undecodable record and the one after it in partition 0 come back; nothing else.
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.value?.batchItemFailures).toEqual([
      { itemIdentifier: { partition: `${source}-0`, offset: 2 } },
      { itemIdentifier: { partition: `${source}-0`, offset: 3 } },
    ]);
    const forwarded = await readWithKcat('PLAINTEXT', target);
    expect(forwarded.map((f) => f.key).sort()).toEqual(['p0-a', 'p0-b', 'p1-a', 'p1-b']);
    expect(forwarded.find((f) => f.key === 'p1-b')?.headers).toEqual({ h: '5' });
    const warnings = result.output.filter((line) => line.includes('"Record not forwarded"'));
    expect(warnings.map((line) => JSON.parse(line).error)).toEqual([
      'cannot decode the record: KafkaConsumerParserError: Schema validation failed: the value must be a JSON object',
      'held back: an earlier record of its partition was not produced',
    ]);
  });

  it('fails the invocation, sending nothing, when KAFKA_FORWARD_TOPIC is a topic the mapping reads', async () => {
    const { event } = await mappingEvent(source, 'SelfManagedKafka');
    const lambda = await handlerEnvironment('handlers/forward.ts', { ...sasl(), KAFKA_FORWARD_TOPIC: source });
    const result = await lambda.invoke<Response>(event, 30_000);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(
      new RegExp(
        `KAFKA_FORWARD_TOPIC \\(${source}\\) is a topic the event source mapping reads: forwarding would loop`,
      ),
    );
    const { raw } = await mappingEvent(source, 'SelfManagedKafka');
    expect(raw).toHaveLength(6);
  });
});
