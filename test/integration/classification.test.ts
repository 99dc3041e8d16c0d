/**
 * Every error case a real broker can produce, created against local brokers and classified
 * from what the binding gives us (its error and the client's own log lines).
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
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

  it('a CA that did not sign the broker certificate is a rejected broker certificate, a configuration error', async () => {
    // The log cannot tell an untrusted certificate from a misnamed or expired one: src/ssl/tls-causes.ts
    // does, with a handshake of its own (test/unit/tls-causes.test.ts, test/integration/fault-causes.test.ts).
    const classification = await classifyAdminFailure({ ...envFor('SSL'), KAFKA_SSL_CAFILE: pki.otherCaFile });
    expect(classification).toMatchObject({ code: -181, name: 'BROKER_CERTIFICATE_REJECTED', kind: 'config' });
    expect(classification.summary).toMatch(/the certificate of broker 127\.0\.0\.1:\d+ could not be verified/);
    expect(classification.hint).toMatch(/lambda-kafka diagnose/);
  });

  it('no client certificate on the mutual-TLS listener is a refused client certificate, a configuration error', async () => {
    const { KAFKA_SSL_CERTFILE: _c, KAFKA_SSL_KEYFILE: _k, ...withoutCertificate } = envFor('SSL');
    const classification = await classifyAdminFailure(withoutCertificate);
    expect(classification).toMatchObject({ code: -181, name: 'CLIENT_CERTIFICATE_REFUSED', kind: 'config' });
    expect(classification.hint).toMatch(/KAFKA_SSL_CERTFILE/);
  });

  it('a PLAINTEXT client on the TLS port is NOT_PLAIN_KAFKA, a configuration error, not a slow broker', async () => {
    const port = envFor('SASL_SSL').KAFKA_BOOTSTRAP_SERVERS as string;
    const classification = await classifyAdminFailure({ KAFKA_BOOTSTRAP_SERVERS: port });
    expect(classification).toMatchObject({ code: -195, name: 'NOT_PLAIN_KAFKA', kind: 'config', broker: port });
    expect(classification.hint).toMatch(/Set KAFKA_USE_SSL=true/);
  });

  it('a TLS client on the PLAINTEXT port is NOT_TLS, a configuration error', async () => {
    const port = envFor('PLAINTEXT').KAFKA_BOOTSTRAP_SERVERS as string;
    const classification = await classifyAdminFailure({ ...envFor('SASL_SSL'), KAFKA_BOOTSTRAP_SERVERS: port });
    expect(classification).toMatchObject({ code: -181, name: 'NOT_TLS', kind: 'config', broker: port });
    expect(classification.hint).toMatch(/Set KAFKA_USE_SSL=false/);
  });

  it('an HTTP server is NOT_KAFKA, a configuration error that says what answered', async () => {
    const server = createServer((_, res) => res.end('hello'));
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const classification = await classifyAdminFailure({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${port}` });
      expect(classification).toMatchObject({ code: -195, name: 'NOT_KAFKA', kind: 'config' });
      expect(classification.summary).toMatch(/answered the first Kafka request with "HTTP" \(an HTTP server\)/);
    } finally {
      server.close();
    }
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
