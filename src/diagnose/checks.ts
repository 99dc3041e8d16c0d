/**
 * The troubleshooting checks of the seed (docker ps, nc -zv, openssl s_client / x509 / verify) done
 * for the user: each a ✓ / ✗ with the finding and the fix. The Kafka-level ones are in kafka-checks.ts.
 */
import type { KafkaConfig } from '../config/load.js';
import { CertificateError } from '../errors/errors.js';
import type { Deadline } from '../retry/deadline.js';
import { validateCertificates } from '../ssl/certificates.js';
import { checkBrokerTls, trustedBy } from '../ssl/tls-causes.js';
import { type HostPort, parseHostPort, resolveHost, tcpReach } from './network.js';
import { add, addCause, type Section } from './report.js';

export interface CheckContext {
  config: KafkaConfig;
  deadline: Deadline;
  /** Whether diagnose was asked to create the missing KAFKA_TOPICS (`--create-topics`). */
  createTopics?: boolean;
}

/** How to ask diagnose for the one change to the cluster it makes, when asked. */
export const CREATE_TOPICS_HOW = 'run `lambda-kafka diagnose --create-topics` to create the missing KAFKA_TOPICS';

/** At most `capMs`, and never past the deadline. */
export function budget(ctx: CheckContext, capMs: number): number {
  return Math.max(1, Math.min(capMs, ctx.deadline.remainingMs()));
}

/** DNS and TCP for each bootstrap broker; returns the reachable ones, as written in KAFKA_BOOTSTRAP_SERVERS. */
export async function checkBootstrap(section: Section, ctx: CheckContext): Promise<string[]> {
  const reachable: string[] = [];
  for (const server of ctx.config.bootstrapServers) {
    const target = parseHostPort(server);
    if (await reach(section, ctx, target, `bootstrap ${server}`, 'check the host in KAFKA_BOOTSTRAP_SERVERS'))
      reachable.push(server);
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

/** The TLS handshake with each reachable bootstrap broker, with the configured CA and client certificate. */
export async function checkTls(section: Section, ctx: CheckContext, servers: readonly string[]): Promise<boolean> {
  const { ssl } = ctx.config;
  if (!ssl.enabled) {
    add(section, 'info', 'TLS', 'not used (KAFKA_USE_SSL=false)');
    return true;
  }
  let ok = true;
  for (const server of servers) {
    const name = `TLS ${server}`;
    // The same examination a function makes of a TLS failure, so the cause reads the same here.
    const report = await checkBrokerTls(server, ctx.config, budget(ctx, 3000));
    const tls = report.handshake;
    if (tls && !report.cause && !tls.clientCertificateUnusable) {
      add(
        section,
        'pass',
        name,
        `${tls.protocol}; broker certificate ${tls.subject} (SAN ${tls.subjectAltName || 'none'}), issued by ${tls.issuer}, ` +
          `valid ${tls.validFrom} to ${tls.validTo}; trusted by ${trustedBy(ssl)} and covers ${parseHostPort(server).host}`,
      );
      continue;
    }
    ok = false;
    if (report.cause) addCause(section, name, report.cause);
    else if (tls?.clientCertificateUnusable) {
      add(
        section,
        'fail',
        name,
        `the client certificate or key cannot be used (${tls.clientCertificateUnusable}), so the handshake went on without it`,
        'see the certificates check below',
      );
    } else {
      const caUnreadable = report.problem?.startsWith('the broker certificate cannot be checked');
      add(
        section,
        'fail',
        name,
        report.problem ?? 'no TLS handshake',
        caUnreadable
          ? 'see the certificates check below'
          : "check that this port is the broker's TLS listener (SSL or SASL_SSL) and that it answers",
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
    for (const note of report.notes) add(section, 'info', 'certificates', note);
    return true;
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    for (const problem of error.problems)
      add(section, 'fail', 'certificates', `${problem.message} (${problem.source})`, problem.fix);
    return false;
  }
}
