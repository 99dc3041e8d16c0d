/**
 * Every error case a real broker can produce, created against local brokers and classified
 * from what the binding gives us (its error and the client's own log lines).
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Classification, classifyKafkaError } from '../../src/errors/classify.js';
import { AttemptTimeoutError } from '../../src/errors/errors.js';
import { createDeniedTopic, useBroker } from '../support/brokers.js';
import { clientFor, closedPort, envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { createTestPki, type TestPki } from '../support/pki.js';

async function classifyAdminFailure(env: Record<string, string>): Promise<Classification> {
  const { client: admin, recorder } = clientFor('admin', env);
  await admin.connect();
  try {
    await admin.listTopics({ timeout: 4000 });
  } catch (error) {
    return classifyKafkaError(error, { recentLogs: recorder.recent() });
  } finally {
    await admin.disconnect();
  }
  throw new Error('expected listTopics to fail');
}

/** Joins a group and waits for an assignment, as consumer initialisation does; classifies the failure. */
async function classifyJoinFailure(
  env: Record<string, string>,
  topic: string,
  waitMs: number,
): Promise<Classification> {
  const { client: consumer, recorder } = clientFor(
    'consumer',
    { ...env, KAFKA_CONSUMER_GROUP_ID: uniqueName('group') },
    { debug: 'cgrp' },
  );
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    consumer.run({ eachMessage: async () => {} }).catch(() => {});
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (consumer.assignment().length > 0)
        throw new Error('expected the join to fail, but the consumer got an assignment');
      await sleep(200);
    }
    return classifyKafkaError(new AttemptTimeoutError('consumer join', waitMs), { recentLogs: recorder.recent() });
  } finally {
    await consumer.disconnect();
  }
}

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

describe('against the default broker', () => {
  it('a closed port is a transient TRANSPORT error: connection refused', async () => {
    const classification = await classifyAdminFailure({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}` });
    expect(classification).toMatchObject({ code: -195, name: 'TRANSPORT', kind: 'transient' });
    expect(classification.evidence).toMatch(/Connection refused/);
  });

  it('a CA that did not sign the broker certificate is an SSL configuration error', async () => {
    const classification = await classifyAdminFailure({ ...envFor('SSL'), KAFKA_SSL_CAFILE: pki.otherCaFile });
    expect(classification).toMatchObject({ code: -181, name: 'SSL', kind: 'config' });
    expect(classification.summary).toMatch(/certificate verify failed/);
    expect(classification.hint).toMatch(/Please verify: 1\. the CA certificate/);
  });

  it('no client certificate on the mutual-TLS listener is an SSL configuration error', async () => {
    const { KAFKA_SSL_CERTFILE: _c, KAFKA_SSL_KEYFILE: _k, ...withoutCertificate } = envFor('SSL');
    const classification = await classifyAdminFailure(withoutCertificate);
    expect(classification).toMatchObject({ code: -181, name: 'SSL', kind: 'config' });
    expect(classification.summary).toMatch(/refused the client certificate/);
  });

  it('a wrong SCRAM password is an AUTHENTICATION configuration error', async () => {
    const classification = await classifyAdminFailure({ ...envFor('SASL_SSL'), KAFKA_SASL_PASSWORD: 'wrong-password' });
    expect(classification).toMatchObject({ code: -169, name: 'AUTHENTICATION', kind: 'config' });
    expect(classification.summary).toMatch(/invalid credentials with SASL mechanism SCRAM-SHA-512/);
  });

  it('an unresolvable broker host is a RESOLVE configuration error', async () => {
    const classification = await classifyAdminFailure({ KAFKA_BOOTSTRAP_SERVERS: 'no-such-broker.invalid:9092' });
    expect(classification).toMatchObject({ code: -193, name: 'RESOLVE', kind: 'config' });
  });

  it('metadata of a topic that does not exist is UNKNOWN_TOPIC_OR_PART, a configuration error', async () => {
    // A producer sending to a missing topic only sees MSG_TIMED_OUT after message.timeout.ms, which is
    // why the initializer verifies topics through metadata, as here.
    const { client: admin } = clientFor('admin', envFor('PLAINTEXT'));
    await admin.connect();
    const error = await admin
      .fetchTopicMetadata({ topics: [uniqueName('never-created')], timeout: 4000 })
      .catch((e: unknown) => e);
    await admin.disconnect();
    expect(classifyKafkaError(error)).toMatchObject({ code: 3, name: 'UNKNOWN_TOPIC_OR_PART', kind: 'config' });
  });
});

describe('with a group coordinator that can never be available', () => {
  const broker = useBroker('coordinator');

  it('the consumer never joins, and the failure is COORDINATOR_NOT_AVAILABLE (15)', async () => {
    // Prepare: offsets.topic.replication.factor=2 on a single broker: __consumer_offsets cannot be created
    const topic = uniqueName('orders');
    await createTopic(topic, 1, 'coordinator');

    // Act
    const classification = await classifyJoinFailure(envFor('PLAINTEXT', broker()), topic, 6000);

    // Assess
    expect(classification).toMatchObject({ code: 15, name: 'COORDINATOR_NOT_AVAILABLE', kind: 'transient' });
    expect(classification.evidence).toMatch(/FindCoordinator response error: COORDINATOR_NOT_AVAILABLE/);
    expect(classification.hint).toMatch(/offsets\.topic\.replication\.factor/);
  });
});

describe('with an authorizer and a topic the client may not use', () => {
  const broker = useBroker('acl');

  it('producing is TOPIC_AUTHORIZATION_FAILED, and consuming logs it while retrying forever', async () => {
    // Prepare: the topic has an ACL for someone else only
    const topic = await createDeniedTopic('acl', broker(), 'denied');
    const env = envFor('SASL_SSL', broker());

    // Act
    const { client: producer } = clientFor('producer', env, { 'message.timeout.ms': 5000 });
    await producer.connect();
    const produceError = await producer.send({ topic, messages: [{ value: 'x' }] }).catch((e: unknown) => e);
    await producer.disconnect();
    const joinFailure = await classifyJoinFailure(env, topic, 4000);

    // Assess
    expect(classifyKafkaError(produceError)).toMatchObject({
      code: 29,
      name: 'TOPIC_AUTHORIZATION_FAILED',
      kind: 'config',
    });
    expect(joinFailure).toMatchObject({ code: 29, name: 'TOPIC_AUTHORIZATION_FAILED', kind: 'config' });
  });
});
