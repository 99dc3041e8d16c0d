/**
 * The real cause of a TLS failure, found by a handshake of our own (src/ssl/tls-causes.ts), against
 * node:tls servers standing in for brokers: the line diagnose prints for a broker and the line a
 * function's wait ends with, from librdkafka's "certificate verify failed", are the same.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { causeFromLogs } from '../../src/errors/classify.js';
import { causeLine } from '../../src/errors/errors.js';
import { Deadline } from '../../src/retry/deadline.js';
import { checkBrokerTls, explainTlsFailure } from '../../src/ssl/tls-causes.js';
import { createServerCertificates, createTestPki, type ServerCertificates, type TestPki } from '../support/pki.js';

let pki: TestPki;
let certs: ServerCertificates;
const servers: Server[] = [];

beforeAll(() => {
  pki = createTestPki();
  certs = createServerCertificates(pki);
});
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(pki.dir, { recursive: true, force: true });
});

function listening(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`));
  });
}

/** A TLS server with `cert` that accepts connections and never answers, as a broker waiting for a request. */
function tlsBroker(cert: { certFile: string; keyFile: string }, options: TlsOptions = {}): Promise<string> {
  const server = createTlsServer(
    { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile), ...options },
    (socket) => socket.on('error', () => {}),
  );
  server.on('tlsClientError', () => {});
  return listening(server);
}

/** The configuration a function would have for `broker` over TLS, with `env` on top. */
function config(broker: string, env: Record<string, string> = {}) {
  return loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: broker,
    KAFKA_USE_SSL: 'true',
    KAFKA_SSL_CAFILE: pki.caFile,
    ...env,
  });
}

/** What librdkafka logs for any broker certificate it rejects, as the function's wait classifies it. */
function verifyFailed(broker: string) {
  const cause = causeFromLogs([
    {
      message: `[thrd:ssl://${broker}/bootstrap]: ssl://${broker}/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 7ms in state SSL_HANDSHAKE)`,
      timestamp: Date.now(),
    },
  ]);
  if (!cause) throw new Error('the log line was not classified');
  return cause;
}

describe('a broker certificate librdkafka rejected ("certificate verify failed")', () => {
  it('from another CA: names its issuer, the CA file used and the fix', async () => {
    // Prepare
    const broker = await tlsBroker(certs.good);
    const settings = config(broker, { KAFKA_SSL_CAFILE: pki.otherCaFile });

    // Act
    const report = await checkBrokerTls(broker, settings, 2000);
    const explained = await explainTlsFailure(verifyFailed(broker), settings, Deadline.in(3000));

    // Assess
    expect(report.cause).toMatchObject({ name: 'BROKER_CERTIFICATE_UNTRUSTED', code: -181, kind: 'config', broker });
    expect(causeLine(report.cause as never)).toBe(
      `BROKER_CERTIFICATE_UNTRUSTED (-181): the certificate of broker ${broker} (CN=good, issued by CN=Test CA) is not trusted by ` +
        `the CA in ${pki.otherCaFile} (KAFKA_SSL_CAFILE): that CA did not issue it. Set KAFKA_SSL_CAFILE (or KAFKA_SSL_CA_PEM) to ` +
        `the CA that issued the broker certificate; \`openssl s_client -connect ${broker} -showcerts\` shows the chain the broker presents.`,
    );
    expect(causeLine(explained)).toBe(causeLine(report.cause as never));
    expect(explained.evidence).toMatch(/certificate verify failed/);
  });

  it('not covering the address used: names the address and the certificate SAN', async () => {
    const broker = await tlsBroker(certs.misnamed);

    const report = await checkBrokerTls(broker, config(broker), 2000);
    const explained = await explainTlsFailure(verifyFailed(broker), config(broker), Deadline.in(3000));

    expect(report.cause?.summary).toBe(
      `BROKER_CERTIFICATE_NAME_MISMATCH (-181): the certificate of broker ${broker} does not cover 127.0.0.1, ` +
        'the address in KAFKA_BOOTSTRAP_SERVERS: its SAN is DNS:broker.example',
    );
    expect(report.cause?.hint).toMatch(/reissue the broker certificate with this address/);
    expect(causeLine(explained)).toBe(causeLine(report.cause as never));
  });

  it('expired: says when, and that no client setting fixes it', async () => {
    const broker = await tlsBroker(certs.expired);

    const report = await checkBrokerTls(broker, config(broker), 2000);
    const explained = await explainTlsFailure(verifyFailed(broker), config(broker), Deadline.in(3000));

    expect(report.cause?.summary).toMatch(
      new RegExp(
        `^BROKER_CERTIFICATE_EXPIRED \\(-181\\): the certificate of broker ${broker} \\(CN=expired\\) expired on \\d{4}-`,
      ),
    );
    expect(report.cause?.hint).toMatch(/Renew the broker certificate/);
    expect(causeLine(explained)).toBe(causeLine(report.cause as never));
  });

  it('is left as librdkafka named it when the broker cannot be reached for a look, or the deadline is too near', async () => {
    const closed = await listening(createTcpServer());
    servers.at(-1)?.close();
    const cause = verifyFailed(closed);

    expect(await explainTlsFailure(cause, config(closed), Deadline.in(3000))).toBe(cause);
    expect(await explainTlsFailure(cause, config(closed), Deadline.in(20))).toBe(cause);
  });
});

