/**
 * A broker that accepts connections but answers nothing (its process paused with SIGSTOP), and an
 * invocation with too little time left to connect at all: each is named as what it is, not as a
 * failed connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnection } from '../../scripts/kafka/connection.js';
import type { HealthStatus } from '../../src/init/health.js';
import { useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { handlerEnvironment } from '../support/lambda.js';

const broker = useBroker('paused');
const topic = uniqueName('paused');

beforeAll(async () => {
  await createTopic(topic, 1, 'paused');
  process.kill(readConnection('paused').pid, 'SIGSTOP');
}, 60_000);
afterAll(() => {
  process.kill(readConnection('paused').pid, 'SIGCONT');
});

describe('a broker that accepts connections but does not answer', () => {
  it('is reported as such by the produce and health-check functions, within their time', async () => {
    // Prepare
    const env = { ...envFor('PLAINTEXT', broker()), KAFKA_TOPICS: topic, KAFKA_COORDINATOR_WAIT_TIMEOUT: '4' };
    const produce = await handlerEnvironment('handlers/produce.ts', env);
    const health = await handlerEnvironment('handlers/health-check.ts', env);
    const address = broker().listeners.PLAINTEXT.bootstrapServers.replaceAll('.', '\\.');

    // Act
    const produced = await produce.invoke({ messages: [{ value: 'into the void' }] }, 8000);
    const checked = await health.invoke<HealthStatus>({}, 8000);

    // Assess
    const silent = new RegExp(`TIMED_OUT \\(-185\\): ${address} accepted the connection but sent no answer`);
    expect(produced.ok).toBe(false);
    expect(produced.error?.message.split('\n')[0]).toMatch(silent);
    expect(produced.error?.message).toMatch(/paused, overloaded, or not a Kafka broker/);
    expect(produced.durationMs).toBeLessThan(8000);
    expect(checked.value?.status).toBe('unhealthy');
    expect(checked.value?.reasons.join('\n')).toMatch(silent);
  }, 30_000);

  it('with too little time left to connect, says so and names the setting', async () => {
    // Prepare: 1.5 s left and KAFKA_DEADLINE_MARGIN_MS=1000 leave half a second
    const env = { ...envFor('PLAINTEXT', broker()), KAFKA_TOPICS: topic, KAFKA_DEADLINE_MARGIN_MS: '1000' };
    const produce = await handlerEnvironment('handlers/produce.ts', env);

    // Act
    const produced = await produce.invoke({ messages: [{ value: 'no time' }] }, 1500);

    // Assess
    expect(produced.ok).toBe(false);
    expect(produced.error?.message.split('\n')[0]).toMatch(
      /^Producer initialization failed: NO_TIME_LEFT: only \d+ ms were left to connect \(the invocation's remaining time minus KAFKA_DEADLINE_MARGIN_MS=1000\)\. Raise the function timeout, or lower KAFKA_DEADLINE_MARGIN_MS/,
    );
  }, 30_000);
});
