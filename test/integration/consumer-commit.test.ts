/**
 * A commit the brokers refuse, against the local broker: its error names the group, the partitions
 * and offsets it was committing, and the cause with its name, so that the consume function's caller
 * and its log say what failed; the binding's own error stays its cause.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaOperationError } from '../../src/errors/errors.js';
import { KafkaInitializer } from '../../src/init/initializer.js';
import { lambdaContext } from '../support/context.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';

const initializers: KafkaInitializer[] = [];
afterAll(async () => {
  await Promise.all(initializers.map((kafka) => kafka.shutdown('done')));
});

describe('a commit the brokers refuse', () => {
  it('fails with an error naming the group, the partitions at their offsets and the cause', async () => {
    // Prepare: a consumer in its group, and offsets for a topic that does not exist (the broker
    // answers UNKNOWN_TOPIC_OR_PARTITION for each, at once).
    const topic = uniqueName('commit');
    const group = uniqueName('commit-group');
    await createTopic(topic);
    const kafka = new KafkaInitializer({
      env: {
        ...envFor('PLAINTEXT'),
        KAFKA_TOPICS: topic,
        KAFKA_CONSUMER_GROUP_ID: group,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
      handleSigterm: false,
      emitMetrics: false,
    });
    initializers.push(kafka);
    const invocation = kafka.begin(lambdaContext());
    const consumer = await kafka.consumer(invocation);
    const missing = uniqueName('no-such-topic');
    const offsets = Array.from({ length: 7 }, (_, partition) => ({
      topic: missing,
      partition,
      offset: 10 + partition,
    }));

    // Act
    const error = await consumer.commit(offsets, 10_000).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(KafkaOperationError);
    const failed = error as KafkaOperationError;
    expect(failed.message).toMatch(
      new RegExp(
        `^Committing the offsets of group "${group}" \\(${missing}\\[0\\] at 10, ${missing}\\[1\\] at 11, ${missing}\\[2\\] at 12, ${missing}\\[3\\] at 13, ${missing}\\[4\\] at 14 and 2 more\\) failed: UNKNOWN_TOPIC_OR_PART \\(3\\): `,
      ),
    );
    expect(failed.classification.name).toBe('UNKNOWN_TOPIC_OR_PART');
    expect((failed.cause as { code?: number }).code).toBe(3);
    await kafka.end(invocation);
  }, 60_000);
});