describe('a broker that wants a client certificate (mutual TLS)', () => {
  const mutual = (): TlsOptions => ({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(pki.caFile) });

  it('when none is configured: CLIENT_CERTIFICATE_REQUIRED, naming KAFKA_SSL_CERTFILE', async () => {
    const broker = await tlsBroker(certs.good, mutual());
    const fromLog = causeFromLogs([
      {
        message: `ssl://${broker}/bootstrap: Receive failed: error:0A00045C:SSL routines::tlsv13 alert certificate required: SSL alert number 116 (after 0ms in state APIVERSION_QUERY)`,
        timestamp: Date.now(),
      },
    ]);

    const report = await checkBrokerTls(broker, config(broker), 2000);
    const explained = await explainTlsFailure(fromLog as never, config(broker), Deadline.in(3000));

    expect(causeLine(report.cause as never)).toBe(
      `CLIENT_CERTIFICATE_REQUIRED (-181): broker ${broker} requires a client certificate (mutual TLS) and none is configured ` +
        '(KAFKA_SSL_CERTFILE and KAFKA_SSL_CERT_PEM are not set). This listener requires mutual TLS: set KAFKA_SSL_CERTFILE and ' +
        'KAFKA_SSL_KEYFILE (or KAFKA_SSL_CERT_PEM and KAFKA_SSL_KEY_PEM) to a certificate from a CA the broker trusts, or use a ' +
        'listener without client authentication.',
    );
    expect(causeLine(explained)).toBe(causeLine(report.cause as never));
  });

  it('when it refuses the one configured: CLIENT_CERTIFICATE_REFUSED, naming the certificate, its issuer and its file', async () => {
    const broker = await tlsBroker(certs.good, mutual());
    const settings = config(broker, { KAFKA_SSL_CERTFILE: pki.foreignCertFile, KAFKA_SSL_KEYFILE: pki.foreignKeyFile });

    const report = await checkBrokerTls(broker, settings, 2000);

    expect(report.cause?.summary).toBe(
      `CLIENT_CERTIFICATE_REFUSED (-181): broker ${broker} refused the client certificate CN=foreign, issued by CN=Some Other CA ` +
        `(${pki.foreignCertFile}, KAFKA_SSL_CERTFILE): its issuer is not in the broker's truststore, or it is not accepted for client authentication`,
    );
  });

  it('accepts the right one: no cause', async () => {
    const broker = await tlsBroker(certs.good, mutual());
    const settings = config(broker, { KAFKA_SSL_CERTFILE: pki.certFile, KAFKA_SSL_KEYFILE: pki.keyFile });

    const report = await checkBrokerTls(broker, settings, 2000);

    expect(report.cause).toBeUndefined();
    expect(report.handshake).toMatchObject({ subject: 'CN=good', issuer: 'CN=Test CA', closedByBroker: null });
  });
});

describe('what the handshake cannot judge, or a port that does not speak TLS', () => {
  it('a port that answers in HTTP is NOT_TLS, the same line librdkafka gets', async () => {
    const http = createHttpServer((_, res) => res.end('hello'));
    const broker = await listening(http);

    const report = await checkBrokerTls(broker, config(broker), 2000);

    expect(causeLine(report.cause as never)).toBe(
      `NOT_TLS (-181): ${broker} does not speak TLS (a PLAINTEXT listener?). Set KAFKA_USE_SSL=false, or put the broker's TLS port ` +
        '(its SSL or SASL_SSL listener) in KAFKA_BOOTSTRAP_SERVERS.',
    );
  });

  it('a port that closes at the first TLS bytes (a PLAINTEXT Kafka listener does) is NOT_TLS', async () => {
    const broker = await listening(createTcpServer((socket) => socket.once('data', () => socket.end())));

    const report = await checkBrokerTls(broker, config(broker), 2000);

    expect(report.cause?.name).toBe('NOT_TLS');
  });

  it('a CA file that does not exist is named as missing, not as the CA that distrusts the broker', async () => {
    const broker = await tlsBroker(certs.good);

    const report = await checkBrokerTls(broker, config(broker, { KAFKA_SSL_CAFILE: pki.missingFile }), 2000);

    expect(report.cause).toBeUndefined();
    expect(report.problem).toBe(
      `the broker certificate cannot be checked: CA certificate file does not exist (${pki.missingFile})`,
    );
  });

  it('a port that accepts and never answers ends within the time given', async () => {
    const broker = await listening(createTcpServer(() => {}));
    const started = Date.now();

    const report = await checkBrokerTls(broker, config(broker), 300);

    expect(report.problem).toMatch(/^no TLS handshake: no TLS answer from 127\.0\.0\.1:\d+ within 300 ms$/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a trusted broker reached by a host name: no cause', async () => {
    const broker = await tlsBroker(certs.good);
    const byName = broker.replace('127.0.0.1', 'localhost');

    const report = await checkBrokerTls(byName, config(byName), 2000);

    expect(report.cause).toBeUndefined();
    expect(report.handshake?.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
  });
});
