/**
 * Issue 10's acceptance for wrong causes: under RIE and the RIC, from the unpacked nodejs22.x zip,
 * six faults — a missing topic, an untrusted broker certificate, a SAN mismatch, a PLAINTEXT client
 * on a TLS port, a server that is not Kafka, a wrong SASL password — each give one line that names
 * the real cause and the fix, and the same line in the produce function's error, the log of its HTTP
 * invocation (whose 503 body names nothing of the cluster), the health-check function's reasons and
 * `lambda-kafka diagnose`. None of them can be fixed by a
 * retry, so each fails after one attempt, in under a second.
 *
 * The functions run in a minimal root (no /etc), diagnose on the host: the certificates they use are
 * at the same path in both (/opt/lambda-kafka-fault-causes-*), since the cause line names the CA file.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, stopBroker } from '../../scripts/kafka/broker.js';
import { type BrokerConnection, readConnection } from '../../scripts/kafka/connection.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { RieEnvironment, type RieInvokeResult } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime } from '../../scripts/lambda/runtimes.js';
import type { HealthStatus } from '../../src/init/health.js';
import { TEST_BROKERS, useBroker } from '../support/brokers.js';
import { runDiagnose } from '../support/diagnose.js';
import { insideFound } from '../support/http.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { logLines } from '../support/lambda.js';
import { freshPackageZip } from '../support/package.js';
import { createTestPki, type TestPki } from '../support/pki.js';

const RUNTIME = 'nodejs22.x';
/** Where the certificates are, in the root and on the host alike. */
const CERTS = `/opt/lambda-kafka-fault-causes-${randomUUID().slice(0, 8)}`;
const FIRST_LINE = /^Producer initialization failed: (.*)$/;
const ONE_FAST_ATTEMPT = /^\(1 attempt in (\d+) ms; stopped at once: retrying cannot fix this\)$/;

interface Fault {
  name: string;
  env: () => Record<string, string>;
  /** What the cause line must say: the cause, then the fix. */
  cause: () => RegExp;
}

let broker: BrokerConnection;
const sameHost = useBroker('fault-hostname');
const topic = uniqueName('fault-causes');
const missingTopic = uniqueName('never-created');
let scratch: string;
let root: MinimalRoot;
let pki: TestPki;
let http: Server;
let httpPort: number;
const environments: RieEnvironment[] = [];

/**
 * Under CERTS: the broker's CA, client certificate and key; a CA that did not sign the broker's
 * certificate; and a client certificate from the test CA, which only the split-CA broker trusts.
 */
function installCertificates(into: string): void {
  mkdirSync(into, { recursive: true });
  const ssl = broker.listeners.SSL;
  copyFileSync(ssl.caFile as string, join(into, 'ca.pem'));
  copyFileSync(ssl.certFile as string, join(into, 'client.pem'));
  copyFileSync(ssl.keyFile as string, join(into, 'client-key.pem'));
  copyFileSync(pki.otherCaFile, join(into, 'other-ca.pem'));
  copyFileSync(pki.certFile, join(into, 'split-client.pem'));
  copyFileSync(pki.keyFile, join(into, 'split-client-key.pem'));
}

const tls = (listener: 'SSL' | 'SASL_SSL', servers: string, ca = 'ca.pem') => ({
  KAFKA_BOOTSTRAP_SERVERS: servers,
  KAFKA_USE_SSL: 'true',
  KAFKA_SSL_CAFILE: `${CERTS}/${ca}`,
  ...(listener === 'SSL'
    ? { KAFKA_SSL_CERTFILE: `${CERTS}/client.pem`, KAFKA_SSL_KEYFILE: `${CERTS}/client-key.pem` }
    : {
        KAFKA_SASL_MECHANISM: broker.listeners.SASL_SSL.saslMechanism as string,
        KAFKA_SASL_USERNAME: broker.listeners.SASL_SSL.username as string,
      }),
});

