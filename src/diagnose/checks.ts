/**
 * The troubleshooting checks of the seed (docker ps, nc -zv, openssl s_client / x509 / verify) done
 * for the user: each a ✓ / ✗ with the finding and the fix. The Kafka-level ones are in kafka-checks.ts.
 */
import type { KafkaConfig, PemSource } from '../config/load.js';
import { CertificateError } from '../errors/errors.js';
import type { Deadline } from '../retry/deadline.js';
import { validateCertificates } from '../ssl/certificates.js';
import { describeSource, readSource } from '../ssl/sources.js';
import { type HostPort, parseHostPort, resolveHost, tcpReach, tlsHandshake } from './network.js';
import { add, type Section } from './report.js';

export interface CheckContext {
  config: KafkaConfig;
  deadline: Deadline;
}

/** At most `capMs`, and never past the deadline. */
export function budget(ctx: CheckContext, capMs: number): number {
  return Math.max(1, Math.min(capMs, ctx.deadline.remainingMs()));
}

/** DNS and TCP for each bootstrap broker; returns the reachable ones. */
export async function checkBootstrap(section: Section, ctx: CheckContext): Promise<HostPort[]> {
  const reachable: HostPort[] = [];
  for (const server of ctx.config.bootstrapServers) {
    const target = parseHostPort(server);
    if (await reach(section, ctx, target, `bootstrap ${server}`, 'check the host in KAFKA_BOOTSTRAP_SERVERS'))
      reachable.push(target);
  }
  return reachable;
}

export async function reach(
  section: Section,
  ctx: CheckContext,
  target: HostPort,
  name: string,
  dnsFix: string,
): Promise<boolean> {
  let addresses: string[];
  try {
    addresses = await resolveHost(target.host, budget(ctx, 2000));
  } catch (error) {
    add(
      section,
      'fail',
      `${name} DNS`,
      `${target.host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      `${dnsFix}, and the DNS resolution of the function's VPC`,
    );
    return false;
  }
  try {
    const ms = await tcpReach(target, budget(ctx, 2000));
    add(
      section,
      'pass',
      `${name} TCP`,
      `${target.host}:${target.port} (${addresses.join(', ')}) accepts connections (${ms} ms)`,
    );
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') {
      add(
        section,
        'fail',
        `${name} TCP`,
        `connection refused at ${target.host}:${target.port}: no broker is listening there (the broker is down, or the port is wrong)`,
        'start the broker, or correct the port',
      );
    } else {
      add(
        section,
        'fail',
        `${name} TCP`,
        `no answer from ${target.host}:${target.port} (${code ?? (error as Error).message}): the host is down or a firewall / security group drops the connection`,
        "allow the function's security group to reach this port, and check the broker host is up",
      );
    }
    return false;
  }
}

/** The PEM text of a source, or undefined when it cannot be read (the certificate check reports why). */
async function pemText(source: PemSource | undefined): Promise<string | undefined> {
  if (!source) return undefined;
  const read = await readSource(source);
  return read.ok ? read.text : undefined;
}

/** The TLS handshake with each reachable bootstrap broker, with the configured CA and client certificate. */
export async function checkTls(section: Section, ctx: CheckContext, targets: HostPort[]): Promise<boolean> {
  const { ssl } = ctx.config;
  if (!ssl.enabled) {
    add(section, 'info', 'TLS', 'not used (KAFKA_USE_SSL=false)');
    return true;
  }
  const caSource = ssl.ca ? describeSource(ssl.ca) : 'the system CA store';
  const [ca, cert, key] = await Promise.all([pemText(ssl.ca), pemText(ssl.certificate), pemText(ssl.key)]);
  let ok = true;
  for (const target of targets) {
    const where = `${target.host}:${target.port}`;
    try {
      const tls = await tlsHandshake(
        target,
        { ca, cert, key, passphrase: ssl.keyPassword?.reveal() },
        budget(ctx, 3000),
      );
      const seen = `broker certificate ${tls.subject} (SAN ${tls.subjectAltName || 'none'}), issued by ${tls.issuer}, valid ${tls.validFrom} to ${tls.validTo}`;
      // Node reports a certificate that does not cover the host as an authorization error too.
      if (tls.hostnameError || tls.chainError === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        ok = false;
        add(
          section,
          'fail',
          `TLS ${where}`,
          `the broker certificate does not cover ${target.host}, the address in KAFKA_BOOTSTRAP_SERVERS: its SAN is ${tls.subjectAltName || 'empty'}`,
          `connect with a name the certificate covers, or reissue the broker certificate with ${target.host} in its subject alternative names`,
        );
      } else if (tls.chainError) {
        ok = false;
        add(
          section,
          'fail',
          `TLS ${where}`,
          `${seen} is not trusted by ${caSource}: ${tls.chainError}`,
          `set KAFKA_SSL_CAFILE to the CA that issued the broker certificate (see it with: openssl s_client -connect ${where} -showcerts)`,
        );
      } else if (tls.closedByBroker) {
        ok = false;
        add(
          section,
          'fail',
          `TLS ${where}`,
          `the broker closed the connection after the handshake (${tls.closedByBroker}): it requires a client certificate, and this one is missing or not accepted`,
          'set KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE to a certificate issued by a CA the broker trusts',
        );
      } else {
        add(
          section,
          'pass',
          `TLS ${where}`,
          `${tls.protocol}; ${seen}; trusted by ${caSource} and covers ${target.host}`,
        );
      }
    } catch (error) {
      ok = false;
      add(
        section,
        'fail',
        `TLS ${where}`,
        `handshake failed: ${(error as Error).message}`,
        'check this port is a TLS listener (SSL or SASL_SSL), and KAFKA_USE_SSL',
      );
    }
  }
  return ok;
}

/** The client certificate and key, by the same checks that run before every connection. */
export async function checkClientCertificates(section: Section, ctx: CheckContext): Promise<boolean> {
  const { ssl } = ctx.config;
  if (!ssl.enabled || (!ssl.ca && !ssl.certificate)) return true;
  try {
    const report = await validateCertificates(ssl);
    const lines = report.certificates.map((c) => `${c.label} ${c.subject}, valid to ${c.validTo}`);
    add(section, 'pass', 'certificates', `${lines.join('; ')}${ssl.key ? '; the key matches the certificate' : ''}`);
    for (const warning of report.warnings) add(section, 'warn', 'certificates', warning, 'renew it before it expires');
    return true;
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    for (const problem of error.problems)
      add(section, 'fail', 'certificates', `${problem.message} (${problem.source})`, problem.fix);
    return false;
  }
}
