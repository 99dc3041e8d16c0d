/**
 * An idempotent producer frozen longer than the broker keeps its producer id (producer.id.expiration.ms,
 * one day by default; 5 s on this broker): on thaw, its next send carries a sequence number the broker
 * no longer has state for. What other clients report as a fatal UNKNOWN_PRODUCER_ID or
 * OUT_OF_ORDER_SEQUENCE_NUMBER must be neither an error nor a duplicate here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DirectResult } from '../../src/produce/produce.js';
import { activeProducerIds, useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { handlerEnvironment, logLines } from '../support/lambda.js';

const broker = useBroker('pid-expiry');

describe('a producer whose id the broker expired during a freeze', () => {
  it('sends on thaw with no error, and nothing is lost or written twice', async () => {
    // Prepare
    const topic = uniqueName('pid-expiry');
    await createTopic(topic, 1, 'pid-expiry');
    const producer = await handlerEnvironment('handlers/produce.ts', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
    });
    const send = (keys: string[]) =>
      producer.invoke<DirectResult>({ messages: keys.map((key) => ({ key, value: key })) }, 30_000);
    const before = await send(['a', 'b', 'c']);
    const keptBefore = await activeProducerIds(broker(), topic);

    // Act: frozen for 12 s, past the producer id's 5 s expiry (checked every second)
    await sleep(12_000);
    const keptAfter = await activeProducerIds(broker(), topic);
    const thawed = await send(['d', 'e']);
    const again = await send(['f']);

    // Assess: the broker had forgotten the producer (its next sequence number, 3, has no state to follow)
    console.log(
      `producer ids kept by the partition: ${keptBefore.join(',')} before the freeze, [${keptAfter}] after it`,
    );
    expect(keptBefore).toHaveLength(1);
    expect(keptAfter).toEqual([]);
    for (const [name, result] of Object.entries({ before, thawed, again })) {
      console.log(`${name}: ${result.durationMs.toFixed(0)} ms ${JSON.stringify(result.value ?? result.error)}`);
      for (const line of logLines(result.output).filter((l) => l.level !== 'INFO' && l.level !== 'DEBUG'))
        console.log(`  ${line.level} ${line.message.slice(0, 240)}`);
    }
    for (const result of [before, thawed, again]) {
      expect(result.ok, JSON.stringify(result.error)).toBe(true);
      expect(
        result.value?.results.every((r) => r.ok),
        JSON.stringify(result.value),
      ).toBe(true);
      expect(logLines(result.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
    }
    const keys = (await readWithKcat('PLAINTEXT', topic, 'pid-expiry')).map((m) => m.key);
    expect(keys).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  }, 120_000);
});
