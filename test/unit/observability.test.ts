import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { Secret } from '../../src/config/secret.js';
import { ClientLogRecorder } from '../../src/observability/client-log.js';
import { EmfWriter, metricsDisabled } from '../../src/observability/emf.js';
import { createLogger } from '../../src/observability/logger.js';
import { KafkaMetrics, METRIC_NAMES } from '../../src/observability/metrics.js';
import { Redactor } from '../../src/observability/redact.js';

const run = promisify(execFile);
const KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  '-----END PRIVATE KEY-----',
].join('\n');

let printed: string[];
beforeEach(() => {
  printed = [];
  const capture = (chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('the EMF document on stdout', () => {
  it('comes after what process.stdout still holds for a slow reader, never inside another line', async () => {
    const fixture = join(REPO_ROOT, 'test/fixtures/stdout-order.ts');
    // The reader starts half a second late, so the pipe fills and Node queues most of the first line;
    // the fixture then blocks its event loop while the reader empties the pipe.
    const { stdout } = await run('bash', ['-c', `node --import tsx '${fixture}' | (sleep 0.5; cat)`], {
      cwd: REPO_ROOT,
      maxBuffer: 4 << 20,
    });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(String(parsed[0]?.message)).toHaveLength(300_000);
    expect(parsed[1]).toMatchObject({ service: 'stdout-order', consumer_init_attempts: 1 });
    // The case the order matters in happened: part of the first line was still queued in the stream.
    expect(parsed[2]).toMatchObject({ message: 'after' });
    expect(Number(parsed[2]?.queued)).toBeGreaterThan(0);
  });

  it('goes to a process.stdout.write set before the library was loaded (a log shipper), not around it', async () => {
    const script = [
      'const lines = []; process.stdout.write = (chunk) => { lines.push(String(chunk)); return true; };',
      "const { EmfWriter } = await import('./src/observability/emf.ts');",
      "new EmfWriter({ namespace: 'Shipped', serviceName: 'shipper' }).publish(new Map([['m', { unit: 'Count', value: 2 }]]));",
      'process.stderr.write(JSON.stringify(lines));',
    ].join('\n');
    const { stdout, stderr } = await run('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
    });
    expect(stdout).toBe('');
    const lines = JSON.parse(stderr) as string[];
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ service: 'shipper', m: 2 });
  });
});

describe('Redactor', () => {
  it('masks registered secrets wherever they appear, and every line of a registered key', () => {
    const redactor = new Redactor();
    redactor.register(new Secret('hunter2-password'), KEY, undefined, 'ab');
    expect(redactor.redact('user:hunter2-password@broker')).toBe('user:***@broker');
    expect(redactor.redact('fragment MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7 here')).toBe(
      'fragment *** here',
    );
    expect(redactor.redact('ab is too short to mask')).toBe('ab is too short to mask');
  });

  it('cuts out any PEM private key, registered or not', () => {
    const other = KEY.replace('MIIEvQ', 'OTHERK');
    expect(new Redactor().redact(`key: ${other} end`)).toBe('key: [private key redacted] end');
  });

  it('masks values of keys that name a secret, whatever they hold', () => {
    const { replacer } = new Redactor();
    expect(replacer('sasl.password', 'x1')).toBe('***');
    expect(replacer('keyPassword', 'x2')).toBe('***');
    expect(replacer('username', 'alice')).toBe('alice');
  });
});

describe('createLogger', () => {
  it('prints JSON in which registered secrets are masked, in messages, attributes and errors', () => {
    // Prepare
    const redactor = new Redactor();
    redactor.register('s3cr3t-value');
    const logger = createLogger(redactor, 'svc');

    // Act
    logger.info('login s3cr3t-value', { detail: 'has s3cr3t-value', nested: { deep: 's3cr3t-value' } });
    logger.error('failed', new Error('refused s3cr3t-value'));

    // Assess
    const out = printed.join('');
    expect(out).not.toContain('s3cr3t-value');
    const [info, error] = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(info).toMatchObject({ message: 'login ***', detail: 'has ***', nested: { deep: '***' }, service: 'svc' });
    expect(error.error.message).toBe('refused ***');
  });
});

