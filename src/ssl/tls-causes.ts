/**
 * The real cause of a TLS failure, named the same way for a function and for `lambda-kafka
 * diagnose`. librdkafka says "certificate verify failed: … verify that ssl.ca.location is correctly
 * configured" for an untrusted, an expired and a misnamed broker certificate alike, and a broker's
 * alert for a missing client certificate and a refused one alike. A handshake of our own with the
 * failing broker (handshake.ts), with the configured CA and client certificate, tells them apart.
 */
import type { X509Certificate } from 'node:crypto';
import type { KafkaConfig, SslSettings } from '../config/load.js';
import { namedCause, notTlsFinding } from '../errors/causes.js';
import type { Classification } from '../errors/classify.js';
import type { Deadline } from '../retry/deadline.js';
import { parseBroker, probeTls, type TlsHandshake, type TlsMaterial, TlsProbeError } from './handshake.js';
import { parseCertificates, readSource } from './sources.js';

/** The longest handshake a function spends on explaining a failure. */
const PROBE_TIMEOUT_MS = 2000;
/** Below this, a handshake is not worth starting. */
const MIN_PROBE_MS = 100;

/** The broker whose TLS failed, as the client addressed it. */
export interface BrokerTlsContext {
  /** host:port. */
  broker: string;
  /** Whether the address is one of KAFKA_BOOTSTRAP_SERVERS (otherwise the cluster advertised it). */
  bootstrap: boolean;
  ssl: SslSettings;
}

interface ClientCertificate {
  subject: string;
  issuer: string;
  validTo: string;
}

interface Material {
  material: TlsMaterial;
  client?: ClientCertificate;
  /** Why the configured CA cannot be used, when it cannot (then trust cannot be judged). */
  caProblem?: string;
}

/** How the trusted CAs are named: the file and its variable, the inline variable, or the system store. */
export function trustedBy(ssl: SslSettings): string {
  if (!ssl.ca) return 'the system CA store (KAFKA_SSL_CAFILE is not set)';
  return ssl.ca.kind === 'file' ? `the CA in ${ssl.ca.path} (${ssl.ca.variable})` : `the CA in ${ssl.ca.variable}`;
}

/** The configured CA, client certificate and key, as PEM text; a CA that cannot be read is reported, not used. */
async function loadMaterial(ssl: SslSettings): Promise<Material> {
  const loaded: Material = { material: { passphrase: ssl.keyPassword?.reveal() } };
  if (ssl.ca) {
    const read = await readSource(ssl.ca);
    if (read.ok) loaded.material.ca = read.text;
    else loaded.caProblem = `${read.problem.message} (${read.problem.source})`;
  }
  if (ssl.certificate) {
    const read = await readSource(ssl.certificate);
    const parsed = read.ok ? parseCertificates(ssl.certificate, read.text) : undefined;
    if (read.ok) loaded.material.cert = read.text;
    const leaf = parsed?.ok ? (parsed.certificates[0] as X509Certificate) : undefined;
    if (leaf) {
      loaded.client = {
        subject: leaf.subject.replaceAll('\n', ', '),
        issuer: leaf.issuer.replaceAll('\n', ', '),
        validTo: new Date(leaf.validTo).toISOString(),
      };
    }
  }
  if (ssl.key) {
    const read = await readSource(ssl.key);
    if (read.ok) loaded.material.key = read.text;
  }
  return loaded;
}

/** The broker wants a client certificate: none is configured, or it refused the one it got. */
function clientCertificateCause(ctx: BrokerTlsContext, client: ClientCertificate | undefined): Classification {
  const { broker, ssl } = ctx;
  if (!ssl.certificate) {
    return namedCause(
      'CLIENT_CERTIFICATE_REQUIRED',
      `broker ${broker} requires a client certificate (mutual TLS) and none is configured (KAFKA_SSL_CERTFILE and KAFKA_SSL_CERT_PEM are not set)`,
      broker,
    );
  }
  const source =
    ssl.certificate.kind === 'file' ? `${ssl.certificate.path}, ${ssl.certificate.variable}` : ssl.certificate.variable;
  if (!client) {
    return namedCause(
      'CLIENT_CERTIFICATE_REFUSED',
      `broker ${broker} refused the client certificate (${source})`,
      broker,
    );
  }
  const why =
    Date.parse(client.validTo) < Date.now()
      ? `it expired on ${client.validTo}`
      : `its issuer is not in the broker's truststore, or it is not accepted for client authentication`;
  return namedCause(
    'CLIENT_CERTIFICATE_REFUSED',
    `broker ${broker} refused the client certificate ${client.subject}, issued by ${client.issuer} (${source}): ${why}`,
    broker,
  );
}

/** OpenSSL's verification codes, in words. */
const CHAIN_REASONS: Readonly<Record<string, string>> = {
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'that CA did not issue it',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'that CA did not issue it',
  UNABLE_TO_GET_ISSUER_CERT: 'its issuer is not among those CAs',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed CA that is not among those',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
};

