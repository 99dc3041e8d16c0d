import { createRequire } from 'node:module';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { type ClientLogLine, classifyKafkaError } from '../../src/errors/classify.js';
import { AttemptTimeoutError, ConfigError } from '../../src/errors/errors.js';
import { KAFKA_ERRORS } from '../../src/errors/table.js';

// The binding's own converter from native errors to KafkaJS errors, where its bugs live.
const { createKafkaJsErrorFromLibRdKafkaError } = createRequire(import.meta.url)(
  '@confluentinc/kafka-javascript/lib/kafkajs/_common.js',
) as { createKafkaJsErrorFromLibRdKafkaError: (e: object) => Error & { code: number; type: unknown } };

function throughBinding(nativeError: object): unknown {
  try {
    return createKafkaJsErrorFromLibRdKafkaError(nativeError);
  } catch (error) {
    return error;
  }
}

const line = (message: string, facility = 'FAIL'): ClientLogLine => ({ message, facility, timestamp: Date.now() });

describe('the classification table', () => {
  it("names every code as the binding's ErrorCodes do", () => {
    const codes = KafkaJS.ErrorCodes as unknown as Record<string, number>;
    for (const entry of KAFKA_ERRORS) {
      const names = Object.keys(codes).filter((name) => codes[name] === entry.code);
      expect(names, `code ${entry.code}`).toContain(entry.code < 0 ? `ERR__${entry.name}` : `ERR_${entry.name}`);
    }
  });

  it('covers the cases the design depends on', () => {
    const byName = new Map(KAFKA_ERRORS.map((e) => [e.name, e.kind]));
    expect(
      Object.fromEntries(
        [
          'TRANSPORT',
          'ALL_BROKERS_DOWN',
          'RESOLVE',
          'TIMED_OUT',
          'SSL',
          'AUTHENTICATION',
          'SASL_AUTHENTICATION_FAILED',
          'COORDINATOR_LOAD_IN_PROGRESS',
          'COORDINATOR_NOT_AVAILABLE',
          'NOT_COORDINATOR',
          'REQUEST_TIMED_OUT',
          'TOPIC_AUTHORIZATION_FAILED',
          'GROUP_AUTHORIZATION_FAILED',
          'UNKNOWN_TOPIC_OR_PART',
          'MSG_TIMED_OUT',
          'QUEUE_FULL',
          'FATAL',
        ].map((name) => [name, byName.get(name)]),
      ),
    ).toEqual({
      TRANSPORT: 'transient',
      ALL_BROKERS_DOWN: 'transient',
      RESOLVE: 'config',
      TIMED_OUT: 'transient',
      SSL: 'config',
      AUTHENTICATION: 'config',
      SASL_AUTHENTICATION_FAILED: 'config',
      COORDINATOR_LOAD_IN_PROGRESS: 'transient',
      COORDINATOR_NOT_AVAILABLE: 'transient',
      NOT_COORDINATOR: 'transient',
      REQUEST_TIMED_OUT: 'transient',
      TOPIC_AUTHORIZATION_FAILED: 'config',
      GROUP_AUTHORIZATION_FAILED: 'config',
      UNKNOWN_TOPIC_OR_PART: 'config',
      MSG_TIMED_OUT: 'transient',
      QUEUE_FULL: 'transient',
      FATAL: 'fatal',
    });
  });

  it('has one entry per code and a hint for each', () => {
    expect(new Set(KAFKA_ERRORS.map((e) => e.code)).size).toBe(KAFKA_ERRORS.length);
    for (const entry of KAFKA_ERRORS) expect(entry.hint.length).toBeGreaterThan(10);
  });
});

