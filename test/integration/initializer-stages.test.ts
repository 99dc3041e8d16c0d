/**
 * The staged initializer in emulated Lambda environments (one long-lived process each, frozen
 * between invocations) against the real local broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../../scripts/kafka/certs.js';
import { readConnection } from '../../scripts/kafka/connection.js';
import { INIT_STAGES } from '../../src/observability/metrics.js';
import { envFor } from '../support/env.js';
import { uniqueName } from '../support/kafka.js';
import { allOutput, emf, environment, expectNoSecrets, messages } from '../support/lambda.js';

const KEY_PASSWORD = 'lifecycle-key-password-4d1e';
const WRONG_SCRAM_PASSWORD = 'not-the-scram-password-77f2';
let keyDir: string;
let encryptedKeyPem: string;

beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'lambda-kafka-lifecycle-'));
  const key = readConnection().listeners.SSL.keyFile as string;
  const encrypted = join(keyDir, 'client-key.pem');
  openssl(
    ['pkcs8', '-topk8', '-in', key, '-out', encrypted, '-v2', 'aes-256-cbc', '-passout', `pass:${KEY_PASSWORD}`],
    dirname(key),
  );
  encryptedKeyPem = readFileSync(encrypted, 'utf8');
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

const SEED_PRODUCER_SEQUENCE = [
  /^Initializing Kafka admin client$/,
  /^Admin client started successfully/,
  /^Verifying Kafka broker health$/,
  /^✓ Kafka cluster is healthy: \d+ topics found$/,
  /^✓ Topic (exists|created): /,
  /^Initializing Kafka producer$/,
  /^Producer started successfully$/,
  /^Kafka service initialized successfully$/,
];

/** Asserts `patterns` match lines of `lines` in this order (other lines may come between). */
function expectInOrder(lines: readonly string[], patterns: readonly RegExp[]): void {
  let from = 0;
  for (const pattern of patterns) {
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    expect(index, `"${pattern}" after line ${from} of:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
    from = index + 1;
  }
}

describe('a producer function over SASL_SSL', () => {
  const topic = uniqueName('stages');
  const env = () => ({ ...envFor('SASL_SSL'), KAFKA_TOPICS: topic, KAFKA_CREATE_TOPICS: 'true' });

  it("logs the seed's stages in order when cold, runs none of them when warm, and never creates a consumer", async () => {
    // Prepare
    const lambda = await environment('produce', env());

    // Act
    const cold = await lambda.invoke({ values: ['one'] }, 30_000);
    const warm = await lambda.invoke({ values: ['two'] }, 30_000);
    const health = await lambda.invoke({ values: [], health: true }, 30_000);

    // Assess: the cold invocation ran every stage a producer needs, in the seed's order
    expect(cold.ok, cold.error?.message).toBe(true);
    expectInOrder(messages(cold.output), [
      /^✓ CA certificate file exists: .*ca\.pem$/,
      /^SSL certificate validation completed successfully$/,
      /^SSL context created successfully \(protocol: .*SASL_SSL\)$/,
      ...SEED_PRODUCER_SEQUENCE,
    ]);
    const [coldMetrics] = emf(cold.output);
    expect(coldMetrics).toMatchObject({ cold_start: 1, producer_init_attempts: 1, messages_produced: 1 });
    for (const stage of ['ssl', 'admin', 'broker_health', 'topics', 'producer']) {
      expect(coldMetrics?.[`init_duration_${stage}`]).toBeGreaterThanOrEqual(0);
    }

    // the warm one ran no stage again
    expect(warm.ok).toBe(true);
    expect(messages(warm.output)).toEqual([]);
    expect(emf(warm.output)).toEqual([{ connection_errors_total: 0, messages_produced: 1 }]);

    // and nothing on this path ever created a consumer
    expect(messages(lambda.output())).not.toContain('Initializing Kafka consumer');
    const status = health.value as { statistics: { stages: Record<string, { state: string; runs: number }> } };
    expect(status.statistics.stages.consumer).toEqual({ state: 'pending', runs: 0 });
    for (const stage of INIT_STAGES.filter((s) => s !== 'consumer'))
      expect(status.statistics.stages[stage]?.runs).toBe(1);
  });

  it("holds one connection per broker on the warm producer path (the admin shares the producer's)", async () => {
    const lambda = await environment('produce', env());
    for (let i = 0; i < 3; i++) expect((await lambda.invoke({ values: [`v${i}`] }, 30_000)).ok).toBe(true);
    const port = readConnection().ports.SASL_SSL;
    const sockets = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(`pid=${lambda.pid},`));
    expect(sockets).toHaveLength(1);
  });

  it('stops on SIGTERM within its shutdown budget, after flushing', async () => {
    const lambda = await environment('produce', env());
    expect((await lambda.invoke({ values: ['before shutdown'] }, 30_000)).ok).toBe(true);
    const { exited, ms } = await lambda.shutdown('SIGTERM', 5000);
    expect(exited).toBe(true);
    expect(ms).toBeLessThan(2000);
    expect(messages(lambda.output())).toContain('Shutting down (SIGTERM): flushing and disconnecting');
  });
});

describe('a consumer function over mutual TLS with an encrypted inline key', () => {
  it("logs the seed's sequence and joins its group", async () => {
    // Prepare
    const topic = uniqueName('stages-consume');
    const lambda = await environment('consume', {
      ...envFor('SSL'),
      KAFKA_SSL_KEYFILE: '',
      KAFKA_SSL_KEY_PEM: encryptedKeyPem,
      KAFKA_SSL_KEY_PASSWORD: KEY_PASSWORD,
      KAFKA_TOPICS: topic,
      KAFKA_CREATE_TOPICS: 'true',
      KAFKA_CONSUMER_GROUP_ID: uniqueName('group'),
    });

    // Act
    const result = await lambda.invoke({ idleMs: 500 }, 30_000);

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expectInOrder(messages(result.output), [
      /^✓ CA certificate file exists: /,
      /^✓ Client certificate file exists: /,
      /^✓ Private key provided in KAFKA_SSL_KEY_PEM$/,
      /^SSL certificate validation completed successfully$/,
      /^SSL context created successfully/,
      /^Initializing Kafka admin client$/,
      /^Admin client started successfully$/,
      /^Verifying Kafka broker health$/,
      /^✓ Kafka cluster is healthy: \d+ topics found$/,
      /^✓ Topic created: /,
      /^Initializing Kafka consumer$/,
      /^✓ Consumer connected successfully$/,
      /^Kafka service initialized successfully$/,
    ]);
    expect(emf(result.output)[0]).toMatchObject({ consumer_init_attempts: 1, cold_start: 1 });
  });
});

describe('secrets', () => {
  it('a wrong SCRAM password fails the invocation with the cause, and prints nothing secret', async () => {
    const lambda = await environment('produce', {
      ...envFor('SASL_SSL'),
      KAFKA_SASL_PASSWORD: WRONG_SCRAM_PASSWORD,
      KAFKA_TOPICS: uniqueName('never'),
      KAFKA_CONSUMER_INIT_RETRIES: '0',
    });
    const result = await lambda.invoke({ values: ['x'] }, 20_000);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/AUTHENTICATION \(-169\): SASL authentication failed/);
    expect(result.error?.message).not.toContain(WRONG_SCRAM_PASSWORD);
  });

  it('are redacted by the logger even when code logs them on purpose', async () => {
    const lambda = await environment('leak', {
      ...envFor('SSL'),
      KAFKA_SSL_KEYFILE: '',
      KAFKA_SSL_KEY_PEM: encryptedKeyPem,
      KAFKA_SSL_KEY_PASSWORD: KEY_PASSWORD,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'leaky',
      KAFKA_SASL_PASSWORD: 'leaky-sasl-password-91c3',
    });
    const result = await lambda.invoke({}, 10_000);
    expect(result.ok).toBe(true);
    const logged = messages(result.output).join('\n');
    expect(logged).toContain('connecting with password ***');
    expectNoSecrets(result.output, ['leaky-sasl-password-91c3', encryptedKeyPem]);
    expect(result.output.join('\n')).toContain('[private key redacted]');
  });

  it('appear in no log line, EMF line or health status of any environment in this file', async () => {
    const connection = readConnection();
    const clientKey = readFileSync(connection.listeners.SSL.keyFile as string, 'utf8');
    const lines = allOutput();
    expect(lines.length).toBeGreaterThan(20);
    expectNoSecrets(lines, [
      connection.listeners.SASL_SSL.password as string,
      WRONG_SCRAM_PASSWORD,
      KEY_PASSWORD,
      'leaky-sasl-password-91c3',
      encryptedKeyPem,
      clientKey,
    ]);
  });
});