describe('KafkaMetrics', () => {
  it('flushes one EMF document per invocation with the counts summed and connection errors always present', () => {
    // Prepare
    const metrics = new KafkaMetrics(
      new EmfWriter({ namespace: 'TestNs', serviceName: 'svc' }, (line) => printed.push(line)),
    );

    // Act
    metrics.count(METRIC_NAMES.consumerInitAttempts);
    metrics.count(METRIC_NAMES.consumerInitAttempts);
    metrics.stageDuration('broker_health', 12);
    metrics.flush();
    metrics.flush();

    // Assess
    const documents = printed
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(documents).toHaveLength(2);
    expect(documents[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'TestNs', Dimensions: [['service']] }] },
      service: 'svc',
      consumer_init_attempts: 2,
      init_duration_broker_health: 12,
      connection_errors_total: 0,
    });
    expect(documents[0]._aws.CloudWatchMetrics[0].Metrics).toContainEqual({
      Name: 'consumer_init_attempts',
      Unit: 'Count',
    });
    expect(documents[1]).not.toHaveProperty('consumer_init_attempts');
    expect(metrics.total(METRIC_NAMES.consumerInitAttempts)).toBe(2);
  });
});

describe('EmfWriter', () => {
  const parsed = () =>
    printed
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));

  it('writes the document Powertools Metrics writes for the same metrics, as one line', () => {
    // Prepare
    const reference = new Metrics({ namespace: 'Ns "quoted"', serviceName: 'svc-1' });
    reference.addMetric('connection_errors_total', 'Count', 0);
    reference.addMetric('messages_produced', 'Count', 3);
    reference.addMetric('init_duration_producer', 'Milliseconds', 41.5);
    const expected = reference.serializeMetrics();
    const values = new Map([
      ['connection_errors_total', { unit: 'Count', value: 0 }],
      ['messages_produced', { unit: 'Count', value: 3 }],
      ['init_duration_producer', { unit: 'Milliseconds', value: 41.5 }],
    ] as const);

    // Act
    const writer = new EmfWriter({ namespace: 'Ns "quoted"', serviceName: 'svc-1' }, (line) => printed.push(line));
    writer.publish(values, expected._aws.Timestamp);
    writer.publish(values, expected._aws.Timestamp);

    // Assess
    expect(printed).toHaveLength(2);
    expect(printed[0]?.endsWith('}\n')).toBe(true);
    expect(parsed()).toEqual([expected, expected]);
  });

  it('writes nothing for no values, and nothing when POWERTOOLS_METRICS_DISABLED or POWERTOOLS_DEV says so', () => {
    // Prepare
    const one = new Map([['messages_produced', { unit: 'Count', value: 1 }]] as const);

    // Act
    const capture = (line: string) => printed.push(line);
    new EmfWriter({ namespace: 'Ns', serviceName: 'svc' }, capture).publish(new Map());
    new EmfWriter({ namespace: 'Ns', serviceName: 'svc', disabled: true }, capture).publish(one);

    // Assess
    expect(printed).toEqual([]);
    expect(metricsDisabled({})).toBe(false);
    expect(metricsDisabled({ POWERTOOLS_METRICS_DISABLED: 'true' })).toBe(true);
    expect(metricsDisabled({ POWERTOOLS_DEV: 'yes' })).toBe(true);
    // POWERTOOLS_METRICS_DISABLED wins over POWERTOOLS_DEV, as in Powertools.
    expect(metricsDisabled({ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' })).toBe(false);
  });
});

describe('ClientLogRecorder', () => {
  function recorder() {
    const forwarded: string[] = [];
    const log = {
      debug: () => {},
      info: (m: string) => forwarded.push(m),
      warn: (m: string) => forwarded.push(m),
      error: (m: string) => forwarded.push(m),
    };
    return { forwarded, recorder: new ClientLogRecorder('producer', log, { capacity: 5 }) };
  }

  it('forwards a line repeated back to back once a second, with the number held back, and keeps it as one line', () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const { forwarded, recorder: r } = recorder();
    r.warn('Connect to ipv4#10.0.0.1:9092 failed: Connection refused');

    // Act
    for (let i = 0; i < 40; i++) {
      r.error('Error: all broker connections are down', { fac: 'ERROR' });
      vi.advanceTimersByTime(50);
    }
    vi.useRealTimers();

    // Assess
    expect(forwarded).toEqual([
      'Connect to ipv4#10.0.0.1:9092 failed: Connection refused',
      'Error: all broker connections are down',
      'Error: all broker connections are down (and 19 identical line(s) before it)',
    ]);
    // The explaining line is still among the kept ones (capacity 5), and the repeat's time is its last.
    expect(r.recent().map((l) => l.message)).toEqual([
      'Connect to ipv4#10.0.0.1:9092 failed: Connection refused',
      'Error: all broker connections are down',
    ]);
    expect(r.recent(1900)).toHaveLength(1);
    expect(r.recent(1900)[0]).toMatchObject({ firstSeen: 0, timestamp: 1950 });
  });

  it('keeps a line that comes again after a pause as a new occurrence', () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const { forwarded, recorder: r } = recorder();

    // Act: every 500 ms for a second, then again after 10 s (an environment thawed)
    for (let i = 0; i < 3; i++) {
      r.warn('Failed to acquire idempotence PID from broker b:9092/1: Broker: Coordinator load in progress: retrying');
      vi.advanceTimersByTime(500);
    }
    vi.advanceTimersByTime(10_000);
    r.warn('Failed to acquire idempotence PID from broker b:9092/1: Broker: Coordinator load in progress: retrying');
    vi.useRealTimers();

    // Assess
    expect(r.recent().map(({ firstSeen, timestamp }) => ({ firstSeen, timestamp }))).toEqual([
      { firstSeen: 0, timestamp: 1000 },
      { firstSeen: undefined, timestamp: 11_500 },
    ]);
    expect(forwarded).toHaveLength(3);
  });

  it("forwards librdkafka's retry of a broker's first producer id at INFO, the same retry again at WARN, and keeps them for the stall check", () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const levels: string[] = [];
    const at = (level: string) => (m: string) => levels.push(`${level} ${m.slice(-24)}`);
    const r = new ClientLogRecorder('producer', {
      debug: at('DEBUG'),
      info: at('INFO'),
      warn: at('WARN'),
      error: at('ERROR'),
    });
    const loading =
      'Failed to acquire idempotence PID from broker b:9092/1: Broker: Coordinator load in progress: retrying';

    // Act: once (a broker's first request after its start), another error, then the first again and again
    r.warn(loading, { fac: 'GETPID' });
    r.warn('Failed to acquire idempotence PID from broker b:9092/1: Broker: Cluster authorization failed', {
      fac: 'GETPID',
    });
    vi.advanceTimersByTime(6000);
    for (let i = 0; i < 3; i++) {
      r.warn(loading, { fac: 'GETPID' });
      vi.advanceTimersByTime(500);
    }
    vi.useRealTimers();

    // Assess
    expect(levels).toEqual([
      'INFO ad in progress: retrying',
      'WARN ter authorization failed',
      'INFO ad in progress: retrying',
      'WARN tical line(s) before it)',
    ]);
    expect(r.recent()).toHaveLength(3);
  });

  it('forwards a broker going away at WARN, and a setting to fix at ERROR', () => {
    // Prepare
    const levels: string[] = [];
    const log = {
      debug: () => {},
      info: () => {},
      warn: (m: string) => levels.push(`WARN ${m.slice(0, 40)}`),
      error: (m: string) => levels.push(`ERROR ${m.slice(0, 40)}`),
    };
    const r = new ClientLogRecorder('producer', log);

    // Act: librdkafka's error-level lines (severity 3) of a broker restart, then of a wrong password
    for (const message of [
      'sasl_ssl://127.0.0.1:22094/1: SSL handshake failed: Disconnected: connection reset by peer: connecting to a PLAINTEXT broker listener? (after 45ms in state SSL_HANDSHAKE)',
      'sasl_ssl://127.0.0.1:22094/1: SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a PLAINTEXT broker listener? (after 197ms in state SSL_HANDSHAKE)',
      'sasl_ssl://127.0.0.1:22094/1: Connect to ipv4#127.0.0.1:22094 failed: Connection refused (after 0ms in state CONNECT)',
      // The soak's rolling restart: the coordinator's connection broke while authenticating.
      'GroupCoordinator: SASL authentication error: SaslAuthenticateRequest failed: Local: Broker transport failure (after 1ms in state AUTH_REQ)',
      'sasl_ssl://127.0.0.1:22094/1: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 367ms in state AUTH_REQ)',
    ])
      r.error(message, { fac: 'FAIL' });

    // Assess
    expect(levels.map((l) => l.split(' ')[0])).toEqual(['WARN', 'WARN', 'WARN', 'WARN', 'ERROR']);
  });

  it("forwards a broker's refusal of a token that lapsed in a freeze at INFO, uncounted, and any other expired-token refusal at WARN", () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const levels: string[] = [];
    const at = (level: string) => (m: string) => levels.push(`${level} ${m}`);
    const log = { debug: () => {}, info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
    let lapsed = true;
    let failures = 0;
    const r = new ClientLogRecorder('producer', log, {
      tokenLapsed: () => lapsed,
      onConnectionFailure: (n) => {
        failures += n;
      },
    });
    const refusal =
      'sasl_ssl://127.0.0.1:19094/1: SASL authentication error: {"status":"expired_token: expired at 2026-12-03T10:07:14Z"} (after 321ms in state AUTH_REQ)';

    // Act: what a thaw brings (the refusal and the binding's two reports of it), then, 5 s on, the
    // same refusal of a token that had not lapsed (a clock behind), and its report
    r.error(refusal, { fac: 'FAIL' });
    r.error('Error: authentication failure', { fac: 'ERROR' });
    r.error('Error: all broker connections are down', { fac: 'ERROR' });
    const afterThaw = failures;
    vi.advanceTimersByTime(5000);
    lapsed = false;
    r.error(refusal.replace('10:07:14', '10:07:19'), { fac: 'FAIL' });
    r.error('Error: all broker connections are down', { fac: 'ERROR' });
    vi.useRealTimers();

    // Assess
    expect(levels.map((l) => l.split(' ')[0])).toEqual(['INFO', 'INFO', 'INFO', 'WARN', 'WARN']);
    expect(levels[0]).toContain('(expected after a freeze: the token expired while the process was frozen');
    expect(levels[3]).not.toContain('expected');
    expect(afterThaw).toBe(0);
    expect(failures).toBe(1);
  });

  it('forwards a group session that ran out in a freeze at INFO, and one that ran out otherwise at WARN', () => {
    // Prepare
    const levels: string[] = [];
    const at = (level: string) => (m: string) => levels.push(`${level} ${m}`);
    const log = { debug: () => {}, info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
    let frozen = true;
    const r = new ClientLogRecorder('consumer', log, { sessionLapsed: () => frozen });
    const timedOut = (ms: number) =>
      `[thrd:main]: Consumer group session timed out (in join-state steady) after ${ms} ms without a successful response from the group coordinator (broker 2, last error was Success): revoking assignment and rejoining group`;

    // Act: at a thaw after a long freeze, then with the process running all along
    r.warn(timedOut(17621), { fac: 'SESSTMOUT' });
    frozen = false;
    r.warn(timedOut(30012), { fac: 'SESSTMOUT' });

    // Assess
    expect(levels.map((l) => l.split(' ')[0])).toEqual(['INFO', 'WARN']);
    expect(levels[0]).toContain('(expected after a freeze: the process was frozen longer than the consumer session');
    expect(levels[1]).not.toContain('expected');
  });

  it('forwards different lines as they come', () => {
    const { forwarded, recorder: r } = recorder();
    for (const m of ['a', 'b', 'a', 'b']) r.warn(m);
    expect(forwarded).toEqual(['a', 'b', 'a', 'b']);
  });
});
