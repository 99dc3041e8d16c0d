import { createRequire } from 'node:module';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { KAFKA_CAUSES } from '../../src/errors/causes.js';
import { type ClientLogLine, causeFromLogs, classifyKafkaError, LOG_PATTERNS } from '../../src/errors/classify.js';
import {
  AttemptTimeoutError,
  CertificateError,
  ConfigError,
  causeLine,
  KafkaOperationError,
  RetryError,
} from '../../src/errors/errors.js';
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

  it('names each cause a code is too generic for once, with a code of the table and a fix; a setting to fix is never retried', () => {
    const codes = new Set(KAFKA_ERRORS.map((e) => e.code));
    expect(new Set(KAFKA_CAUSES.map((c) => c.name)).size).toBe(KAFKA_CAUSES.length);
    for (const cause of KAFKA_CAUSES) {
      expect(codes.has(cause.code), cause.name).toBe(true);
      // Only a cluster that cannot hand out producer ids, and a token that expired on its way (a new one
      // is signed), are waited for: everything else is the function's settings.
      const waited = ['PRODUCER_ID_UNAVAILABLE', 'MSK_IAM_TOKEN_EXPIRED'];
      expect(cause.kind, cause.name).toBe(waited.includes(cause.name) ? 'transient' : 'config');
      expect(cause.hint, cause.name).toMatch(/KAFKA_|broker|diagnose|controller/);
    }
  });

  it('every cause a log pattern names is in the table', () => {
    const named = new Set(KAFKA_CAUSES.map((c) => c.name));
    for (const entry of LOG_PATTERNS) {
      if (typeof entry.cause === 'string') expect(named.has(entry.cause), entry.cause).toBe(true);
    }
  });
});

