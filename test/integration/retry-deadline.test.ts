/**
 * The deadline rule against a real socket: a retry loop never outlives the invocation.
 * The Lambda context is emulated with a real clock.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { classifyKafkaError } from '../../src/errors/classify.js';
import { KafkaOperationError, RetryError } from '../../src/errors/errors.js';
import { Deadline } from '../../src/retry/deadline.js';
import { type AttemptContext, retryUntilDeadline } from '../../src/retry/retry.js';
import { lambdaContext } from '../support/context.js';
import { clientFor, closedPort } from '../support/env.js';

/** One attempt: what a health check does, against whatever KAFKA_BOOTSTRAP_SERVERS says. */
async function listTopicsOnce(env: Record<string, string>, { timeoutMs, explainTimeout }: AttemptContext) {
  const { client: admin, recorder } = clientFor('admin', env);
  explainTimeout(
    (timeout) => new KafkaOperationError('listTopics', classifyKafkaError(timeout, { recentLogs: recorder.recent() })),
  );
  await admin.connect();
  try {
    return await admin.listTopics({ timeout: timeoutMs });
  } catch (error) {
    throw new KafkaOperationError('listTopics', classifyKafkaError(error, { recentLogs: recorder.recent() }), {
      cause: error,
    });
  } finally {
    await admin.disconnect();
  }
}

describe('retryUntilDeadline against a closed port', () => {
  it.each([1, 2, 3])('with 3 s left gives up before the deadline minus the margin (run %i)', async () => {
    // Prepare
    const env = { KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}` };
    const config = loadConfig(env);
    const context = lambdaContext(3000);
    const started = Date.now();

    // Act
    const error = await retryUntilDeadline((attempt) => listTopicsOnce(env, attempt), {
      operation: 'broker health check',
      ...config.init,
      deadline: Deadline.fromContext(context, config.init.deadlineMarginMs),
      initialDelayMs: 200,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RetryError);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(config.init.deadlineMarginMs);
    expect(Date.now() - started).toBeLessThan(3000 - config.init.deadlineMarginMs);
    expect((error as RetryError).classification).toMatchObject({
      name: 'TRANSPORT',
      evidence: expect.stringMatching(/Connection refused/),
    });
  });

  it('with KAFKA_CONSUMER_INIT_RETRIES=0 makes exactly one attempt', async () => {
    // Prepare
    const env = { KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}`, KAFKA_CONSUMER_INIT_RETRIES: '0' };
    const config = loadConfig(env);
    const attempts: number[] = [];

    // Act
    const error = await retryUntilDeadline((attempt) => listTopicsOnce(env, { ...attempt, timeoutMs: 1500 }), {
      operation: 'broker health check',
      ...config.init,
      deadline: Deadline.fromContext(lambdaContext(30_000), config.init.deadlineMarginMs),
      onAttempt: (attempt) => attempts.push(attempt),
    }).catch((e: unknown) => e);

    // Assess
    expect(attempts).toEqual([1]);
    expect(error).toMatchObject({ attempts: 1, reason: 'retries-exhausted' });
  });
});
