/**
 * Secrets by reference, against a local Secrets Manager and SSM (moto's server) and a broker of its
 * own: a function whose environment holds only the secret's ARN connects over SASL_SSL; the password
 * is rotated in the secret and on the broker (Kafka's own ConfigCommand) under a warm environment,
 * the broker restarts so that new connections are needed, and the next invocation succeeds without
 * a redeploy, counting secret_refreshes = 1. No secret value appears anywhere the function prints.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import type { BrokerConnection } from '../../scripts/kafka/connection.js';
import { startTestBroker, useBroker } from '../support/brokers.js';
import { kafkaTool } from '../support/cluster.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { kcat } from '../support/kcat.js';
import { allOutput, emf, handlerEnvironment, messages } from '../support/lambda.js';
import { type LocalAws, startLocalAws } from '../support/moto.js';

const broker = useBroker('secrets', { fresh: true });
let aws: LocalAws;
let secrets: SecretsManagerClient;
let ssm: SSMClient;
const topic = uniqueName('secrets');
/** Every secret value this file creates: none may appear in any output. */
const values: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  const client = {
    endpoint: aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  };
  secrets = new SecretsManagerClient(client);
  ssm = new SSMClient(client);
  await createTopic(topic, 1, 'secrets');
}, 120_000);
afterAll(async () => {
  await aws?.stop();
});

/** The broker's SCRAM password for `user`, changed with Kafka's own ConfigCommand (PLAINTEXT, as the admin). */
async function setScramPassword(connection: BrokerConnection, user: string, password: string) {
  await kafkaTool('kafka.admin.ConfigCommand', [
    '--bootstrap-server',
    connection.listeners.PLAINTEXT.bootstrapServers,
    '--alter',
    '--add-config',
    `SCRAM-SHA-512=[password=${password}]`,
    '--entity-type',
    'users',
    '--entity-name',
    user,
  ]);
}

/** The SASL_SSL environment of the broker without its user and password: those come from the store. */
function referenceEnv(connection: BrokerConnection, extra: Record<string, string>): Record<string, string> {
  const { KAFKA_SASL_USERNAME: _user, KAFKA_SASL_PASSWORD: _password, ...env } = envFor('SASL_SSL', connection);
  return { ...env, ...aws.env, KAFKA_TOPICS: topic, ...extra };
}

function expectNoSecretIn(texts: readonly string[]) {
  for (const value of values) {
    for (const text of texts) expect(text.includes(value), `a secret value is in: ${text.slice(0, 200)}`).toBe(false);
  }
}

describe('secrets by reference', () => {
  it('connects with only the secret ARN, and rides through a rotation without a redeploy (secret_refreshes = 1)', async () => {
    // Prepare: an MSK-style JSON secret with the broker's SCRAM user and a password of our own
    const user = broker().listeners.SASL_SSL.username as string;
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    values.push(first, second);
    await setScramPassword(broker(), user, first);
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: `AmazonMSK_lambda-kafka-${randomUUID().slice(0, 8)}`,
        SecretString: JSON.stringify({ username: user, password: first }),
      }),
    );
    const lambda = await handlerEnvironment(
      'handlers/produce.ts',
      referenceEnv(broker(), { KAFKA_SASL_PASSWORD_SECRET: created.ARN as string }),
    );

    // Act: a cold invocation; the password rotated in the secret and on the broker; the broker restarted
    const cold = await lambda.invoke<{ sent: number }>({ messages: [{ value: 'before rotation' }] }, 20_000);
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: created.ARN,
        SecretString: JSON.stringify({ username: user, password: second }),
      }),
    );
    await setScramPassword(broker(), user, second);
    await stopBroker('secrets');
    await startTestBroker('secrets');
    const started = Date.now();
    const rotated = await lambda.invoke<{ sent: number }>({ messages: [{ value: 'after rotation' }] }, 20_000);
    const tookMs = Date.now() - started;

    // Assess
    expect(cold.ok, cold.error?.message).toBe(true);
    expect(cold.value?.sent).toBe(1);
    expect(rotated.ok, rotated.error?.message).toBe(true);
    expect(rotated.value?.sent, JSON.stringify(rotated.value)).toBe(1);
    const documents = emf(rotated.output);
    expect(documents.reduce((sum, d) => sum + (d.secret_refreshes ?? 0), 0)).toBe(1);
    expect(messages(rotated.output).some((m) => /has a new value: building the clients again/.test(m))).toBe(true);
    const read = await kcat([
      '-C',
      '-b',
      broker().listeners.PLAINTEXT.bootstrapServers,
      '-t',
      topic,
      '-e',
      '-q',
      '-f',
      '%s\n',
    ]);
    expect(read.stdout.split('\n')).toEqual(expect.arrayContaining(['before rotation', 'after rotation']));
    console.log(
      `[secrets] rotated password picked up by the warm environment in ${tookMs} ms (broker restarted first)`,
    );
    expectNoSecretIn([...allOutput(), JSON.stringify(cold), JSON.stringify(rotated)]);
  });

  it('reads the password from an SSM SecureString, and names a missing secret and the fix', async () => {
    // Prepare
    const user = broker().listeners.SASL_SSL.username as string;
    const password = `ssm-${randomUUID()}`;
    values.push(password);
    await setScramPassword(broker(), user, password);
    const name = `/lambda-kafka/${randomUUID().slice(0, 8)}/sasl-password`;
    await ssm.send(new PutParameterCommand({ Name: name, Value: password, Type: 'SecureString' }));
    const env = referenceEnv(broker(), { KAFKA_SASL_USERNAME: user });
    const fromSsm = await handlerEnvironment('handlers/produce.ts', { ...env, KAFKA_SASL_PASSWORD_PARAMETER: name });
    const missing = await handlerEnvironment('handlers/health-check.ts', {
      ...env,
      KAFKA_SASL_PASSWORD_SECRET: 'lambda-kafka/does-not-exist',
    });

    // Act
    const sent = await fromSsm.invoke<{ sent: number }>({ messages: [{ value: 'from ssm' }] }, 20_000);
    const health = await missing.invoke<{ status: string; reasons: string[] }>({}, 20_000);

    // Assess
    expect(sent.ok, sent.error?.message).toBe(true);
    expect(sent.value?.sent).toBe(1);
    const reasons = health.ok ? (health.value?.reasons ?? []).join(' | ') : (health.error?.message ?? '');
    expect(reasons).toMatch(/KAFKA_SASL_PASSWORD_SECRET: the secret "lambda-kafka\/does-not-exist" does not exist/);
    expectNoSecretIn([...allOutput(), JSON.stringify(sent), JSON.stringify(health)]);
  });
});
