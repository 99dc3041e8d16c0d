/** What the produce function answers an HTTP caller: its own input's problems, and nothing of the cluster's inside. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { bodyBytes, partialFailure, tooLarge, unavailable } from '../../src/produce/http.js';
import { parseMessage } from '../../src/produce/messages.js';
import type { MessageResult } from '../../src/produce/produce.js';
import { insideFound } from '../support/http.js';

const REQUEST_ID = '8f0e4c1a-1111-4222-8333-944455556666';

const event = (body: string, isBase64Encoded = false) =>
  ({ body, isBase64Encoded, requestContext: { http: {} } }) as unknown as APIGatewayProxyEventV2;

describe('bodyBytes', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(bodyBytes(event('{"value":"é"}'))).toBe(14);
  });

  it('measures a base64 body decoded', () => {
    const text = 'x'.repeat(1000);
    expect(bodyBytes(event(Buffer.from(text).toString('base64'), true))).toBe(1000);
  });

  it('is 0 without a body', () => {
    expect(bodyBytes({ requestContext: { http: {} } } as unknown as APIGatewayProxyEventV2)).toBe(0);
  });
});

describe('the error answers', () => {
  it('413 names the size and the limit, and the request id', () => {
    const answer = tooLarge(2_000_000, 1_048_576, REQUEST_ID);
    expect(answer.statusCode).toBe(413);
    expect(JSON.parse(answer.body as string)).toEqual({
      error:
        'The request body is 2000000 bytes, more than the 1048576 accepted: send fewer or smaller messages per request. Nothing was sent.',
      reason: 'TOO_LARGE',
      limitBytes: 1_048_576,
      requestId: REQUEST_ID,
    });
  });

  it.each([true, false])(
    '503 (retrySafe %s) says unavailable, retry later, whether a retry can duplicate, and the request id; nothing else',
    (safe) => {
      const answer = unavailable(REQUEST_ID, safe);
      const body = JSON.parse(answer.body as string);
      expect(answer.statusCode).toBe(503);
      expect(Object.keys(body).sort()).toEqual(['error', 'reason', 'requestId', 'retrySafe']);
      expect(body).toMatchObject({ reason: 'UNAVAILABLE', retrySafe: safe, requestId: REQUEST_ID });
      expect(body.error).toMatch(/^Kafka is unavailable: .* Retry later; /);
      expect(body.error).toMatch(safe ? /cannot duplicate/ : /can duplicate/);
      expect(insideFound(answer.body as string)).toEqual([]);
    },
  );

  it('502 gives each message its outcome — partition and offset when sent, retriable when not — and never the error text', () => {
    const results: MessageResult[] = [
      { index: 0, ok: true, topic: 'orders', partition: 2, offset: '41' },
      {
        index: 1,
        ok: false,
        topic: 'orders',
        error: 'not delivered in time: TRANSPORT (-195): connection refused by ipv4#127.0.0.1:9094',
        errorName: 'TRANSPORT',
        retriable: true,
      },
      {
        index: 2,
        ok: false,
        topic: 'orders',
        error: 'MSG_SIZE_TOO_LARGE (10): message too large',
        errorName: 'MSG_SIZE_TOO_LARGE',
        retriable: false,
      },
    ];
    const answer = partialFailure({ sent: 1, failed: 2, results }, REQUEST_ID);
    expect(answer.statusCode).toBe(502);
    expect(JSON.parse(answer.body as string)).toEqual({
      error: expect.stringMatching(/^Some messages were not sent: resend only those with ok false and retriable true/),
      reason: 'PARTIAL_FAILURE',
      retrySafe: false,
      sent: 1,
      failed: 2,
      results: [
        { index: 0, ok: true, topic: 'orders', partition: 2, offset: '41' },
        { index: 1, ok: false, retriable: true },
        { index: 2, ok: false, retriable: false },
      ],
      requestId: REQUEST_ID,
    });
    expect(answer.body).not.toMatch(/127\.0\.0\.1|TRANSPORT|MSG_SIZE/);
  });
});

describe('topic errors', () => {
  const rules = { defaultTopic: undefined, allowedTopics: ['orders', 'refunds'] };

  it('tell an HTTP caller the topic is not allowed, without the variable or the allowed list', () => {
    const parsed = parseMessage({ topic: 'payroll', value: 'x' }, { ...rules, forCaller: true });
    expect(parsed).toEqual({ ok: false, error: 'topic "payroll" is not allowed' });
  });

  it('tell an HTTP caller a topic is required, without the variable', () => {
    const parsed = parseMessage({ value: 'x' }, { defaultTopic: undefined, allowedTopics: [], forCaller: true });
    expect(parsed).toEqual({ ok: false, error: 'topic is required' });
  });

  it('tell the operator (direct invocations, SQS records in the log) which variable to change', () => {
    expect(parseMessage({ topic: 'payroll', value: 'x' }, rules)).toEqual({
      ok: false,
      error: 'topic "payroll" is not one of KAFKA_TOPICS (orders, refunds)',
    });
  });
});

describe('KAFKA_HTTP_MAX_BODY_BYTES', () => {
  const base = { KAFKA_BOOTSTRAP_SERVERS: 'b:9092' };

  it('defaults to 1 MiB', () => {
    expect(loadConfig(base).produce.httpMaxBodyBytes).toBe(1_048_576);
  });

  it("refuses more than Lambda's 6 MiB synchronous payload, naming the variable", () => {
    expect(() => loadConfig({ ...base, KAFKA_HTTP_MAX_BODY_BYTES: '10000000' })).toThrow(/KAFKA_HTTP_MAX_BODY_BYTES/);
  });
});
