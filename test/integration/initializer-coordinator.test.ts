/**
 * "Ready" for a consumer means joined with an assignment. A coordinator that is only late (a new
 * cluster creating __consumer_offsets) is waited for; one that can never exist is named as such,
 * before the deadline.
 */
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { emf, environment, logLines } from '../support/lambda.js';

describe('on a brand-new cluster (no __consumer_offsets yet)', () => {
  const broker = useBroker('fresh', { fresh: true });

  it('the consumer becomes ready', async () => {
    // Prepare
    const topic = uniqueName('fresh');
    await createTopic(topic, 2, 'fresh');
    const lambda = await environment('consume', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('first-group'),
    });

    // Act
    const result = await lambda.invoke({ idleMs: 500 }, 60_000);

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    const connected = logLines(result.output).find((line) => line.message === '✓ Consumer connected successfully');
    expect(connected?.assignment).toEqual([`${topic}-0`, `${topic}-1`]);
    expect(connected?.coordinator).toMatch(/^127\.0\.0\.1:\d+ \(broker 1\)$/);
  });
});

describe('with offsets.topic.replication.factor=2 on a single broker', () => {
  const broker = useBroker('nocoord');

  it('fails before the deadline naming the coordinator and the offsets topic, counting every attempt', async () => {
    // Prepare
    const topic = uniqueName('orders');
    await createTopic(topic, 1, 'nocoord');
    const lambda = await environment('consume', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('stuck-group'),
      KAFKA_COORDINATOR_WAIT_TIMEOUT: '6',
    });

    // Act
    const result = await lambda.invoke({}, 25_000);

    // Assess: our error, not Lambda's timeout
    expect(result.ok).toBe(false);
    expect(result.error?.name).toBe('RetryError');
    expect(result.durationMs).toBeLessThan(25_000 - 1000);
    const message = result.error?.message ?? '';
    expect(message).toMatch(/COORDINATOR_NOT_AVAILABLE \(15\)/);
    expect(message).toMatch(/the offsets topic __consumer_offsets does not exist/);
    expect(message).toMatch(/offsets\.topic\.replication\.factor is probably larger than the 1 live broker/);
    const attempts = Number(/\((\d+) attempts in /.exec(message)?.[1]);
    expect(attempts).toBeGreaterThan(1);
    expect(emf(result.output)[0]?.consumer_init_attempts).toBe(attempts);
  });
});
