/** handlers/produce.ts in an emulated Lambda against the local broker, read back with kcat. */
import { rmSync } from 'node:fs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, envFor } from '../support/env.js';
import { insideFound } from '../support/http.js';
import { createTopic, recordBatches, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { handlerEnvironment, logLines } from '../support/lambda.js';
import { createTestPki, type TestPki } from '../support/pki.js';

const topic = uniqueName('produce');
const otherTopic = uniqueName('produce-other');
let env: Record<string, string>;
type HttpAnswer = { statusCode: number; body: string };

beforeAll(async () => {
  await createTopic(topic, 3);
  await createTopic(otherTopic, 1);
  env = { ...envFor('SASL_SSL'), KAFKA_TOPICS: `${topic},${otherTopic}` };
});

function sqsRecord(messageId: string, body: string): SQSEvent['Records'][number] {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {} as SQSEvent['Records'][number]['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:produce',
    awsRegion: 'eu-west-1',
  };
}

function httpRequest(body: string, isBase64Encoded = false): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /messages',
    rawPath: '/messages',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/messages' } } as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded,
  };
}

describe('a direct invocation', () => {
  it('sends 1,000 messages in one invocation; kcat reads back the same keys, values and headers', async () => {
    // Prepare
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      key: `key-${i}`,
      value: i % 2 === 0 ? `text value ${i}` : { order: i, items: ['a', 'b'] },
      headers: { 'x-index': String(i), 'x-source': 'test' },
    }));

    // Act
    const result = await lambda.invoke<{
      sent: number;
      failed: number;
      results: { ok: boolean; partition: number; offset: string }[];
    }>({ messages }, 30_000);

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.value).toMatchObject({ sent: 1000, failed: 0 });
    const read = await readWithKcat('PLAINTEXT', topic);
    const byKey = new Map(read.map((m) => [m.key, m]));
    expect(read).toHaveLength(1000);
    for (const [i, message] of messages.entries()) {
      const got = byKey.get(message.key);
      expect(got?.payload).toBe(typeof message.value === 'string' ? message.value : JSON.stringify(message.value));
      expect(got?.headers).toEqual(message.headers);
      // Each message reports where it landed.
      expect(result.value?.results[i]).toMatchObject({
        ok: true,
        partition: got?.partition,
        offset: String(got?.offset),
      });
    }
  });

  it('fails the invocation with the reasons when the request is not a message list', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const result = await lambda.invoke({ message: 'oops' }, 10_000);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toBe('Invalid produce request: expected { "messages": [ { "value": ... }, ... ] }');
  });

  it('with KAFKA_PRODUCE_LINGER_MS, sends what an invocation queued at once: 500 messages in one record batch per partition, without waiting out the linger', async () => {
    // Prepare: a linger far longer than the send, so that waiting it out would show
    const batched = uniqueName('produce-batched');
    await createTopic(batched, 3);
    const lambda = await handlerEnvironment('handlers/produce.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: batched,
      KAFKA_PRODUCE_LINGER_MS: '1000',
    });
    await lambda.invoke({ messages: [{ value: 'warm-up' }] }, 30_000);
    const batchesOf = () => Promise.all([0, 1, 2].map((p) => recordBatches(batched, p)));
    const before = (await batchesOf()).map((list) => list.length);
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k-${i}`, value: 'x'.repeat(1024) }));

    // Act
    const started = Date.now();
    const result = await lambda.invoke<{ sent: number }>({ messages }, 30_000);
    const single = Date.now();
    const one = await lambda.invoke<{ sent: number }>({ messages: [{ value: 'one' }] }, 30_000);
    const ended = Date.now();

    // Assess
    expect(result.value?.sent).toBe(500);
    expect(one.value?.sent).toBe(1);
    expect(single - started).toBeLessThan(1000);
    expect(ended - single).toBeLessThan(1000);
    const batches = (await batchesOf()).flatMap((list, p) => list.slice(before[p]));
    // 500 in three batches (one per partition), then the single message in one.
    expect(batches).toHaveLength(4);
    expect(batches.reduce((sum, count) => sum + count, 0)).toBe(501);
  });

  it("waits for deliveries when one invocation's messages overflow the producer's queue (KAFKA_CLIENT_MEMORY_MB=8): every one sent, once", async () => {
    // Prepare: 10,000 × 8 KB is 80 MB, the queue takes 8 MB (queue.buffering.max.kbytes)
    const full = uniqueName('produce-queue-full');
    await createTopic(full, 3);
    const lambda = await handlerEnvironment('handlers/produce.ts', {
      ...envFor('PLAINTEXT'),
      KAFKA_TOPICS: full,
      KAFKA_CLIENT_MEMORY_MB: '8',
    });
    const value = 'v'.repeat(8192);
    const messages = Array.from({ length: 10_000 }, (_, i) => ({ key: `k-${i}`, value }));

    // Act
    const result = await lambda.invoke<{ sent: number; failed: number; results: { ok: boolean; error?: string }[] }>(
      { messages },
      60_000,
    );

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.value?.results.find((r) => !r.ok)?.error).toBeUndefined();
    expect(result.value).toMatchObject({ sent: 10_000, failed: 0 });
    const read = await readWithKcat('PLAINTEXT', full);
    expect(read).toHaveLength(10_000);
    expect(new Set(read.map((m) => m.key)).size).toBe(10_000);
  });
});

describe('an SQS batch', () => {
  it('reports exactly the invalid records in batchItemFailures and sends the rest', async () => {
    // Prepare
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const event: SQSEvent = {
      Records: [
        sqsRecord('good-1', JSON.stringify({ topic: otherTopic, key: 'sqs-1', value: 'one' })),
        sqsRecord('not-json', '{"value": '),
        sqsRecord('good-2', JSON.stringify({ topic: otherTopic, key: 'sqs-2', value: 'two' })),
        sqsRecord('no-value', JSON.stringify({ topic: otherTopic, key: 'sqs-3' })),
        sqsRecord('foreign-topic', JSON.stringify({ topic: 'not-configured', value: 'x' })),
        sqsRecord('bad-header', JSON.stringify({ topic: otherTopic, value: 'x', headers: { n: 1 } })),
      ],
    };

    // Act
    const result = await lambda.invoke<{ batchItemFailures: { itemIdentifier: string }[] }>(event, 20_000);

    // Assess
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.value?.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      ['bad-header', 'foreign-topic', 'no-value', 'not-json'].sort(),
    );
    const read = await readWithKcat('PLAINTEXT', otherTopic);
    expect(read.map((m) => [m.key, m.payload])).toEqual([
      ['sqs-1', 'one'],
      ['sqs-2', 'two'],
    ]);
  });
});

describe('an HTTP API request', () => {
  it('answers 400 to a body that is not JSON, and to invalid messages, sending nothing', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const badJson = await lambda.invoke<HttpAnswer>(httpRequest('{"value": oops'), 10_000);
    expect(badJson.value?.statusCode).toBe(400);
    expect(JSON.parse(badJson.value?.body ?? '{}').error).toMatch(/^The request body is not JSON: /);
    const invalid = await lambda.invoke<{ statusCode: number; body: string }>(
      httpRequest(JSON.stringify({ messages: [{ value: 'ok' }, { key: 'k' }] })),
      10_000,
    );
    expect(invalid.value?.statusCode).toBe(400);
    expect(JSON.parse(invalid.value?.body ?? '{}')).toMatchObject({
      reason: 'INVALID_REQUEST',
      errors: [{ index: 1, error: expect.stringMatching(/value/) }],
    });
  });

  it('answers 400 "topic is not allowed" to a topic outside the configured ones, naming neither the variable nor the allowed topics', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const result = await lambda.invoke<HttpAnswer>(
      httpRequest(
        JSON.stringify({
          messages: [
            { topic: otherTopic, value: 'ok' },
            { topic: 'payroll', value: 'x' },
          ],
        }),
      ),
      10_000,
    );
    expect(result.value?.statusCode).toBe(400);
    expect(JSON.parse(result.value?.body ?? '{}')).toMatchObject({
      error: 'Invalid messages: nothing was sent',
      errors: [{ index: 1, error: 'topic "payroll" is not allowed' }],
      requestId: expect.any(String),
    });
    expect(result.value?.body).not.toMatch(/KAFKA_/);
    expect(result.value?.body).not.toContain(topic);
  });

  it('answers 200 with where each message landed (base64 bodies too)', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', env);
    const body = Buffer.from(JSON.stringify({ topic: otherTopic, key: 'http', value: 'via http' })).toString('base64');
    const result = await lambda.invoke<{ statusCode: number; body: string }>(httpRequest(body, true), 10_000);
    expect(result.value?.statusCode).toBe(200);
    expect(JSON.parse(result.value?.body ?? '{}')).toMatchObject({
      sent: 1,
      results: [{ ok: true, topic: otherTopic, partition: 0 }],
    });
  });

  it('answers 413 to a body over KAFKA_HTTP_MAX_BODY_BYTES before parsing it (base64 measured decoded), sending nothing', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', { ...env, KAFKA_HTTP_MAX_BODY_BYTES: '1000' });
    const fits = JSON.stringify({ topic: otherTopic, key: 'fits', value: 'x'.repeat(900) });
    const over = JSON.stringify({ topic: otherTopic, key: 'too-large', value: 'x'.repeat(1000) });

    const accepted = await lambda.invoke<HttpAnswer>(httpRequest(Buffer.from(fits).toString('base64'), true), 10_000);
    const refused = await lambda.invoke<HttpAnswer>(httpRequest(over), 10_000);
    const refused64 = await lambda.invoke<HttpAnswer>(httpRequest(Buffer.from(over).toString('base64'), true), 10_000);
    // Not even parsed: a body that is not JSON is refused for its size, not for its syntax.
    const notJson = await lambda.invoke<HttpAnswer>(httpRequest('{'.repeat(1001)), 10_000);

    expect(accepted.value?.statusCode, accepted.value?.body).toBe(200);
    for (const [answer, bytes] of [
      [refused, over.length],
      [refused64, over.length],
      [notJson, 1001],
    ] as const) {
      expect(answer.value?.statusCode).toBe(413);
      expect(JSON.parse(answer.value?.body ?? '{}')).toMatchObject({
        error: `The request body is ${bytes} bytes, more than the 1000 accepted: send fewer or smaller messages per request. Nothing was sent.`,
        reason: 'TOO_LARGE',
        limitBytes: 1000,
      });
    }
    const read = await readWithKcat('PLAINTEXT', otherTopic);
    expect(read.map((m) => m.key)).toContain('fits');
    expect(read.map((m) => m.key)).not.toContain('too-large');
  });
});

describe('an HTTP API request when Kafka is unavailable', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

  const faults: { name: string; env: () => Promise<Record<string, string>>; cause: RegExp }[] = [
    {
      name: 'a wrong SASL password',
      env: async () => ({ ...env, KAFKA_SASL_PASSWORD: 'wrong-password-for-503' }),
      cause: /AUTHENTICATION \(-169\): SASL authentication failed: .*check KAFKA_SASL_MECHANISM/,
    },
    {
      name: 'a broker address nothing listens on',
      env: async () => ({
        ...envFor('SSL'),
        KAFKA_TOPICS: topic,
        KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}`,
        KAFKA_COORDINATOR_WAIT_TIMEOUT: '3',
      }),
      cause: /connection refused .*127\.0\.0\.1:\d+/,
    },
    {
      name: 'a CA file that did not issue the broker certificate',
      env: async () => ({ ...envFor('SSL'), KAFKA_TOPICS: topic, KAFKA_SSL_CAFILE: pki.otherCaFile }),
      cause: /BROKER_CERTIFICATE_UNTRUSTED .*other-ca\/ca\.pem \(KAFKA_SSL_CAFILE\)/,
    },
  ];

  it.each(faults)(
    '$name: 503 with the request id and nothing of the cluster (no host, port, path, variable, mechanism); the cause in the log',
    async (fault) => {
      // Prepare
      const lambda = await handlerEnvironment('handlers/produce.ts', {
        ...(await fault.env()),
        KAFKA_CONSUMER_INIT_RETRIES: '0',
      });

      // Act
      const result = await lambda.invoke<HttpAnswer>(httpRequest(JSON.stringify({ value: 'x' })), 20_000);

      // Assess: the body is the generic one, with this invocation's request id
      expect(result.value?.statusCode, result.value?.body).toBe(503);
      const body = JSON.parse(result.value?.body ?? '{}');
      expect(body).toEqual({
        error:
          'Kafka is unavailable: no message was sent. Retry later; sending this request again cannot duplicate its messages.',
        reason: 'UNAVAILABLE',
        retrySafe: true,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(insideFound(result.value?.body ?? '')).toEqual([]);
      expect(result.value?.body).not.toContain('wrong-password-for-503');
      // The log has the cause, under the same request id
      const logged = logLines(result.output).find((line) => line.message.startsWith('HTTP 503, nothing sent: '));
      expect(logged?.message, result.output.join('\n')).toMatch(fault.cause);
      expect(logged).toMatchObject({ level: 'ERROR', statusCode: 503, function_request_id: body.requestId });
      expect(result.output.join('\n')).not.toContain('wrong-password-for-503');
    },
    60_000,
  );
});
