/**
 * The forward function's pure parts: what one record becomes, which records wait for an earlier
 * failure of their partition, and the partial batch response. Records are decoded by Powertools'
 * kafkaConsumer exactly as handlers/forward.ts has them decoded.
 */
import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import type { MSKEvent } from '@aws-lambda-powertools/kafka/types';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors/errors.js';
import { batchItemFailures, prepare } from '../../src/forward/forward.js';
import { FORWARD_SCHEMA, type SourceRecord, toOutgoing } from '../../src/forward/records.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const bytes = (text: string) => [...Buffer.from(text)];

interface RawRecord {
  partition: number;
  offset: number;
  key?: string | null;
  value: string | null;
  headers?: Record<string, number[]>[];
}

function mskEvent(topic: string, records: RawRecord[]): MSKEvent {
  const grouped: MSKEvent['records'] = {};
  for (const r of records) {
    const key = `${topic}-${r.partition}`;
    grouped[key] = grouped[key] ?? [];
    grouped[key].push({
      topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: 1_700_000_000_000 + r.offset,
      timestampType: 'CREATE_TIME',
      key: r.key === undefined ? undefined : r.key === null ? null : b64(r.key),
      value: r.value === null ? null : b64(r.value),
      headers: r.headers ?? [],
      valueSchemaMetadata: { dataFormat: 'JSON' },
      keySchemaMetadata: { dataFormat: 'JSON' },
    });
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:0:cluster/c/x',
    bootstrapServers: 'b:9092',
    records: grouped,
  };
}

/** The records as the handler receives them: decoded by kafkaConsumer with FORWARD_SCHEMA. */
async function decoded(event: MSKEvent): Promise<SourceRecord[]> {
  const decode = kafkaConsumer(async (e) => e.records, FORWARD_SCHEMA);
  return (await decode(event, {} as Context)) as SourceRecord[];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('toOutgoing', () => {
  it('keeps the key and headers and wraps the value with its topic, partition, offset and timestamp', async () => {
    // Prepare
    const [record] = await decoded(
      mskEvent('orders', [
        {
          partition: 2,
          offset: 41,
          key: 'order-7',
          value: '{"id":7,"items":["a"]}',
          headers: [{ trace: bytes('t1') }, { 'content-type': bytes('application/json') }],
        },
      ]),
    );

    // Act
    const parsed = toOutgoing(record as SourceRecord, 'orders-forwarded');

    // Assess
    expect(parsed).toEqual({
      ok: true,
      message: {
        topic: 'orders-forwarded',
        key: 'order-7',
        value: JSON.stringify({
          source: { topic: 'orders', partition: 2, offset: 41, timestamp: 1_700_000_000_041 },
          value: { id: 7, items: ['a'] },
        }),
        headers: { trace: 't1', 'content-type': 'application/json' },
      },
    });
  });

  it('keeps a tombstone a tombstone under its key, and a record without a key keyless', async () => {
    const [tombstone, keyless] = await decoded(
      mskEvent('orders', [
        { partition: 0, offset: 1, key: 'order-7', value: null },
        { partition: 0, offset: 2, value: '{"id":8}' },
      ]),
    );
    expect(toOutgoing(tombstone as SourceRecord, 't')).toMatchObject({
      ok: true,
      message: { key: 'order-7', value: null },
    });
    expect(toOutgoing(keyless as SourceRecord, 't')).toMatchObject({ ok: true, message: { key: null } });
  });

  it.each([
    ['text that is not JSON', 'not json {'],
    ['JSON that is not an object', '[1,2,3]'],
    ['a JSON string', '"just text"'],
  ])('refuses %s, naming the schema failure', async (_, value) => {
    // Prepare: Powertools logs the JSON parse failure itself; keep the test output quiet.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const [record] = await decoded(mskEvent('orders', [{ partition: 0, offset: 5, key: 'k', value }]));

    // Act
    const parsed = toOutgoing(record as SourceRecord, 't');

    // Assess
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(
      /^cannot decode the record: KafkaConsumerParserError: Schema validation failed: the value must be a JSON object$/,
    );
  });
});

describe('prepare', () => {
  it('holds back the records after a failed one in its partition, and only in its partition', async () => {
    // Prepare
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const records = await decoded(
      mskEvent('orders', [
        { partition: 0, offset: 10, value: '{"n":0}' },
        { partition: 0, offset: 11, value: 'broken' },
        { partition: 0, offset: 12, value: '{"n":2}' },
        { partition: 1, offset: 20, value: '{"n":3}' },
        { partition: 1, offset: 21, value: '{"n":4}' },
      ]),
    );

    // Act
    const parsed = prepare(records, 'target');

    // Assess
    expect(parsed.map((p) => (p.ok ? 'send' : p.error.split(':')[0]))).toEqual([
      'send',
      'cannot decode the record',
      'held back',
      'send',
      'send',
    ]);
  });
});

describe('batchItemFailures', () => {
  it('names every record not produced by its topic-partition key and offset, and nothing else', async () => {
    // Prepare
    const records = await decoded(
      mskEvent('my.topic', [
        { partition: 0, offset: 10, value: '{}' },
        { partition: 0, offset: 11, value: '{}' },
        { partition: 3, offset: 7, value: '{}' },
      ]),
    );
    const produced = [true, false, false];

    // Act
    const failures = batchItemFailures(records, (index) => produced[index] === true);

    // Assess
    expect(failures).toEqual([
      { itemIdentifier: { partition: 'my.topic-0', offset: 11 } },
      { itemIdentifier: { partition: 'my.topic-3', offset: 7 } },
    ]);
    expect(batchItemFailures(records, () => true)).toEqual([]);
  });
});

describe('KAFKA_FORWARD_TOPIC', () => {
  const BASE = { KAFKA_BOOTSTRAP_SERVERS: 'b:9092' };

  it('is read trimmed into config.forward.topic, and is optional', () => {
    expect(loadConfig({ ...BASE, KAFKA_FORWARD_TOPIC: ' orders.forwarded ' }).forward.topic).toBe('orders.forwarded');
    expect(loadConfig(BASE).forward.topic).toBeUndefined();
  });

  it('refuses an illegal topic name, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({ ...BASE, KAFKA_FORWARD_TOPIC: 'orders/forwarded' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        variables: ['KAFKA_FORWARD_TOPIC'],
        message: expect.stringMatching(/^KAFKA_FORWARD_TOPIC: "orders\/forwarded" is not a legal topic name/),
      },
    ]);
  });

  it('warns when KAFKA_TOPICS is set without it, since start-up then does not verify it', () => {
    const config = loadConfig({ ...BASE, KAFKA_TOPICS: 'orders', KAFKA_FORWARD_TOPIC: 'orders-forwarded' });
    expect(config.warnings).toEqual([
      expect.stringMatching(/^KAFKA_FORWARD_TOPIC \(orders-forwarded\) is not in KAFKA_TOPICS/),
    ]);
    expect(
      loadConfig({ ...BASE, KAFKA_TOPICS: 'orders,orders-forwarded', KAFKA_FORWARD_TOPIC: 'orders-forwarded' })
        .warnings,
    ).toEqual([]);
  });
});
