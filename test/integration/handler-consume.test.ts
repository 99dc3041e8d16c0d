/** handlers/consume.ts (and a slow processor) in an emulated Lambda: bounded drains that commit what they processed. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrainResult } from '../../src/consume/drain.js';
import { envFor } from '../support/env.js';
import { createTopic, listenerConfig, uniqueName } from '../support/kafka.js';
import { emf, handlerEnvironment } from '../support/lambda.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-consume-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function produce(topic: string, count: number, prefix: string): Promise<string[]> {
  const producer = new KafkaJS.Kafka({}).producer({ ...listenerConfig('PLAINTEXT'), 'linger.ms': 20 });
  await producer.connect();
  const keys = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < keys.length; i += 500) {
    await producer.send({ topic, messages: keys.slice(i, i + 500).map((key) => ({ key, value: `value of ${key}` })) });
  }
  await producer.disconnect();
  return keys;
}

describe('the default consume handler', () => {
  it('with more environments than partitions, the one left without a partition ends its drain at once instead of failing', async () => {
    // Prepare: one partition, three environments of the same group draining at the same time
    const topic = uniqueName('consume-spare');
    await createTopic(topic, 1);
    const keys = await produce(topic, 20, 'spare');
    const env = { ...envFor('PLAINTEXT'), KAFKA_TOPICS: topic, KAFKA_CONSUMER_GROUP_ID: uniqueName('spare-group') };
    const environments = [];
    for (let i = 0; i < 3; i++) environments.push(await handlerEnvironment('handlers/consume.ts', env));

    // Act: all drain long enough to be awake for each other's join: a member frozen after its
    // invocation holds a rebalance up until its session times out (45 s)
    const results = await Promise.all(
      environments.map((lambda) => lambda.invoke<DrainResult>({ idleMs: 20_000 }, 60_000)),
    );

    console.log(
      `three members, one partition: drains of ${results.map((r) => `${r.durationMs.toFixed(0)} ms`).join(', ')}`,
    );
    // Assess: all succeed; the partition's messages were read, and at least one member had no partition
    for (const result of results) expect(result.ok, JSON.stringify(result.error)).toBe(true);
    const processed = results.reduce((sum, r) => sum + (r.value?.processed ?? 0), 0);
    expect(processed).toBeGreaterThanOrEqual(keys.length);
    expect(results.map((r) => r.value?.stoppedBecause)).toContain('unassigned');
  }, 90_000);

  it('drains what is waiting, commits it, and reports the lag', async () => {
    const topic = uniqueName('consume');
    await createTopic(topic, 2);
    await produce(topic, 30, 'm');
    const lambda = await handlerEnvironment('handlers/consume.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('consume-group'),
    });

    const first = await lambda.invoke<DrainResult>({ maxMessages: 500, idleMs: 1000 }, 30_000);
    const second = await lambda.invoke<DrainResult>({}, 30_000);

    expect(first.ok, first.error?.message).toBe(true);
    expect(first.value).toMatchObject({ processed: 30, stoppedBecause: 'idle', totalLag: 0 });
    expect(first.value?.committed.reduce((sum, c) => sum + c.offset, 0)).toBe(30);
    expect(emf(first.output)[0]).toMatchObject({ messages_consumed: 30, consumer_init_attempts: 1 });
    expect(second.value).toMatchObject({ processed: 0, stoppedBecause: 'idle' });
  });

  it('rejects a batch limit that is not a positive whole number', async () => {
    const lambda = await handlerEnvironment('handlers/consume.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: 'x',
      KAFKA_CONSUMER_GROUP_ID: 'g',
    });
    const result = await lambda.invoke({ maxMessages: -3 }, 10_000);
    expect(result.error?.message).toBe('Invalid consume request: maxMessages must be a positive whole number, got -3');
  });
});

describe('2,000 waiting messages and little time', () => {
  it('stops before the deadline, commits what it processed, and the next invocation continues without gaps or repeats', async () => {
    // Prepare: 3 ms per message, so 2,000 need about 6 s
    const topic = uniqueName('backlog');
    await createTopic(topic, 3);
    const keys = await produce(topic, 2000, 'k');
    const processedLog = join(dir, 'processed.log');
    writeFileSync(processedLog, '');
    const lambda = await handlerEnvironment('test/fixtures/slow-consume.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('backlog-group'),
      PROCESSED_LOG: processedLog,
    });

    // Act: short invocations until the backlog is gone
    const results: { value?: DrainResult; durationMs: number; ok: boolean }[] = [];
    for (let i = 0; i < 12; i++) {
      const result = await lambda.invoke<DrainResult>({ maxMessages: 5000, idleMs: 1000 }, 4000);
      results.push(result);
      if (result.value?.stoppedBecause === 'idle') break;
    }

    // Assess
    const [first] = results;
    expect(first?.ok).toBe(true);
    expect(first?.value?.stoppedBecause).toBe('deadline');
    expect(first?.value?.processed).toBeGreaterThan(0);
    expect(first?.value?.processed).toBeLessThan(2000);
    expect(first?.durationMs).toBeLessThan(4000);
    for (const result of results) expect(result.ok).toBe(true);
    const processed = readFileSync(processedLog, 'utf8').split('\n').filter(Boolean);
    expect(processed).toHaveLength(2000);
    expect(new Set(processed).size).toBe(2000);
    expect([...processed].sort()).toEqual([...keys].sort());
    expect(results.reduce((sum, r) => sum + (r.value?.processed ?? 0), 0)).toBe(2000);
    expect(results.at(-1)?.value).toMatchObject({ stoppedBecause: 'idle', totalLag: 0 });
  });
});