describe('the binding bugs classification survives (@confluentinc/kafka-javascript 1.10)', () => {
  it('code 15 comes out of the binding as a TypeError, and is still COORDINATOR_NOT_AVAILABLE', () => {
    // Act
    const thrown = throughBinding({ code: 15, message: 'Broker: Coordinator not available', isRetriable: true });

    // Assess: the bug is still there (if this fails, the binding was fixed: simplify classify.ts)
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe('error.KafkaJSGroupCoordinatorNotAvailableError is not a constructor');
    expect(classifyKafkaError(thrown)).toMatchObject({
      code: 15,
      name: 'COORDINATOR_NOT_AVAILABLE',
      kind: 'transient',
    });
  });

  it.each([14, 16])('code %i has type -1 from the binding, and is still classified by its code', (code) => {
    const converted = throughBinding({ code, message: 'x', isRetriable: true }) as {
      type: unknown;
      retriable: boolean;
    };
    expect(converted.type).toBe(-1);
    expect(converted.retriable).toBe(false);
    expect(classifyKafkaError(converted)).toMatchObject({ code, kind: 'transient', retriable: true });
  });

  it('a message-only error with code -1 is recognised by its librdkafka text', () => {
    const error = Object.assign(new Error('broker transport failure'), { code: -1 });
    expect(classifyKafkaError(error)).toMatchObject({ code: -195, name: 'TRANSPORT' });
  });

  it('an unknown code is not retried unless the native error says it is retriable', () => {
    expect(classifyKafkaError({ code: 4242, message: 'new' })).toMatchObject({ name: 'UNKNOWN_4242', kind: 'fatal' });
    expect(classifyKafkaError({ code: 4242, message: 'new', isRetriable: true })).toMatchObject({ kind: 'transient' });
  });
});

describe('refining a generic failure with what librdkafka logged', () => {
  const transport = Object.assign(new Error('Local: Broker transport failure'), { code: -195 });

  it.each([
    [
      'sasl_ssl://b:9094/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 311ms in state AUTH_REQ)',
      'AUTHENTICATION',
      'config',
    ],
    [
      'ssl://b:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 4ms in state SSL_HANDSHAKE)',
      'SSL',
      'config',
    ],
    [
      'ssl://b:9093/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (after 1ms in state APIVERSION_QUERY)',
      'SSL',
      'config',
    ],
    [
      "x:9092/bootstrap: Failed to resolve 'x:9092': Name or service not known (after 1ms in state CONNECT)",
      'RESOLVE',
      'config',
    ],
    [
      'Group "g" FindCoordinator response error: COORDINATOR_NOT_AVAILABLE: The coordinator is not available.',
      'COORDINATOR_NOT_AVAILABLE',
      'transient',
    ],
    [
      'Consumer encountered error while consuming. Retrying. Error details: KafkaJSProtocolError: Broker: Topic authorization failed',
      'TOPIC_AUTHORIZATION_FAILED',
      'config',
    ],
  ])('%s → %s', (message, name, kind) => {
    const classification = classifyKafkaError(transport, { recentLogs: [line('unrelated'), line(message)] });
    expect(classification).toMatchObject({ name, kind });
    expect(classification.summary).toContain('Broker transport failure');
    expect(classification.evidence).toBeTruthy();
  });

  it('keeps a specific broker code even when the log says something else', () => {
    const acl = Object.assign(new Error('Broker: Topic authorization failed'), { code: 29 });
    const recentLogs = [line('SASL authentication error: nope')];
    expect(classifyKafkaError(acl, { recentLogs })).toMatchObject({ name: 'TOPIC_AUTHORIZATION_FAILED' });
  });

  it('leaves the generic classification when the log has nothing specific', () => {
    expect(classifyKafkaError(transport, { recentLogs: [line('Producer connected')] })).toMatchObject({
      name: 'TRANSPORT',
    });
  });
});

describe("this library's own errors", () => {
  it('an attempt timeout is a transient TIMED_OUT', () => {
    expect(classifyKafkaError(new AttemptTimeoutError('connect', 100))).toMatchObject({
      code: -185,
      kind: 'transient',
    });
  });
  it('a configuration error is never retried', () => {
    expect(classifyKafkaError(new ConfigError([{ variables: ['X'], message: 'X: bad' }]))).toMatchObject({
      kind: 'config',
      retriable: false,
    });
  });
  it('a plain programming error is not retried', () => {
    expect(classifyKafkaError(new RangeError('oops'))).toMatchObject({ name: 'UNCLASSIFIED', kind: 'fatal' });
  });
});
