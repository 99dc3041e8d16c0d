/**
 * Network-level checks, independent of the Kafka client: DNS, TCP and the TLS handshake, each with
 * a timeout. They tell apart what a Kafka client reports as one "broker transport failure".
 */
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect } from 'node:net';
import { checkServerIdentity, type PeerCertificate, connect as tlsConnect } from 'node:tls';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(server: string): HostPort {
  const at = server.lastIndexOf(':');
  return { host: server.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(server.slice(at + 1)) };
}

function timeout<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  if (isIP(host)) return [host];
  const addresses = await timeout(timeoutMs, `DNS lookup of ${host}`, lookup(host, { all: true }));
  return addresses.map((a) => a.address);
}

export function tcpReach({ host, port }: HostPort, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return timeout(
    timeoutMs,
    `TCP connect to ${host}:${port}`,
    new Promise<number>((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(Date.now() - started);
      });
      socket.once('error', reject);
    }),
  );
}

export interface TlsResult {
  protocol: string | null;
  subject: string;
  issuer: string;
  subjectAltName: string;
  validFrom: string;
  validTo: string;
  /** null when the CA trusts the certificate; otherwise OpenSSL's reason (e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY). */
  chainError: string | null;
  /** null when the certificate covers `host`; otherwise why not. */
  hostnameError: string | null;
  /** The broker closed the connection after the handshake (e.g. it requires a client certificate). */
  closedByBroker: string | null;
}

function names(part: PeerCertificate['subject']): string {
  return Object.entries(part ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/** Handshakes with the broker using the configured CA (and client certificate), and reports what it saw. */
export function tlsHandshake(
  target: HostPort,
  options: { ca?: string; cert?: string; key?: string; passphrase?: string },
  timeoutMs: number,
): Promise<TlsResult> {
  return timeout(
    timeoutMs,
    `TLS handshake with ${target.host}:${target.port}`,
    new Promise<TlsResult>((resolve, reject) => {
      const socket = tlsConnect({
        host: target.host,
        port: target.port,
        ...(isIP(target.host) ? {} : { servername: target.host }),
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        passphrase: options.passphrase,
        // Inspected below, so the report can say what exactly is wrong.
        rejectUnauthorized: false,
      });
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        const cert = socket.getPeerCertificate();
        const identity = checkServerIdentity(target.host, cert);
        const result: TlsResult = {
          protocol: socket.getProtocol(),
          subject: names(cert.subject),
          issuer: names(cert.issuer),
          subjectAltName: cert.subjectaltname ?? '',
          validFrom: new Date(cert.valid_from).toISOString(),
          validTo: new Date(cert.valid_to).toISOString(),
          chainError: socket.authorized ? null : String(socket.authorizationError),
          hostnameError: identity ? identity.message : null,
          closedByBroker: null,
        };
        // A broker that requires a client certificate it does not like says so right after the handshake.
        const settle = setTimeout(() => {
          socket.destroy();
          resolve(result);
        }, 300);
        socket.once('error', (error) => {
          clearTimeout(settle);
          resolve({ ...result, closedByBroker: error.message });
        });
        socket.once('end', () => {
          clearTimeout(settle);
          resolve({ ...result, closedByBroker: 'connection closed' });
        });
      });
    }),
  );
}
