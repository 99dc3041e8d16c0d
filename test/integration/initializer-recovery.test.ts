/**
 * Failed stages are not cached: the same execution environment recovers once the broker is back,
 * within one invocation when it comes back in time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import { readConnection } from '../../scripts/kafka/connection.js';
import { startTestBroker, useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { emf, environment, messages } from '../support/lambda.js';

const broker = useBroker('lifecycle');
const topic = uniqueName('recovery');

beforeAll(async () => {
  await createTopic(topic, 1, 'lifecycle');
  await stopBroker('lifecycle');
}, 60_000);

function sum(documents: Record<string, number>[], metric: string): number {
  return documents.reduce((total, document) => total + (document[metric] ?? 0), 0);
}

describe('with the broker stopped', () => {
  it('a failed stage is run again by the next invocation once the broker is back, in the same process', async () => {
    // Prepare
    const lambda = await environment('produce', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_INIT_DELAY: '0.5',
    });

    // Act
    const failed = await lambda.invoke({ values: ['lost?'] }, 8000);
    await startTestBroker('lifecycle');
    const recovered = await lambda.invoke({ values: ['delivered'] }, 30_000);
    await stopBroker('lifecycle');

    // Assess
    expect(failed.ok).toBe(false);
    expect(failed.error?.name).toBe('RetryError');
    expect(failed.error?.message).toMatch(/TRANSPORT \(-195\): connection refused/);
    expect(failed.durationMs).toBeLessThan(8000);
    expect(recovered.ok, recovered.error?.message).toBe(true);
    expect(messages(recovered.output)).toContain('Kafka service initialized successfully');
    expect(sum(emf(failed.output), 'connection_errors_total')).toBeGreaterThan(0);
  });

  it('an invocation with 60 s left succeeds when the broker starts 20 s after it began, after several attempts', async () => {
    // Prepare
    const lambda = await environment('consume', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('recovery-group'),
    });
    const started = Date.now();

    // Act
    const invocation = lambda.invoke({ idleMs: 500 }, 60_000);
    await sleep(20_000);
    await startTestBroker('lifecycle');
    const result = await invocation;

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
    const [metrics] = emf(result.output);
    expect(metrics?.consumer_init_attempts).toBeGreaterThan(1);
    expect(
      messages(result.output).filter((m) => /^Consumer initialization attempt \d+ of 6 failed: TRANSPORT/.test(m))
        .length,
    ).toBe((metrics?.consumer_init_attempts ?? 0) - 1);
    expect(readConnection('lifecycle').pid).toBeGreaterThan(0);
  });
});
