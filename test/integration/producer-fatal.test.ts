/**
 * A fatal idempotence error, provoked on a real broker: a partition loses the tail of its log
 * while the function is frozen (what an unclean leader election does), so the producer's next
 * sequence number no longer follows what the broker has, and librdkafka raises the fatal
 * OUT_OF_ORDER_SEQUENCE_NUMBER. The invocation rebuilds the producer and sends the message again.
 */
import { describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import type { DirectResult } from '../../src/produce/produce.js';
import { startTestBroker, truncatePartition, useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { handlerEnvironment, logLines } from '../support/lambda.js';

const broker = useBroker('truncated', { fresh: true });

describe('a producer whose partition lost acknowledged messages while it was frozen', () => {
  it('hits the fatal OUT_OF_ORDER_SEQUENCE_NUMBER, is rebuilt within the invocation, and the message is sent once', async () => {
    // Prepare: three acknowledged messages, one per invocation (sequence numbers 0, 1, 2)
    const topic = uniqueName('fatal');
    await createTopic(topic, 1, 'truncated');
    const producer = await handlerEnvironment('handlers/produce.ts', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
    });
    const send = (key: string) => producer.invoke<DirectResult>({ messages: [{ key, value: key }] }, 30_000);
    const before = [await send('a'), await send('b'), await send('c')];

    // Act: while the environment is frozen, the partition loses offset 2 ('c') and the broker restarts
    await stopBroker('truncated');
    const kept = await truncatePartition('truncated', topic, 0, 2);
    await startTestBroker('truncated');
    const thawed = await send('d');
    const next = await send('e');

    // Assess: the broker refused sequence 3 of the old producer; the message went out with a new one
    const lines = logLines(thawed.output);
    console.log(`kept ${kept} bytes of the segment; the thaw invocation took ${thawed.durationMs.toFixed(0)} ms:`);
    for (const line of lines.filter((l) => l.level === 'WARN' || l.level === 'ERROR'))
      console.log(`  ${line.level} ${line.message.slice(0, 240)}`);
    for (const result of before) expect(result.value?.results[0]?.ok, result.output.join('\n')).toBe(true);
    expect(lines.some((l) => /out of order sequence number/i.test(l.message))).toBe(true);
    expect(
      lines.filter((l) => l.level === 'WARN').map((l) => l.message),
      'the rebuild is announced once',
    ).toContain(
      'The producer hit a fatal error (OUT_OF_ORDER_SEQUENCE_NUMBER): 1 message(s) it did not deliver are sent again by a new producer',
    );
    for (const result of [thawed, next]) {
      expect(result.ok, JSON.stringify(result.error)).toBe(true);
      expect(result.value?.results[0]?.ok, result.output.join('\n')).toBe(true);
    }
    expect(logLines(next.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
    // 'c' was lost by the broker (the truncation), not by the function; 'd' is there once.
    const keys = (await readWithKcat('PLAINTEXT', topic, 'truncated')).map((m) => m.key);
    expect(keys).toEqual(['a', 'b', 'd', 'e']);
  }, 180_000);
});
