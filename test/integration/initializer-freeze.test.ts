/**
 * A freeze longer than the consumer's session: the group evicts the member while the environment
 * is stopped (SIGSTOP, as Lambda freezes it), and the next invocation must still consume every
 * message produced in the meantime exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { envFor } from '../support/env.js';
import { createTopic, listenerConfig, uniqueName } from '../support/kafka.js';
import { environment, messages } from '../support/lambda.js';

describe('a consumer environment frozen for 45 s (session timeout 30 s)', () => {
  it('rejoins after the thaw and consumes what was produced meanwhile, once', async () => {
    // Prepare: a joined consumer, and a topic with one message already consumed
    const topic = uniqueName('freeze');
    await createTopic(topic, 2);
    const lambda = await environment('consume', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('freeze-group'),
    });
    const producer = new KafkaJS.Kafka({}).producer({ ...listenerConfig('PLAINTEXT'), 'linger.ms': 0 });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'before', value: 'before-freeze' }] });
    const first = await lambda.invoke({ idleMs: 1000 }, 30_000);
    expect(first.value).toEqual({ values: ['before-freeze'] });

    // Act: the environment is frozen now; produce while it is, and stay frozen past the session timeout
    const frozenAt = Date.now();
    const during = Array.from({ length: 20 }, (_, i) => `during-freeze-${i}`);
    for (const value of during) await producer.send({ topic, messages: [{ key: value, value }] });
    await producer.disconnect();
    await sleep(45_000 - (Date.now() - frozenAt));
    const thawed = await lambda.invoke({ idleMs: 1500 }, 60_000);
    const after = await lambda.invoke({ idleMs: 1000 }, 30_000);

    // Assess
    expect(thawed.ok, thawed.error?.message).toBe(true);
    expect(((thawed.value as { values: string[] }).values ?? []).sort()).toEqual([...during].sort());
    expect(after.value).toEqual({ values: [] });
    const log = messages(thawed.output);
    expect(log.some((m) => /^Resumed after a pause of 4\d s: checking the connections$/.test(m))).toBe(true);
    expect(log.some((m) => /outlasted the consumer session .* rejoining with a new consumer/.test(m))).toBe(true);
    // What librdkafka notices at the thaw (its session ran out) is expected, not something to act on.
    const warned = thawed.output.filter((line) => /"level":"(WARN|ERROR)"/.test(line));
    expect(warned).toEqual([]);
  }, 120_000);
});
