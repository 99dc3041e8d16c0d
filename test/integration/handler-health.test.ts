/** handlers/health-check.ts in an emulated Lambda, with its broker up and then stopped. */
import { describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import type { HealthStatus } from '../../src/init/health.js';
import { startTestBroker, useBroker } from '../support/brokers.js';
import { envFor } from '../support/env.js';
import { createTopic, deleteTopic, uniqueName } from '../support/kafka.js';
import { emf, handlerEnvironment, logLines } from '../support/lambda.js';

const broker = useBroker('health');

describe('the health-check handler', () => {
  it('is healthy with the broker up, and unhealthy within its timeout once it is stopped, with the connection-error metric', async () => {
    // Prepare
    const topic = uniqueName('health');
    const groupId = uniqueName('health-group');
    await createTopic(topic, 1, 'health');
    const lambda = await handlerEnvironment('handlers/health-check.ts', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: groupId,
      KAFKA_COORDINATOR_WAIT_TIMEOUT: '5',
    });

    // Act
    const up = await lambda.invoke<HealthStatus>({}, 30_000);
    await stopBroker('health');
    const down = await lambda.invoke<HealthStatus>({}, 15_000);
    await startTestBroker('health');
    const back = await lambda.invoke<HealthStatus>({}, 30_000);

    // Assess
    expect(up.ok, JSON.stringify(up.error)).toBe(true);
    expect(up.value?.status, JSON.stringify(up.value?.reasons)).toBe('healthy');
    expect(up.value?.statistics.last_probe).toMatchObject({
      ok: true,
      missingTopics: [],
      group: { id: groupId, coordinator: 'available', lag: 0 },
    });

    expect(down.ok).toBe(true);
    expect(down.durationMs).toBeLessThan(15_000);
    expect(down.value?.status).toBe('unhealthy');
    expect(down.value?.reasons.join('\n')).toMatch(/health check failed: .*(TRANSPORT|ALL_BROKERS_DOWN)/);
    const downMetrics = emf(down.output)[0];
    expect(downMetrics?.connection_errors_total).toBeGreaterThan(0);
    expect(downMetrics?.health_check_failures).toBe(1);
    expect(
      logLines(down.output).some(
        (line) => line.level === 'ERROR' && line.message.startsWith('Kafka service unhealthy: '),
      ),
    ).toBe(true);

    expect(back.value?.status, JSON.stringify(back.value?.reasons)).not.toBe('unhealthy');
  });

  it('names a configured topic deleted after the environment started, and the partitions it reads', async () => {
    // Prepare
    const kept = uniqueName('health-kept');
    const doomed = uniqueName('health-doomed');
    await createTopic(kept, 2, 'health');
    await createTopic(doomed, 1, 'health');
    const lambda = await handlerEnvironment('handlers/health-check.ts', {
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: `${kept},${doomed}`,
      KAFKA_COORDINATOR_WAIT_TIMEOUT: '5',
    });

    // Act
    const before = await lambda.invoke<HealthStatus>({}, 30_000);
    await deleteTopic(doomed, 'health');
    const after = await lambda.invoke<HealthStatus>({}, 30_000);

    // Assess
    expect(before.value?.status, JSON.stringify(before.value?.reasons)).toBe('healthy');
    expect(before.value?.statistics.last_probe).toMatchObject({ ok: true, topics: 2, missingTopics: [] });
    expect(before.value?.statistics.last_probe?.cluster?.brokers).toEqual([1]);
    expect(after.value?.status).toBe('unhealthy');
    expect(after.value?.reasons).toContain(`health check failed: topics missing: ${doomed}`);
    expect(after.value?.statistics.last_probe).toMatchObject({ ok: false, topics: 1, missingTopics: [doomed] });
  });
});