/** What a completed handshake shows to be wrong, as a named cause; undefined when nothing is. */
export function handshakeCause(
  handshake: TlsHandshake,
  ctx: BrokerTlsContext,
  client?: ClientCertificate,
): Classification | undefined {
  const { broker } = ctx;
  const { chainError } = handshake;
  if (chainError === 'CERT_HAS_EXPIRED' || chainError === 'CERT_NOT_YET_VALID') {
    const when =
      chainError === 'CERT_HAS_EXPIRED'
        ? `expired on ${handshake.validTo}`
        : `is not valid before ${handshake.validFrom}`;
    return namedCause(
      'BROKER_CERTIFICATE_EXPIRED',
      `the certificate of broker ${broker} (${handshake.subject}) ${when}`,
      broker,
    );
  }
  // Node reports a certificate that does not cover the host as an authorization error too.
  if (chainError && chainError !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return namedCause(
      'BROKER_CERTIFICATE_UNTRUSTED',
      `the certificate of broker ${broker} (${handshake.subject}, issued by ${handshake.issuer}) is not trusted by ${trustedBy(ctx.ssl)}: ${CHAIN_REASONS[chainError] ?? chainError}`,
      broker,
    );
  }
  if (handshake.hostnameError || chainError === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const address = ctx.bootstrap ? 'the address in KAFKA_BOOTSTRAP_SERVERS' : 'the address the broker advertises';
    return namedCause(
      'BROKER_CERTIFICATE_NAME_MISMATCH',
      `the certificate of broker ${broker} does not cover ${parseBroker(broker).host}, ${address}: its SAN is ${handshake.subjectAltName || 'empty'}`,
      broker,
    );
  }
  // A client certificate node could not use was not sent: the certificate check names that fault.
  if (handshake.closedByBroker && !handshake.clientCertificateUnusable) return clientCertificateCause(ctx, client);
  return undefined;
}

/** A TLS alert from the broker during the handshake (TLS 1.2) about the client certificate. */
const CLIENT_CERTIFICATE_ALERT =
  /ALERT_(?:BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|HANDSHAKE_FAILURE)/;

/** What a handshake that did not complete says: a port that does not speak TLS, or a client certificate alert. */
export function probeErrorCause(
  error: TlsProbeError,
  ctx: BrokerTlsContext,
  client?: ClientCertificate,
): Classification | undefined {
  const closedBeforeHandshake = error.code === 'ECONNRESET' && /before secure TLS connection/.test(error.message);
  if (closedBeforeHandshake || /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/.test(error.code)) {
    return namedCause('NOT_TLS', notTlsFinding(ctx.broker), ctx.broker);
  }
  if (CLIENT_CERTIFICATE_ALERT.test(error.code)) return clientCertificateCause(ctx, client);
  return undefined;
}

export interface BrokerTlsReport {
  /** What the handshake saw, when it completed. */
  handshake?: TlsHandshake;
  /** The named cause of the failure, when one was found. */
  cause?: Classification;
  /** Why the broker's TLS could not be judged (no handshake, or a CA that cannot be read). */
  problem?: string;
}

/** A handshake with `broker` with the configured material, and the cause of what went wrong (diagnose's TLS check). */
export async function checkBrokerTls(
  broker: string,
  config: Pick<KafkaConfig, 'ssl' | 'bootstrapServers'>,
  timeoutMs: number,
): Promise<BrokerTlsReport> {
  const ctx: BrokerTlsContext = { broker, bootstrap: config.bootstrapServers.includes(broker), ssl: config.ssl };
  const loaded = await loadMaterial(config.ssl);
  if (loaded.caProblem) return { problem: `the broker certificate cannot be checked: ${loaded.caProblem}` };
  try {
    const handshake = await probeTls(parseBroker(broker), loaded.material, timeoutMs);
    const cause = handshakeCause(handshake, ctx, loaded.client);
    return { handshake, ...(cause && { cause }) };
  } catch (error) {
    if (!(error instanceof TlsProbeError)) throw error;
    const cause = probeErrorCause(error, ctx, loaded.client);
    return cause ? { cause } : { problem: `no TLS handshake: ${error.message}` };
  }
}

/**
 * The hook of the functions' waits (src/clients/wait.ts): a broker certificate librdkafka rejected
 * is examined by a handshake of our own (at most PROBE_TIMEOUT_MS, within `deadline`); a refused
 * client certificate is named from the configuration. Anything else, or nothing found, is returned as is.
 */
export async function explainTlsFailure(
  cause: Classification,
  config: Pick<KafkaConfig, 'ssl' | 'bootstrapServers'>,
  deadline: Deadline,
): Promise<Classification> {
  if (cause.name !== 'BROKER_CERTIFICATE_REJECTED' && cause.name !== 'CLIENT_CERTIFICATE_REFUSED') return cause;
  const broker = cause.broker ?? (config.bootstrapServers[0] as string);
  const ctx: BrokerTlsContext = { broker, bootstrap: config.bootstrapServers.includes(broker), ssl: config.ssl };
  const loaded = await loadMaterial(config.ssl);
  let found: Classification | undefined;
  if (cause.name === 'CLIENT_CERTIFICATE_REFUSED') {
    found = clientCertificateCause(ctx, loaded.client);
  } else {
    const timeoutMs = Math.min(PROBE_TIMEOUT_MS, deadline.remainingMs());
    if (loaded.caProblem || timeoutMs < MIN_PROBE_MS) return cause;
    found = await probeTls(parseBroker(broker), loaded.material, timeoutMs).then(
      (handshake) => handshakeCause(handshake, ctx, loaded.client),
      () => undefined,
    );
  }
  return found ? { ...found, ...(cause.evidence && { evidence: cause.evidence }) } : cause;
}
