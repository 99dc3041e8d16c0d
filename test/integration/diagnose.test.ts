/**
 * `lambda-kafka diagnose` against local brokers set up to fail in each way the seed's
 * troubleshooting section lists: it must name the finding and the fix, within 10 s, exit non-zero,
 * and print no secret (text or --json). A healthy setup prints the seed's sequence and exits 0.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import { issueCertificate } from '../../scripts/kafka/certs.js';
import { readConnection } from '../../scripts/kafka/connection.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { createDeniedTopic, startTestBroker, useBroker } from '../support/brokers.js';
import { closedPort, envFor } from '../support/env.js';
import { iamEnv, issueIamCredentials } from '../support/iam.js';
import { createTopic, topicExists, uniqueName } from '../support/kafka.js';
import { createTestPki, type TestPki } from '../support/pki.js';

interface Run {
  code: number;
  output: string;
  ms: number;
}

let dir: string;
let pki: TestPki;
/** Every output of every run in this file, scanned for secrets at the end. */
const outputs: string[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-diagnose-'));
  pki = createTestPki();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

/** Runs the command with `env` written to an --env-file, as a user would. */
function diagnose(env: Record<string, string>, ...flags: string[]): Promise<Run> {
  return command('diagnose', env, ...flags);
}

function command(name: 'diagnose' | 'health', env: Record<string, string>, ...flags: string[]): Promise<Run> {
  const file = join(dir, `${uniqueName('env')}.env`);
  writeFileSync(
    file,
    Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n'),
  );
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/lambda-kafka.mjs'), name, '--env-file', file, ...flags],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH }, timeout: 30_000 },
      (error, stdout, stderr) => {
        outputs.push(stdout + stderr);
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr, ms: Date.now() - started });
      },
    );
  });
}

/**
 * The ✗ line whose text matches `finding`, and its fix: on the next line, or — for a classified
 * cause, printed as the one line a function shows for it — in the same line.
 */
function expectFinding(run: Run, finding: RegExp, fix: RegExp): void {
  const lines = run.output.split('\n');
  const at = lines.findIndex((line) => line.trimStart().startsWith('✗') && finding.test(line));
  expect(at, `no ✗ line matching ${finding} in:\n${run.output}`).toBeGreaterThanOrEqual(0);
  const next = lines[at + 1] ?? '';
  if (/^ {6}fix: /.test(next)) expect(next).toMatch(fix);
  else expect(lines[at]).toMatch(fix);
  expect(run.code).not.toBe(0);
  expect(run.ms).toBeLessThan(10_000);
}

const SEED_SEQUENCE = [
  /✓ CA certificate file exists: /,
  /SSL certificate validation completed successfully/,
  /SSL context created successfully/,
  /Initializing Kafka admin client/,
  /Admin client started successfully/,
  /Verifying Kafka broker health/,
  /✓ Kafka cluster is healthy: \d+ topics found/,
  /Initializing Kafka producer/,
  /Producer started successfully/,
  /Initializing Kafka consumer/,
  /✓ Consumer connected successfully/,
  /Kafka service initialized successfully/,
];

