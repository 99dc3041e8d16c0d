/**
 * lambda-kafka/middy: kafkaMiddleware begins and ends each invocation on the initializer, so a
 * middy handler gets the deadline, the Lambda context in the logs and the library's metrics in the
 * same EMF document as its own (Powertools' logMetrics publishes once), and a failure is logged
 * with its cause.
 */
import { describe, expect, it } from 'vitest';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { emf, handlerEnvironment, logLines } from '../support/lambda.js';

describe('kafkaMiddleware', () => {
  it('gives a middy handler its invocation, one EMF document per invocation, and the failure logged', async () => {
    // Prepare
    const topic = uniqueName('middy');
    await createTopic(topic, 1);
    const lambda = await handlerEnvironment('test/fixtures/middy-handler.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: topic,
    });

    // Act
    const sent = await lambda.invoke<{ sent: number }>({ values: ['one', 'two'] }, 20_000);
    const failed = await lambda.invoke({ values: ['three'], fail: true }, 20_000);

    // Assess
    expect(sent.ok, sent.error?.message).toBe(true);
    expect(sent.value?.sent).toBe(2);
    for (const invocation of [sent, failed]) {
      const documents = emf(invocation.output);
      expect(documents).toHaveLength(1);
      expect(documents[0]).toMatchObject({ middy_invocations: 1, connection_errors_total: 0 });
    }
    expect(emf(sent.output)[0]?.producer_init_attempts).toBe(1);
    expect(failed.ok).toBe(false);
    const failure = logLines(failed.output).find((l) => /^Invocation failed/.test(l.message));
    expect(failure?.message).toMatch(/the handler failed on purpose/);
    expect(failure?.service).toBe('middy-user');
    expect(failure?.function_request_id).toBeDefined();
  });
});
