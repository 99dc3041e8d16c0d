/** handlers/produce.ts in an emulated Lambda against the local broker, read back with kcat. */
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { handlerEnvironment } from '../support/lambda.js';

const topic = uniqueName('produce');
const otherTopic = uniqueName('produce-other');
let env: Record<string, string>;

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
    const badJson = await lambda.invoke<{ statusCode: number; body: string }>(httpRequest('{"value": oops'), 10_000);
    expect(badJson.value?.statusCode).toBe(400);
    expect(JSON.parse(badJson.value?.body ?? '{}').error).toMatch(/^The request body is not JSON: /);
    const invalid = await lambda.invoke<{ statusCode: number; body: string }>(
      httpRequest(JSON.stringify({ messages: [{ value: 'ok' }, { key: 'k' }] })),
      10_000,
    );
    expect(invalid.value?.statusCode).toBe(400);
    expect(JSON.parse(invalid.value?.body ?? '{}')).toMatchObject({
      errors: [{ index: 1, error: expect.stringMatching(/value/) }],
    });
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

  it('answers 503 with the reason when Kafka is unavailable', async () => {
    const lambda = await handlerEnvironment('handlers/produce.ts', {
      ...env,
      KAFKA_SASL_PASSWORD: 'wrong-password-for-503',
      KAFKA_CONSUMER_INIT_RETRIES: '0',
    });
    const result = await lambda.invoke<{ statusCode: number; body: string }>(
      httpRequest(JSON.stringify({ value: 'x' })),
      15_000,
    );
    expect(result.value?.statusCode).toBe(503);
    expect(JSON.parse(result.value?.body ?? '{}')).toMatchObject({
      reason: 'AUTHENTICATION',
      error: expect.stringMatching(/^Kafka is unavailable: /),
    });
    expect(result.value?.body).not.toContain('wrong-password-for-503');
  });
});