describe("AWS_MSK_IAM (OAUTHBEARER) failures, from the broker's answer and the token callback", () => {
  const refused = (status: string) =>
    `[thrd:sasl_ssl://127.0.0.1:19094/bootstrap]: sasl_ssl://127.0.0.1:19094/bootstrap: SASL authentication error: {"status":"${status}"} (after 305ms in state AUTH_REQ)`;

  it('a refused token is MSK_IAM_TOKEN_REFUSED with the status, a setting to fix', () => {
    const cause = causeFromLogs([line(refused('wrong_region: signed for host kafka.eu-west-1.amazonaws.com'))]);
    expect(cause).toMatchObject({
      code: -169,
      name: 'MSK_IAM_TOKEN_REFUSED',
      kind: 'config',
      broker: '127.0.0.1:19094',
    });
    expect(cause?.summary).toBe(
      'MSK_IAM_TOKEN_REFUSED (-169): 127.0.0.1:19094 refused the AWS_MSK_IAM token: wrong_region: signed for host kafka.eu-west-1.amazonaws.com',
    );
    expect(cause?.hint).toMatch(/AWS_REGION must be the cluster's region/);
  });

  it('an expired token is MSK_IAM_TOKEN_EXPIRED, retried with a new one', () => {
    const cause = causeFromLogs([line(refused('expired_token: expired at 2026-12-03T07:06:32Z'))]);
    expect(cause).toMatchObject({ code: -169, name: 'MSK_IAM_TOKEN_EXPIRED', kind: 'transient', retriable: true });
  });

  it('a password refusal is still AUTHENTICATION', () => {
    expect(causeFromLogs([line(CAPTURED.wrongPassword)])).toMatchObject({ name: 'AUTHENTICATION' });
  });

  it('a token callback that failed is MSK_IAM_SIGNING_FAILED, with its reason', () => {
    const cause = causeFromLogs([
      line(
        "oauthbearer_token_refresh_cb: AWS_MSK_IAM: the role's credentials expired at 2026-12-03T07:06:32.809Z: a token signed with them is refused",
        'ERROR',
      ),
    ]);
    expect(cause).toMatchObject({ code: -169, name: 'MSK_IAM_SIGNING_FAILED', kind: 'config' });
    expect(cause?.summary).toBe(
      "MSK_IAM_SIGNING_FAILED (-169): no token was signed: AWS_MSK_IAM: the role's credentials expired at 2026-12-03T07:06:32.809Z: a token signed with them is refused",
    );
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
      'BROKER_CERTIFICATE_REJECTED',
      'config',
    ],
    [
      'ssl://b:9093/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (after 1ms in state APIVERSION_QUERY)',
      'CLIENT_CERTIFICATE_REFUSED',
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

/** librdkafka 2.15's lines, as the binding's event.log delivers them (captured against local brokers and servers). */
const CAPTURED = {
  plaintextOnTlsPort:
    '[thrd:127.0.0.1:19093/bootstrap]: 127.0.0.1:19093/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 4ms in state APIVERSION_QUERY)',
  plaintextOnTlsPortAgain:
    '[thrd:127.0.0.1:19094/bootstrap]: 127.0.0.1:19094/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 1ms in state APIVERSION_QUERY, 1 identical error(s) suppressed)',
  httpServer:
    '[thrd:127.0.0.1:32919/bootstrap]: 127.0.0.1:32919/bootstrap: Receive failed: Invalid response size 1213486160 (0..100000000): increase receive.message.max.bytes (after 1ms in state APIVERSION_QUERY)',
  tlsOnPlaintextPort:
    '[thrd:ssl://127.0.0.1:19092/bootstrap]: ssl://127.0.0.1:19092/bootstrap: SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a PLAINTEXT broker listener? (after 25ms in state SSL_HANDSHAKE)',
  tlsOnHttpServer:
    '[thrd:ssl://127.0.0.1:32919/bootstrap]: ssl://127.0.0.1:32919/bootstrap: SSL handshake failed: error:0A00010B:SSL routines::wrong version number (after 1ms in state SSL_HANDSHAKE)',
  sanMismatch:
    '[thrd:ssl://127.0.0.2:19993/bootstrap]: ssl://127.0.0.2:19993/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 31ms in state SSL_HANDSHAKE)',
  untrustedSaslSsl:
    '[thrd:sasl_ssl://127.0.0.1:19094/bootstrap]: sasl_ssl://127.0.0.1:19094/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 35ms in state SSL_HANDSHAKE)',
  noClientCertificateKafka:
    '[thrd:ssl://127.0.0.1:19093/bootstrap]: ssl://127.0.0.1:19093/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert bad certificate: SSL alert number 42 (after 2ms in state APIVERSION_QUERY)',
  noClientCertificateOpenSsl:
    '[thrd:ssl://127.0.0.1:40871/bootstrap]: ssl://127.0.0.1:40871/bootstrap: Receive failed: error:0A00045C:SSL routines::tlsv13 alert certificate required: SSL alert number 116 (after 0ms in state APIVERSION_QUERY)',
  wrongPassword:
    '[thrd:sasl_ssl://127.0.0.1:19094/bootstrap]: sasl_ssl://127.0.0.1:19094/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 367ms in state AUTH_REQ)',
};

describe('a port that answers in another protocol, from the line librdkafka logs', () => {
  it.each([
    [
      'a PLAINTEXT client on a TLS port, twice',
      [CAPTURED.plaintextOnTlsPort, CAPTURED.plaintextOnTlsPort],
      '127.0.0.1:19093',
    ],
    ['the same, its repeat suppressed', [CAPTURED.plaintextOnTlsPortAgain], '127.0.0.1:19094'],
  ])(
    '%s is NOT_PLAIN_KAFKA: a configuration fault that names the port and KAFKA_USE_SSL=true',
    (_, messages, broker) => {
      const cause = causeFromLogs(messages.map((message) => line(message, 'FAIL')));
      expect(cause).toMatchObject({ code: -195, name: 'NOT_PLAIN_KAFKA', kind: 'config', retriable: false, broker });
      expect(causeLine(cause as never)).toBe(
        `NOT_PLAIN_KAFKA (-195): ${broker} closed the connection at the first Kafka request: this port does not speak plain Kafka, probably a TLS listener. ` +
          "Set KAFKA_USE_SSL=true (the broker's SSL or SASL_SSL listener), or put the broker's PLAINTEXT port in KAFKA_BOOTSTRAP_SERVERS.",
      );
    },
  );

  it('an HTTP server is NOT_KAFKA: its first bytes, "HTTP", are what librdkafka read as a response size', () => {
    const cause = causeFromLogs([line(CAPTURED.httpServer)]);
    expect(cause).toMatchObject({ name: 'NOT_KAFKA', kind: 'config', broker: '127.0.0.1:32919' });
    expect(cause?.summary).toBe(
      'NOT_KAFKA (-195): 127.0.0.1:32919 is not a Kafka broker: it answered the first Kafka request with "HTTP" (an HTTP server)',
    );
    expect(cause?.hint).toMatch(/^Check the host and port in KAFKA_BOOTSTRAP_SERVERS/);
  });

  it('other first bytes are shown as they are, and a TLS record header means a TLS listener', () => {
    const answered = (size: number) =>
      causeFromLogs([
        line(
          `127.0.0.1:9/bootstrap: Receive failed: Invalid response size ${size} (0..100000000): increase receive.message.max.bytes (after 0ms in state APIVERSION_QUERY)`,
        ),
      ]);
    expect(answered(0x5353482d)?.summary).toMatch(/with "SSH-" \(an SSH server\)$/);
    expect(answered(0x01020304 | 0x80000000 | 0)?.summary).toMatch(/with bytes 0x81020304$/);
    // A TLS alert record: content type 21, version 3.3.
    expect(answered(0x15030300)).toMatchObject({ name: 'NOT_PLAIN_KAFKA' });
  });

  it('a huge response size after the first request is not read as a foreign server', () => {
    const later =
      '127.0.0.1:9092/1: Receive failed: Invalid response size 1213486160 (0..100000000): increase receive.message.max.bytes (after 5000ms in state UP)';
    expect(causeFromLogs([line(later)])?.name).not.toBe('NOT_KAFKA');
  });

  it.each([
    [
      'a TLS client on a PLAINTEXT listener, twice',
      [CAPTURED.tlsOnPlaintextPort, CAPTURED.tlsOnPlaintextPort],
      '127.0.0.1:19092',
    ],
    [
      'the same, its repeat suppressed',
      [
        CAPTURED.tlsOnPlaintextPort.replace(
          'in state SSL_HANDSHAKE',
          'in state SSL_HANDSHAKE, 3 identical error(s) suppressed',
        ),
      ],
      '127.0.0.1:19092',
    ],
    ['a TLS client on an HTTP server', [CAPTURED.tlsOnHttpServer], '127.0.0.1:32919'],
    [
      'OpenSSL 1.1 wording',
      [
        'ssl://10.0.0.1:9092/bootstrap: SSL handshake failed: error:1408F10B:SSL routines:ssl3_get_record:packet length too long (after 2ms in state SSL_HANDSHAKE)',
      ],
      '10.0.0.1:9092',
    ],
  ])('%s is NOT_TLS, with KAFKA_USE_SSL=false as the fix', (_, messages, broker) => {
    const cause = causeFromLogs(messages.map((message) => line(message)));
    expect(cause).toMatchObject({ code: -181, name: 'NOT_TLS', kind: 'config', broker });
    expect(causeLine(cause as never)).toBe(
      `NOT_TLS (-181): ${broker} does not speak TLS (a PLAINTEXT listener?). ` +
        "Set KAFKA_USE_SSL=false, or put the broker's TLS port (its SSL or SASL_SSL listener) in KAFKA_BOOTSTRAP_SERVERS.",
    );
  });

  it('a TLS handshake the broker closed once is a transient transport failure, whatever librdkafka guesses', () => {
    // Logged by a function during the cluster tests' rolling restart, once, by a broker shutting down.
    const closed =
      '[thrd:sasl_ssl://127.0.0.1:22094/1]: sasl_ssl://127.0.0.1:22094/1: SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a PLAINTEXT broker listener? (after 197ms in state SSL_HANDSHAKE)';
    expect(causeFromLogs([line(closed)])).toMatchObject({
      code: -195,
      name: 'TRANSPORT',
      kind: 'transient',
      broker: '127.0.0.1:22094',
      summary:
        'TRANSPORT (-195): 127.0.0.1:22094 closed the connection during the TLS handshake (a broker shutting down or starting does this)',
    });
  });

  it('a TLS handshake reset by the broker is a transient transport failure, whatever librdkafka guesses', () => {
    // Logged by a function during the cluster tests' rolling restart.
    const reset =
      '[thrd:sasl_ssl://127.0.0.1:22094/1]: sasl_ssl://127.0.0.1:22094/1: SSL handshake failed: Disconnected: connection reset by peer: connecting to a PLAINTEXT broker listener? (after 45ms in state SSL_HANDSHAKE)';
    expect(causeFromLogs([line(reset)])).toMatchObject({
      code: -195,
      name: 'TRANSPORT',
      kind: 'transient',
      broker: '127.0.0.1:22094',
      summary:
        'TRANSPORT (-195): 127.0.0.1:22094 reset the connection during the TLS handshake (a broker shutting down or starting does this)',
    });
  });

  it('one connection closed at the first request is not enough: a broker shutting down may do that once', () => {
    expect(causeFromLogs([line(CAPTURED.plaintextOnTlsPort)])?.name).not.toBe('NOT_PLAIN_KAFKA');
  });

  it('a connection a broker closes later, or a TLS connection closed at the first request, is not NOT_PLAIN_KAFKA', () => {
    for (const message of [
      '127.0.0.1:9092/1: Disconnected: connection closed by peer: receive 0 after POLLIN (after 60012ms in state UP)',
      'sasl_ssl://127.0.0.1:9094/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 3ms in state APIVERSION_QUERY)',
    ]) {
      expect(causeFromLogs([line(message)])?.name).not.toBe('NOT_PLAIN_KAFKA');
    }
  });
});

describe('TLS failures, from the line librdkafka logs', () => {
  it.each([
    ['a SAN mismatch', CAPTURED.sanMismatch, '127.0.0.2:19993'],
    ['an untrusted broker certificate', CAPTURED.untrustedSaslSsl, '127.0.0.1:19094'],
  ])(
    '%s is the same "certificate verify failed": BROKER_CERTIFICATE_REJECTED, for src/ssl/tls-causes.ts to tell apart',
    (_, message, broker) => {
      expect(causeFromLogs([line(message)])).toMatchObject({
        code: -181,
        name: 'BROKER_CERTIFICATE_REJECTED',
        kind: 'config',
        broker,
        summary: `BROKER_CERTIFICATE_REJECTED (-181): the certificate of broker ${broker} could not be verified (certificate verify failed)`,
      });
    },
  );

  it.each([
    ["Kafka's alert", CAPTURED.noClientCertificateKafka],
    ["OpenSSL's TLS 1.3 alert", CAPTURED.noClientCertificateOpenSsl],
  ])(
    'a missing or refused client certificate (%s) is CLIENT_CERTIFICATE_REFUSED, naming KAFKA_SSL_CERTFILE',
    (_, message) => {
      const cause = causeFromLogs([line(message)]);
      expect(cause).toMatchObject({ code: -181, name: 'CLIENT_CERTIFICATE_REFUSED', kind: 'config' });
      expect(cause?.hint).toMatch(/KAFKA_SSL_CERTFILE \/ KAFKA_SSL_CERT_PEM/);
    },
  );

  it('a wrong password is still AUTHENTICATION, named before anything else the log says', () => {
    const cause = causeFromLogs([line(CAPTURED.plaintextOnTlsPort), line(CAPTURED.wrongPassword)]);
    expect(cause).toMatchObject({ code: -169, name: 'AUTHENTICATION', kind: 'config' });
  });
});

describe('one line for every failure (causeLine)', () => {
  it('a certificate problem is one line: each problem with its file, then each fix', () => {
    const error = new CertificateError(
      [
        {
          variable: 'KAFKA_SSL_CERTFILE',
          source: '/var/task/client.pem',
          message: 'Client certificate expired on 2025-01-01T00:00:00.000Z',
          fix: 'renew it and deploy the new certificate',
        },
        {
          variable: 'KAFKA_SSL_KEYFILE',
          source: '/var/task/key.pem',
          message: 'Private key is encrypted and no password is configured',
          fix: 'set KAFKA_SSL_KEY_PASSWORD',
        },
      ],
      ['checklist'],
    );
    expect(causeLine(classifyKafkaError(error))).toBe(
      'INVALID_CERTIFICATE: Client certificate expired on 2025-01-01T00:00:00.000Z (/var/task/client.pem); ' +
        'Private key is encrypted and no password is configured (/var/task/key.pem). ' +
        'Renew it and deploy the new certificate. Set KAFKA_SSL_KEY_PASSWORD.',
    );
  });

  it('a configuration problem is one line too', () => {
    const error = new ConfigError([{ variables: ['KAFKA_USE_SSL'], message: 'KAFKA_USE_SSL: expected true or false' }]);
    expect(causeLine(classifyKafkaError(error))).toBe(
      "INVALID_CONFIGURATION: KAFKA_USE_SSL: expected true or false. Fix these variables in the function's environment (serverless.yml) and redeploy.",
    );
  });

  it('a RetryError puts the cause line first, after its operation, and how it was tried second, in whole milliseconds', () => {
    const classification = causeFromLogs([line(CAPTURED.httpServer)]);
    const error = new RetryError({
      operation: 'Producer initialization',
      attempts: 1,
      elapsedMs: 604.4000000000001,
      reason: 'fatal',
      classification: classification as never,
    });
    const [first, second] = error.message.split('\n');
    expect(first).toBe(`Producer initialization failed: ${causeLine(classification as never)}`);
    expect(second).toBe('(1 attempt in 604 ms; stopped at once: retrying cannot fix this)');
    expect(classifyKafkaError(new KafkaOperationError('x', classification as never))).toBe(classification);
  });

  it('an attempt timeout is told in whole milliseconds', () => {
    expect(new AttemptTimeoutError('connecting', 3246.10009765625).message).toBe(
      'connecting did not finish within 3246 ms',
    );
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
