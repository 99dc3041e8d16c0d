/**
 * A TLS handshake of our own with one broker (node:tls), to see what librdkafka's "certificate
 * verify failed" does not say: who issued the broker certificate, which names it covers, whether
 * it is in date, and whether the broker closes the connection over the client certificate.
 * It runs inside invocations, so it holds no libuv pool thread past its answer: a node:tls socket
 * uses none, and a host name is resolved with c-ares (dns.Resolver) rather than getaddrinfo.
 */
import type { PeerCertificate } from 'node:tls';

/** Node's TLS, DNS and socket modules, loaded on first use: a function without TLS never needs them. */
const dns = () => process.getBuiltinModule('node:dns/promises');
const net = () => process.getBuiltinModule('node:net');
const tls = () => process.getBuiltinModule('node:tls');

export interface BrokerAddress {
  host: string;
  port: number;
}

/** `host:port` (an IPv6 host in brackets) → its parts. */
export function parseBroker(server: string): BrokerAddress {
  const at = server.lastIndexOf(':');
  return { host: server.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(server.slice(at + 1)) };
}

/** PEM text to handshake with; undefined CA means the system store. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

export interface TlsHandshake {
  protocol: string | null;
  subject: string;
  issuer: string;
  subjectAltName: string;
  validFrom: string;
  validTo: string;
  /** null when the CA trusts the certificate; otherwise OpenSSL's reason (e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY). */
  chainError: string | null;
  /** null when the certificate covers the host; otherwise why not. */
  hostnameError: string | null;
  /** The broker closed the connection after the handshake (it wants a client certificate it did not get or like). */
  closedByBroker: string | null;
  /** Set when the configured client certificate or key could not be used: the handshake went on without them. */
  clientCertificateUnusable: string | null;
}

/** Why the handshake did not complete: a code of node's (ECONNRESET, ERR_SSL_WRONG_VERSION_NUMBER, ETIMEDOUT, …). */
export class TlsProbeError extends Error {
  override readonly name = 'TlsProbeError';
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** How long a broker that refuses the client certificate takes to say so after the handshake. */
const CLOSE_WAIT_MS = 300;

function names(part: PeerCertificate['subject']): string {
  return Object.entries(part ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/**
 * An address for `host` without getaddrinfo: c-ares first. A name the DNS does not know, or no DNS
 * server at all (a hosts-file name, `localhost`), goes to dns.lookup, which answers those at once;
 * a DNS that does not answer (ETIMEOUT) does not, since getaddrinfo would wait on it in a pool thread.
 */
async function addressOf(host: string, timeoutMs: number): Promise<string> {
  if (net().isIP(host)) return host;
  const resolver = new (dns().Resolver)({ timeout: Math.max(1, Math.min(timeoutMs, 1000)), tries: 1 });
  let code: string | undefined;
  for (const resolve of [(h: string) => resolver.resolve4(h), (h: string) => resolver.resolve6(h)]) {
    try {
      const [address] = await resolve(host);
      if (address) return address;
    } catch (error) {
      code = (error as NodeJS.ErrnoException).code;
    }
  }
  if (code !== 'ETIMEOUT') {
    const found = await dns()
      .lookup(host)
      .catch((error: NodeJS.ErrnoException) => {
        code = error.code;
      });
    if (found) return found.address;
  }
  throw new TlsProbeError(`${host} does not resolve (${code ?? 'no address'})`, code ?? 'ENOTFOUND');
}

/** The client certificate and key, unless node cannot use them (then the handshake goes on without). */
function clientMaterial(material: TlsMaterial): {
  cert?: string;
  key?: string;
  passphrase?: string;
  unusable?: string;
} {
  if (!material.cert || !material.key) return {};
  const { cert, key, passphrase } = material;
  try {
    tls().createSecureContext({ cert, key, passphrase });
    return { cert, key, passphrase };
  } catch (error) {
    return { unusable: (error as Error).message };
  }
}

/** Handshakes with `target` using `material`, within `timeoutMs`, and reports what it saw. */
export async function probeTls(target: BrokerAddress, material: TlsMaterial, timeoutMs: number): Promise<TlsHandshake> {
  const until = Date.now() + timeoutMs;
  const address = await addressOf(target.host, timeoutMs);
  const client = clientMaterial(material);
  return new Promise<TlsHandshake>((resolve, reject) => {
    const socket = tls().connect({
      host: address,
      port: target.port,
      ...(net().isIP(target.host) ? {} : { servername: target.host }),
      ca: material.ca,
      cert: client.cert,
      key: client.key,
      passphrase: client.passphrase,
      // Inspected below, so the report can say what exactly is wrong.
      rejectUnauthorized: false,
    });
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new TlsProbeError(`no TLS answer from ${target.host}:${target.port} within ${timeoutMs} ms`, 'ETIMEDOUT'),
          ),
        ),
      Math.max(1, until - Date.now()),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(() => reject(new TlsProbeError(error.message, error.code ?? 'ERR_TLS', { cause: error }))),
    );
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      const identity = tls().checkServerIdentity(target.host, cert);
      const result: TlsHandshake = {
        protocol: socket.getProtocol(),
        subject: names(cert.subject),
        issuer: names(cert.issuer),
        subjectAltName: cert.subjectaltname ?? '',
        validFrom: new Date(cert.valid_from).toISOString(),
        validTo: new Date(cert.valid_to).toISOString(),
        chainError: socket.authorized ? null : String(socket.authorizationError),
        hostnameError: identity ? identity.message : null,
        closedByBroker: null,
        clientCertificateUnusable: client.unusable ?? null,
      };
      // A broker refusing the client certificate says so right after the handshake (TLS 1.3).
      if (result.chainError || result.hostnameError) return finish(() => resolve(result));
      socket.removeAllListeners('error');
      const settle = setTimeout(
        () => finish(() => resolve(result)),
        Math.max(1, Math.min(CLOSE_WAIT_MS, until - Date.now())),
      );
      const closed = (why: string) => {
        clearTimeout(settle);
        finish(() => resolve({ ...result, closedByBroker: why }));
      };
      socket.once('error', (error) => closed(error.message));
      socket.once('end', () => closed('connection closed'));
    });
  });
}