const FAULTS: Fault[] = [
  {
    name: 'a missing topic',
    env: () => ({ KAFKA_BOOTSTRAP_SERVERS: broker.listeners.PLAINTEXT.bootstrapServers, KAFKA_TOPICS: missingTopic }),
    cause: () =>
      new RegExp(
        `^UNKNOWN_TOPIC_OR_PART \\(3\\): topic ${missingTopic} does not exist\\. Create ${missingTopic}, or set KAFKA_CREATE_TOPICS=true`,
      ),
  },
  {
    name: 'an untrusted broker certificate',
    env: () => ({ ...tls('SSL', broker.listeners.SSL.bootstrapServers, 'other-ca.pem'), KAFKA_TOPICS: topic }),
    cause: () =>
      new RegExp(
        `^BROKER_CERTIFICATE_UNTRUSTED \\(-181\\): the certificate of broker ${broker.listeners.SSL.bootstrapServers} ` +
          `\\(CN=localhost, issued by CN=lambda-kafka local test CA\\) is not trusted by the CA in ${CERTS}/other-ca\\.pem ` +
          '\\(KAFKA_SSL_CAFILE\\): that CA did not issue it\\. Set KAFKA_SSL_CAFILE \\(or KAFKA_SSL_CA_PEM\\) to the CA that issued the broker certificate',
      ),
  },
  {
    name: 'a SAN mismatch',
    env: () => ({ ...tls('SSL', sameHost().listeners.SSL.bootstrapServers), KAFKA_TOPICS: topic }),
    cause: () =>
      new RegExp(
        `^BROKER_CERTIFICATE_NAME_MISMATCH \\(-181\\): the certificate of broker ${sameHost().listeners.SSL.bootstrapServers} ` +
          'does not cover 127\\.0\\.0\\.2, the address in KAFKA_BOOTSTRAP_SERVERS: its SAN is DNS:localhost, IP Address:127\\.0\\.0\\.1\\. ' +
          'Connect with a name the certificate covers',
      ),
  },
  {
    name: 'a PLAINTEXT client on the TLS port',
    env: () => ({ KAFKA_BOOTSTRAP_SERVERS: broker.listeners.SASL_SSL.bootstrapServers, KAFKA_TOPICS: topic }),
    cause: () =>
      new RegExp(
        `^NOT_PLAIN_KAFKA \\(-195\\): ${broker.listeners.SASL_SSL.bootstrapServers} closed the connection at the first Kafka request: ` +
          'this port does not speak plain Kafka, probably a TLS listener\\. Set KAFKA_USE_SSL=true',
      ),
  },
  {
    name: 'a server that is not Kafka',
    env: () => ({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${httpPort}`, KAFKA_TOPICS: topic }),
    cause: () =>
      new RegExp(
        `^NOT_KAFKA \\(-195\\): 127\\.0\\.0\\.1:${httpPort} is not a Kafka broker: it answered the first Kafka request with "HTTP" ` +
          '\\(an HTTP server\\)\\. Check the host and port in KAFKA_BOOTSTRAP_SERVERS',
      ),
  },
  {
    name: 'a wrong SASL password',
    env: () => ({
      ...tls('SASL_SSL', broker.listeners.SASL_SSL.bootstrapServers),
      KAFKA_SASL_PASSWORD: 'fault-causes-wrong-password',
      KAFKA_TOPICS: topic,
    }),
    cause: () =>
      /^AUTHENTICATION \(-169\): SASL authentication failed: .*invalid credentials with SASL mechanism SCRAM-SHA-512\. Authentication failed: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
  },
];

/** An API Gateway HTTP API (payload v2) request carrying one message. */
function httpEvent(): unknown {
  return {
    version: '2.0',
    routeKey: 'POST /messages',
    rawPath: '/messages',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      http: { method: 'POST', path: '/messages', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: 'POST /messages',
      stage: '$default',
    },
    body: JSON.stringify({ messages: [{ value: 'over HTTP' }] }),
    isBase64Encoded: false,
  };
}

async function start(handler: string, env: Record<string, string>): Promise<RieEnvironment> {
  const environment = await RieEnvironment.start({
    root,
    runtime: RUNTIME,
    handler,
    env: { POWERTOOLS_SERVICE_NAME: 'lambda-kafka', ...env },
    timeoutSeconds: 15,
  });
  environments.push(environment);
  return environment;
}

const diagnose = (env: Record<string, string>) => runDiagnose(env, scratch);

function describeFailure(result: RieInvokeResult): string {
  return `${JSON.stringify(result.error ?? result.value)}\n${result.output.join('\n')}`;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-fault-causes-'));
  broker = readConnection();
  pki = createTestPki();
  const zip = await freshPackageZip(RUNTIME, scratch);
  root = buildMinimalRoot(join(scratch, 'root'), ensureNodeRuntime(RUNTIME), zip);
  installCertificates(join(root.dir, CERTS));
  installCertificates(CERTS);
  await createTopic(topic, 1);
  http = createServer((_, res) => res.end('not Kafka'));
  httpPort = await new Promise<number>((resolve) =>
    http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)),
  );
}, 600_000);

afterAll(async () => {
  await Promise.all(environments.map((environment) => environment.shutdown()));
  http?.close();
  rmSync(CERTS, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

describe('under RIE and the RIC, from the unpacked nodejs22.x zip', () => {
  it.each(FAULTS)(
    "$name: one cause line, the same in the error, the HTTP invocation's log (its 503 body generic), the health reasons and diagnose; one attempt under 1 s",
    async (fault) => {
      // Prepare
      const env = fault.env();
      const producer = await start('dist/produce/index.handler', env);
      const checker = await start('dist/health-check/index.handler', env);

      // Act
      const direct = await producer.invoke({ messages: [{ value: 'direct' }] });
      const overHttp = await producer.invoke<{ statusCode: number; body: string }>(httpEvent());
      const health = await checker.invoke<HealthStatus>({});
      const diagnosed = await diagnose(env);

      // Assess: (a) the function's error, first line the cause, second line one attempt in under a second
      expect(direct.ok, describeFailure(direct)).toBe(false);
      expect(direct.timedOut).toBe(false);
      const [first = '', second = ''] = (direct.error?.errorMessage ?? '').split('\n');
      const line = FIRST_LINE.exec(first)?.[1] ?? '';
      expect(line, first).toMatch(fault.cause());
      const attemptMs = Number(ONE_FAST_ATTEMPT.exec(second)?.[1]);
      expect(second, direct.error?.errorMessage).toMatch(ONE_FAST_ATTEMPT);
      expect(attemptMs).toBeLessThan(1000);

      // (b) the HTTP invocation's log; its 503 body is the generic one, naming nothing of the cluster
      expect(overHttp.value?.statusCode, describeFailure(overHttp)).toBe(503);
      expect(logLines(overHttp.output).map((l) => l.message)).toContain(`HTTP 503, nothing sent: ${line}`);
      expect(JSON.parse(overHttp.value?.body ?? '{}')).toEqual({
        error:
          'Kafka is unavailable: no message was sent. Retry later; sending this request again cannot duplicate its messages.',
        reason: 'UNAVAILABLE',
        retrySafe: true,
        requestId: overHttp.requestId,
      });
      expect(insideFound(overHttp.value?.body ?? '')).toEqual([]);

      // (c) the health check's reasons
      expect(health.value?.status, describeFailure(health)).toBe('unhealthy');
      expect(health.value?.reasons.some((reason) => reason.endsWith(`: ${line}`))).toBe(true);

      // (d) diagnose, on a ✗ line of its own
      const crossed = diagnosed.output
        .split('\n')
        .filter((text) => text.trimStart().startsWith('✗') && text.endsWith(`: ${line}`));
      expect(crossed.length, diagnosed.output).toBeGreaterThan(0);
      expect(diagnosed.code).toBe(1);

      console.log(
        `[fault-causes] ${fault.name}: one attempt in ${attemptMs} ms; HTTP ${overHttp.value?.statusCode}; ` +
          `health ${health.value?.status}; diagnose ✗ ${crossed.length} line(s)\n  ${line}`,
      );
    },
    120_000,
  );
});

describe('a split-CA setup: the broker trusts client certificates from one CA and presents a certificate from another', () => {
  let splitCa: BrokerConnection;
  beforeAll(async () => {
    // Its truststore has the test CA (and the broker CA, for the tooling's readiness probe); its own
    // certificate is the broker CA's, as for every local broker.
    const truststore = join(scratch, 'split-truststore.pem');
    writeFileSync(truststore, readFileSync(pki.caFile, 'utf8') + readFileSync(`${CERTS}/ca.pem`, 'utf8'));
    splitCa = await startBroker({
      name: 'fault-split-ca',
      portBase: TEST_BROKERS['fault-split-ca'].portBase,
      props: { 'ssl.truststore.location': truststore },
    });
    await createTopic(topic, 1, 'fault-split-ca');
  }, 120_000);
  afterAll(() => stopBroker('fault-split-ca'), 60_000);

  it('works, in the function and in diagnose; the pre-check only notes it, naming both issuers', async () => {
    // Prepare: KAFKA_SSL_CAFILE is the broker CA, the client certificate is the test CA's
    const env = {
      KAFKA_BOOTSTRAP_SERVERS: splitCa.listeners.SSL.bootstrapServers,
      KAFKA_USE_SSL: 'true',
      KAFKA_SSL_CAFILE: `${CERTS}/ca.pem`,
      KAFKA_SSL_CERTFILE: `${CERTS}/split-client.pem`,
      KAFKA_SSL_KEYFILE: `${CERTS}/split-client-key.pem`,
      KAFKA_TOPICS: topic,
    };
    const producer = await start('dist/produce/index.handler', env);
    const checker = await start('dist/health-check/index.handler', env);

    // Act
    const sent = await producer.invoke<{ sent: number }>({ messages: [{ value: 'split CA' }] });
    const health = await checker.invoke<HealthStatus>({});
    const diagnosed = await diagnose(env);

    // Assess
    expect(sent.value?.sent, describeFailure(sent)).toBe(1);
    expect(health.value?.status, JSON.stringify(health.value?.reasons)).toBe('healthy');
    const note = sent.output.find((text) => text.includes('a split-CA setup'));
    expect(note).toMatch(/"level":"WARN"/);
    expect(note).toMatch(/is issued by CN=Test CA, not by the CA in .*ca\.pem \(CN=lambda-kafka local test CA\)/);
    expect(diagnosed.code, diagnosed.output).toBe(0);
    expect(diagnosed.output).toMatch(/== Result: healthy/);
  }, 120_000);
});