describe('against the default broker', () => {
  const topic = uniqueName('diag');
  const base = (): Record<string, string> => ({
    ...envFor('SASL_SSL'),
    KAFKA_TOPICS: topic,
    KAFKA_CONSUMER_GROUP_ID: uniqueName('diag-group'),
  });
  beforeAll(() => createTopic(topic, 2));

  it("a healthy setup prints the seed's sequence, every check passes, exit 0, no secret in text or JSON", async () => {
    const env = base();
    const text = await diagnose(env);
    const json = await diagnose(env, '--json');

    expect(text.code, text.output).toBe(0);
    let from = 0;
    for (const pattern of SEED_SEQUENCE) {
      const index = text.output.split('\n').findIndex((line, i) => i >= from && pattern.test(line));
      expect(index, `${pattern}`).toBeGreaterThanOrEqual(from);
      from = index + 1;
    }
    expect(text.output).toMatch(/✓ status: healthy/);
    expect(text.output).toMatch(/✓ TLS 127\.0\.0\.1:\d+: TLSv1\.[23]; broker certificate CN=localhost/);
    expect(text.output).toMatch(/✓ SASL authentication: authenticated as lambda-kafka \(SCRAM-SHA-512\)/);
    expect(text.output).not.toMatch(/✗/);
    expect(text.output).toMatch(/== Result: healthy \(\d+ ms\)\n$/);
    expect(JSON.parse(json.output)).toMatchObject({ ok: true, status: 'healthy' });
    for (const run of [text, json]) expect(run.output).not.toContain(env.KAFKA_SASL_PASSWORD);
  });

  it('`lambda-kafka health` prints getHealthStatus() as JSON, exit 0 when healthy', async () => {
    const env = base();
    const run = await command('health', env);
    expect(run.code, run.output).toBe(0);
    expect(JSON.parse(run.output)).toMatchObject({
      status: 'healthy',
      statistics: { last_probe: { ok: true } },
      configuration: { sasl_username: 'lambda-kafka' },
    });
    expect(run.output).not.toContain(env.KAFKA_SASL_PASSWORD);
  });

  it('with AWS_MSK_IAM: every check passes as the function role, health is healthy, and a wrong secret key is named with its fix', async () => {
    // Prepare
    const credentials = issueIamCredentials();
    const env = { ...iamEnv(credentials), KAFKA_TOPICS: topic, KAFKA_CONSUMER_GROUP_ID: uniqueName('diag-iam') };

    // Act
    const good = await diagnose(env);
    const health = await command('health', env);
    const wrong = await diagnose({ ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret-of-this-key-diag' });

    // Assess
    expect(good.code, good.output).toBe(0);
    expect(good.output).toMatch(/✓ SASL authentication: authenticated as the function role \(AWS_MSK_IAM\)/);
    expect(good.output).not.toMatch(/✗/);
    expect(health.code, health.output).toBe(0);
    expect(JSON.parse(health.output)).toMatchObject({ status: 'healthy' });
    expectFinding(wrong, /refused the AWS_MSK_IAM token: signature_mismatch/, /kafka-cluster:Connect/);
    for (const run of [good, health, wrong]) {
      expect(run.output).not.toContain(credentials.AWS_SECRET_ACCESS_KEY);
      expect(run.output).not.toContain(credentials.AWS_SESSION_TOKEN);
    }
  });

  it('creates no topic when KAFKA_CREATE_TOPICS=true, says so and how to; creates it with --create-topics', async () => {
    // Prepare
    const missing = uniqueName('diag-create');
    const env = { ...base(), KAFKA_TOPICS: missing, KAFKA_CREATE_TOPICS: 'true' };

    // Act
    const readOnly = await diagnose(env);
    const existsAfterReadOnly = await topicExists(missing);
    const asked = await diagnose(env, '--create-topics');

    // Assess: the read-only run
    expect(existsAfterReadOnly).toBe(false);
    expect(readOnly.output).toContain(
      'KAFKA_CREATE_TOPICS=true is not applied here: diagnose creates no topic unless asked; run `lambda-kafka diagnose --create-topics` to create the missing KAFKA_TOPICS',
    );
    expect(readOnly.output).toContain(
      `topic ${missing}: not created: diagnose only reads the cluster; run \`lambda-kafka diagnose --create-topics\``,
    );
    expect(readOnly.output).not.toMatch(/Topic created/);
    expectFinding(readOnly, new RegExp(`topic ${missing}: UNKNOWN_TOPIC_OR_PART \\(3\\)`), /Create /);
    // and the run that asked
    expect(asked.code, asked.output).toBe(0);
    expect(asked.output).toContain(`✓ Topic created: ${missing}`);
    expect(asked.output).not.toMatch(/not applied here|not created/);
    expect(await topicExists(missing)).toBe(true);
  });

  it('a closed port', async () => {
    const run = await diagnose({ ...base(), KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}` });
    expectFinding(
      run,
      /TCP: connection refused at 127\.0\.0\.1:\d+: no broker is listening there/,
      /start the broker, or correct the port/,
    );
    expect(run.output).toMatch(/- TLS: skipped: no bootstrap broker is reachable/);
  });

  it('a CA that did not sign the broker certificate', async () => {
    const run = await diagnose({ ...envFor('SSL'), KAFKA_SSL_CAFILE: pki.otherCaFile, KAFKA_TOPICS: topic });
    expectFinding(
      run,
      /TLS 127\.0\.0\.1:\d+: BROKER_CERTIFICATE_UNTRUSTED \(-181\): the certificate of broker 127\.0\.0\.1:\d+ \(CN=localhost, issued by CN=lambda-kafka local test CA\) is not trusted by the CA in .*other-ca\/ca\.pem \(KAFKA_SSL_CAFILE\)/,
      /Set KAFKA_SSL_CAFILE \(or KAFKA_SSL_CA_PEM\) to the CA that issued the broker certificate/,
    );
    // The client certificate is the broker CA's, not the configured CA's: a split-CA setup would work, so only a note.
    expect(run.output).toMatch(
      / {3}certificates: Client certificate .* is issued by CN=lambda-kafka local test CA, not by the CA in .*other-ca/,
    );
  });

  it('a CA file that does not exist is named as missing, not as the CA that distrusts the broker', async () => {
    const run = await diagnose({ ...envFor('SASL_SSL'), KAFKA_SSL_CAFILE: pki.missingFile, KAFKA_TOPICS: topic });
    expectFinding(
      run,
      /TLS 127\.0\.0\.1:\d+: the broker certificate cannot be checked: CA certificate file does not exist/,
      /see the certificates check below/,
    );
    expectFinding(run, /certificates: CA certificate file does not exist/, /check the path in KAFKA_SSL_CAFILE/);
    expect(run.output).not.toMatch(/not trusted by/);
  });

  it('no client certificate on the mutual-TLS listener names KAFKA_SSL_CERTFILE', async () => {
    const { KAFKA_SSL_CERTFILE: _c, KAFKA_SSL_KEYFILE: _k, ...withoutCertificate } = envFor('SSL');
    const run = await diagnose({ ...withoutCertificate, KAFKA_TOPICS: topic });
    expectFinding(
      run,
      /TLS 127\.0\.0\.1:\d+: CLIENT_CERTIFICATE_REQUIRED \(-181\): broker 127\.0\.0\.1:\d+ requires a client certificate \(mutual TLS\) and none is configured/,
      /set KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE/,
    );
    expect(run.output).not.toMatch(/TLS listener/);
  });

  it('a client certificate that expires soon: status degraded, and the result says so', async () => {
    const certs = readConnection().listeners.SSL;
    const soon = join(dir, 'soon-client.pem');
    const soonKey = join(dir, 'soon-client-key.pem');
    copyFileSync(certs.caFile as string, join(dir, 'ca.pem'));
    copyFileSync(join(REPO_ROOT, '.kafka/certs/ca-key.pem'), join(dir, 'ca-key.pem'));
    const day = (offset: number) =>
      `${new Date(Date.now() + offset * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    issueCertificate({
      caDir: dir,
      outCert: soon,
      outKey: soonKey,
      subject: '/CN=expires-soon',
      extensions: ['extendedKeyUsage=clientAuth'],
      startDate: day(-10),
      endDate: day(5),
    });
    const run = await diagnose({
      ...envFor('SSL'),
      KAFKA_SSL_CERTFILE: soon,
      KAFKA_SSL_KEYFILE: soonKey,
      KAFKA_TOPICS: topic,
    });
    const json = await diagnose(
      { ...envFor('SSL'), KAFKA_SSL_CERTFILE: soon, KAFKA_SSL_KEYFILE: soonKey, KAFKA_TOPICS: topic },
      '--json',
    );

    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(
      /! status: degraded: Client certificate \(.*soon-client\.pem\) expires on .*, in 4 days/,
    );
    expect(run.output).toMatch(/== Result: degraded \(\d+ ms\)\n$/);
    expect(JSON.parse(json.output)).toMatchObject({ ok: true, status: 'degraded' });
  });

  it('an expired client certificate', async () => {
    const certs = readConnection().listeners.SSL;
    const expired = join(dir, 'expired-client.pem');
    const expiredKey = join(dir, 'expired-client-key.pem');
    const caDir = join(dir, 'broker-ca');
    rmSync(caDir, { recursive: true, force: true });
    writeFileSync(join(dir, '.keep'), '');
    // Issued by the broker's own CA, so that only its dates are wrong.
    copyFileSync(certs.caFile as string, join(dir, 'ca.pem'));
    copyFileSync(join(REPO_ROOT, '.kafka/certs/ca-key.pem'), join(dir, 'ca-key.pem'));
    issueCertificate({
      caDir: dir,
      outCert: expired,
      outKey: expiredKey,
      subject: '/CN=expired',
      extensions: ['extendedKeyUsage=clientAuth'],
      startDate: '20240101000000Z',
      endDate: '20250101000000Z',
    });
    const run = await diagnose({
      ...envFor('SSL'),
      KAFKA_SSL_CERTFILE: expired,
      KAFKA_SSL_KEYFILE: expiredKey,
      KAFKA_TOPICS: topic,
    });
    expectFinding(
      run,
      /certificates: Client certificate expired on 2025-01-01T00:00:00\.000Z \(.*expired-client\.pem\)/,
      /renew it and deploy the new certificate/,
    );
  });

  it('a key that does not match the certificate', async () => {
    const run = await diagnose({ ...envFor('SSL'), KAFKA_SSL_KEYFILE: pki.foreignKeyFile, KAFKA_TOPICS: topic });
    expectFinding(
      run,
      /certificates: Private key does not belong to the client certificate/,
      /deploy the key that was generated with this certificate/,
    );
    // A client-certificate fault on a TLS port: the TLS step sends the reader to the certificates, not to the port.
    expectFinding(
      run,
      /TLS 127\.0\.0\.1:\d+: the client certificate or key cannot be used/,
      /see the certificates check/,
    );
    expect(run.output).not.toMatch(/TLS listener/);
    expect(run.output).not.toContain(readFileSync(pki.foreignKeyFile, 'utf8').split('\n')[1]);
  });

  it('a wrong SASL password', async () => {
    const json = await diagnose({ ...base(), KAFKA_SASL_PASSWORD: 'diagnose-wrong-password' }, '--json');
    expect(JSON.parse(json.output)).toMatchObject({ ok: false });
    const run = await diagnose({ ...base(), KAFKA_SASL_PASSWORD: 'diagnose-wrong-password' });
    expectFinding(
      run,
      /SASL authentication as lambda-kafka \(SCRAM-SHA-512\): AUTHENTICATION \(-169\): SASL authentication failed: .*invalid credentials/,
      /check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
    );
    expect(run.output).not.toContain('diagnose-wrong-password');
  });
});

describe('a broker that is down', () => {
  beforeAll(async () => {
    await startTestBroker('diag-down');
    await stopBroker('diag-down');
  }, 120_000);

  it('is reported as nothing listening at its address', async () => {
    const run = await diagnose({ ...envFor('PLAINTEXT', readConnection('diag-down')), KAFKA_TOPICS: 'orders' });
    expectFinding(
      run,
      /bootstrap 127\.0\.0\.1:20392 TCP: connection refused at 127\.0\.0\.1:20392: no broker is listening there \(the broker is down/,
      /start the broker/,
    );
  });
});

describe('a broker advertising an address clients cannot reach', () => {
  const broker = useBroker('diag-advertised');

  it('names the advertised address and the setting to fix', async () => {
    const run = await diagnose({ ...envFor('SASL_SSL', broker()), KAFKA_TOPICS: 'orders' });
    // Depending on which request reaches the advertised address first, the connection check or the
    // advertised-brokers check reports it; both name the address and the setting.
    expectFinding(
      run,
      /broker 1 advertised as unreachable-broker\.invalid:19894.*does not resolve/,
      /set the broker's advertised\.listeners to/,
    );
  });
});

describe('a broker certificate that does not cover the address used', () => {
  const broker = useBroker('diag-hostname');

  it('names the address and the certificate SAN', async () => {
    const run = await diagnose({ ...envFor('SSL', broker()), KAFKA_TOPICS: 'orders' });
    expectFinding(
      run,
      /TLS 127\.0\.0\.2:19993: BROKER_CERTIFICATE_NAME_MISMATCH \(-181\): the certificate of broker 127\.0\.0\.2:19993 does not cover 127\.0\.0\.2, the address in KAFKA_BOOTSTRAP_SERVERS: its SAN is DNS:localhost, IP Address:127\.0\.0\.1/,
      /reissue the broker certificate with this address in its subject alternative names/,
    );
  });
});

describe('a group coordinator that can never be available', () => {
  const broker = useBroker('diag-nocoord');

  it('names the coordinator, the offsets topic and the replication factor', async () => {
    const topic = uniqueName('orders');
    await createTopic(topic, 1, 'diag-nocoord');
    const run = await diagnose({
      ...envFor('PLAINTEXT', broker()),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: 'orders-consumers',
    });
    expectFinding(
      run,
      /consumer group orders-consumers: no group coordinator \(COORDINATOR_NOT_AVAILABLE\): the offsets topic __consumer_offsets does not exist/,
      /offsets\.topic\.replication\.factor \(default 3\) must not exceed the 1 live broker/,
    );
  });
});

describe('a topic the principal may not use', () => {
  const broker = useBroker('diag-acl');

  it('names the topic and the missing authorization', async () => {
    const topic = await createDeniedTopic('diag-acl', broker(), 'secret-orders');
    const run = await diagnose({ ...envFor('SASL_SSL', broker()), KAFKA_TOPICS: topic });
    expectFinding(run, new RegExp(`topic ${topic}: TOPIC_AUTHORIZATION_FAILED \\(29\\)`), /grant it an ACL/);
  });
});

describe('every run above', () => {
  it('printed no secret: no SASL password, no key material, text or JSON', () => {
    const connection = readConnection();
    const secrets = [
      connection.listeners.SASL_SSL.password as string,
      'diagnose-wrong-password',
      ...[connection.listeners.SSL.keyFile as string, pki.foreignKeyFile].flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.length >= 40 && !line.startsWith('-----')),
      ),
    ];
    expect(outputs.length).toBeGreaterThanOrEqual(19);
    for (const output of outputs) for (const secret of secrets) expect(output.includes(secret)).toBe(false);
  });

  it('printed every duration in whole milliseconds', () => {
    for (const output of outputs) expect(output).not.toMatch(/\d\.\d+ ?ms\b|"durationMs": \d+\.\d/);
  });
});
