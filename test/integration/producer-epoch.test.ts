/**
 * An invocation that ends at its deadline with its message in flight, and a broker whose answers
 * are lost on the way back: the message was written, the producer does not know it. librdkafka
 * resends such a message under the same producer id, epoch and sequence number, which the broker
 * recognises as a repeat, unless a message times out first (message.timeout.ms): then it bumps the
 * producer's epoch (KIP-360) and resends what was in flight with new sequence numbers, which the
 * broker cannot recognise, and an acknowledged message is written twice. The 30-minute chaos soak
 * found that with the delivery timeout set to the creating invocation's remaining time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import type { DirectResult } from '../../src/produce/produce.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { handlerEnvironment, logLines } from '../support/lambda.js';
import { type BreakableProxy, startBrokerBehindProxy } from '../support/proxy.js';

let proxy: BreakableProxy;
const topic = uniqueName('epoch');

beforeAll(async () => {
  proxy = await startBrokerBehindProxy('epoch');
  await createTopic(topic, 2, 'epoch');
}, 120_000);
afterAll(async () => {
  await proxy.close();
  await stopBroker('epoch');
}, 60_000);

describe('a message in flight when its invocation ends, whose acknowledgement the network lost', () => {
  it('is written once, and so is the next invocation’s message sent while the answers were lost', async () => {
    // Prepare: a warm producer, created by an invocation with 6 s left
    const producer = await handlerEnvironment('handlers/produce.ts', {
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${proxy.port}`,
      KAFKA_TOPICS: topic,
    });
    const send = (key: string, timeoutMs: number) =>
      producer.invoke<DirectResult>({ messages: [{ key, value: key }] }, timeoutMs);
    const warm = await send('warm', 6000);
    expect(warm.value?.sent, JSON.stringify(warm.value ?? warm.error)).toBe(1);

    // Act: the broker's answers are lost; one invocation ends at its deadline (3 s, with the 1 s
    // margin) with its message in flight, the next one sends too; the network comes back 7 s after the
    // first send: after the delivery timeout that the creating invocation's 6 s gave (about 5.5 s),
    // before that of the second message
    await proxy.setMode('blackhole');
    const startedAt = Date.now();
    const first = await send('first', 4000);
    const second = send('second', 20_000);
    await sleep(Math.max(0, startedAt + 7000 - Date.now()));
    await proxy.setMode('forward');
    const secondResult = await second;
    const after = await send('after', 10_000);

    // Assess
    const written = (await readWithKcat('PLAINTEXT', topic, 'epoch')).map((m) => m.key).sort();
    console.log(`written: ${written.join(', ')}`);
    for (const [name, result] of Object.entries({ first, second: secondResult, after })) {
      console.log(`${name}: ${result.durationMs.toFixed(0)} ms ${JSON.stringify(result.value ?? result.error)}`);
      for (const line of logLines(result.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR'))
        console.log(`  ${line.level} ${line.message.slice(0, 240)}`);
    }
    // The first is reported as not acknowledged in time, and as possibly delivered still
    expect(first.value?.results[0]).toMatchObject({ ok: false, retriable: true });
    expect(JSON.stringify(first.value?.results[0])).toMatch(/may still be delivered/);
    expect(secondResult.value?.results[0], JSON.stringify(secondResult.value ?? secondResult.error)).toMatchObject({
      ok: true,
    });
    expect(after.value?.results[0]).toMatchObject({ ok: true });
    expect(written).toEqual(['after', 'first', 'second', 'warm']);
  }, 120_000);
});
