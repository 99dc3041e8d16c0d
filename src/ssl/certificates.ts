/**
 * The seed's SSL certificate pre-validation, with node:crypto: every configured file exists and is
 * readable, parses as PEM, is within its validity dates, and the key decrypts and matches the client
 * certificate. A client certificate that does not chain to the CA is only noted: the CA is what the
 * client trusts the broker with, and a broker may trust client certificates from another CA.
 * Problems are collected and thrown together; nothing here ever prints key material.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { SslSettings } from '../config/load.js';
import { CertificateError, type CertificateProblem } from '../errors/errors.js';
import { type Log, silentLog } from '../observability/log.js';
import { describeSource, LABELS, parseCertificates, pemBlocks, readSource, truncatedBlock } from './sources.js';

const DAY_MS = 86_400_000;

export interface CertificateSummary {
  label: string;
  source: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltName?: string;
}

export interface CertificateReport {
  certificates: CertificateSummary[];
  /** What will fail soon (a certificate near its expiry): the health status shows it as degraded. */
  warnings: string[];
  /** What may be meant, and works if it is (a client certificate from another CA than the broker's): logged only. */
  notes: string[];
  /** Earliest expiry among the checked certificates (ms since epoch); Infinity when none. */
  validUntil: number;
}

export interface ValidateOptions {
  now?: number;
  log?: Log;
}

function checklist(ssl: SslSettings): string[] {
  const lines = [`CA certificate is valid: ${ssl.ca ? describeSource(ssl.ca) : 'system CA store'}`];
  if (ssl.certificate) lines.push(`Client certificate is valid: ${describeSource(ssl.certificate)}`);
  if (ssl.key) lines.push(`Private key is valid: ${describeSource(ssl.key)}`);
  lines.push('Certificate hostname matches broker address', 'Certificates are not expired');
  return lines;
}

function iso(date: string): string {
  return new Date(date).toISOString();
}

function checkDates(
  cert: X509Certificate,
  what: string,
  variable: string,
  source: string,
  now: number,
  warningDays: number,
  problems: CertificateProblem[],
  warnings: string[],
): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now < from) {
    problems.push({
      variable,
      source,
      message: `${what} is not valid yet (valid from ${iso(cert.validFrom)})`,
      fix: "check the issuing machine's clock, or wait until it becomes valid",
    });
  } else if (now > to) {
    problems.push({
      variable,
      source,
      message: `${what} expired on ${iso(cert.validTo)}`,
      fix: 'renew it and deploy the new certificate (`openssl x509 -in FILE -noout -dates` shows the dates)',
    });
  } else if (to - now < warningDays * DAY_MS) {
    warnings.push(`${what} (${source}) expires on ${iso(cert.validTo)}, in ${Math.floor((to - now) / DAY_MS)} days`);
  }
}

function summarize(cert: X509Certificate, label: string, source: string): CertificateSummary {
  return {
    label,
    source,
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    validFrom: iso(cert.validFrom),
    validTo: iso(cert.validTo),
    ...(cert.subjectAltName && { subjectAltName: cert.subjectAltName }),
  };
}

type KeyResult = { ok: true; key: KeyObject } | { ok: false; message: string; fix: string };

function loadPrivateKey(text: string, password: string | undefined, variable: string): KeyResult {
  const block = pemBlocks(text).find((b) => b.type.endsWith('PRIVATE KEY'));
  const truncated = truncatedBlock(text, '[A-Z ]*PRIVATE KEY', 'Private key');
  if (truncated) {
    return { ok: false, message: truncated, fix: `copy the whole key into ${variable} again (it was cut short)` };
  }
  if (!block) {
    return {
      ok: false,
      message: 'Private key is not a PEM private key (no -----BEGIN ... PRIVATE KEY----- block)',
      fix: 'export the key as PEM (PKCS#8 or PKCS#1)',
    };
  }
  const encrypted = block.type === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block.text);
  if (encrypted && password === undefined) {
    return {
      ok: false,
      message: 'Private key is encrypted and no password is configured',
      fix: 'set KAFKA_SSL_KEY_PASSWORD (from Secrets Manager or SSM), or provide an unencrypted key',
    };
  }
  try {
    return {
      ok: true,
      key: process
        .getBuiltinModule('node:crypto')
        .createPrivateKey({ key: block.text, format: 'pem', passphrase: password }),
    };
  } catch (error) {
    const code = String((error as { code?: string }).code ?? '');
    if (encrypted) {
      // A wrong password usually fails the padding check (bad decrypt), but about one time in 256
      // it decrypts to garbage that fails as DER instead: for an encrypted key both mean the password.
      const decrypt = /DECRYPT|BAD_PASSWORD|PASSPHRASE/i.test(`${code} ${(error as Error).message}`);
      return {
        ok: false,
        message: `Private key cannot be decrypted with KAFKA_SSL_KEY_PASSWORD${decrypt || !code ? '' : ` (${code})`}`,
        fix: 'check KAFKA_SSL_KEY_PASSWORD belongs to this key, and that the key file is whole',
      };
    }
    return {
      ok: false,
      message: `Private key cannot be parsed (${code || 'unsupported format'})`,
      fix: `export the key in ${variable} again as PEM (PKCS#8 or PKCS#1)`,
    };
  }
}

/** True when `leaf` chains through `intermediates` to one of `anchors`, each signature verified. */
function chainsTo(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[]): boolean {
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (anchors.some((anchor) => current.checkIssued(anchor) && current.verify(anchor.publicKey))) return true;
    const next = intermediates.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return false;
    current = next;
  }
  return false;
}

/** Runs every check; throws a CertificateError listing all problems, else returns what was checked. */
export async function validateCertificates(
  ssl: SslSettings,
  options: ValidateOptions = {},
): Promise<CertificateReport> {
  const now = options.now ?? Date.now();
  const log = options.log ?? silentLog;
  const problems: CertificateProblem[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const summaries: CertificateSummary[] = [];
  let caCerts: X509Certificate[] | undefined;
  let clientCerts: X509Certificate[] | undefined;
  let key: KeyObject | undefined;

  for (const source of [ssl.ca, ssl.certificate, ssl.key]) {
    if (!source) continue;
    const label = LABELS[source.variable] ?? source.variable;
    const where = describeSource(source);
    const read = await readSource(source);
    if (!read.ok) {
      problems.push(read.problem);
      continue;
    }
    log.info(
      source.kind === 'file' ? `✓ ${label} file exists: ${source.path}` : `✓ ${label} provided in ${source.variable}`,
    );
    if (source === ssl.key) {
      const loaded = loadPrivateKey(read.text, ssl.keyPassword?.reveal(), source.variable);
      if (loaded.ok) key = loaded.key;
      else problems.push({ variable: source.variable, source: where, message: loaded.message, fix: loaded.fix });
      continue;
    }
    const parsed = parseCertificates(source, read.text);
    if (!parsed.ok) {
      problems.push(parsed.problem);
      continue;
    }
    parsed.certificates.forEach((cert, index) => {
      const what = index === 0 ? label : `${label} chain entry #${index + 1}`;
      checkDates(cert, what, source.variable, where, now, ssl.expiryWarningDays, problems, warnings);
      summaries.push(summarize(cert, what, where));
    });
    if (source === ssl.ca) caCerts = parsed.certificates;
    else clientCerts = parsed.certificates;
  }

  const [leaf, ...intermediates] = clientCerts ?? [];
  if (leaf && key && ssl.certificate && ssl.key && !leaf.checkPrivateKey(key)) {
    problems.push({
      variable: ssl.key.variable,
      source: describeSource(ssl.key),
      message: `Private key does not belong to the client certificate (${describeSource(ssl.certificate)})`,
      fix: 'deploy the key that was generated with this certificate (compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`)',
    });
  }
  // The CA is what the client trusts the broker with; the broker may trust client certificates from
  // another CA (a split-CA setup), so a client certificate from elsewhere is not an error.
  if (leaf && caCerts && ssl.certificate && ssl.ca && !chainsTo(leaf, intermediates, caCerts)) {
    const caIssuers = caCerts.map((c) => c.subject.replaceAll('\n', ', ')).join('; ');
    notes.push(
      `Client certificate (${describeSource(ssl.certificate)}) is issued by ${leaf.issuer.replaceAll('\n', ', ')}, not by the CA ` +
        `in ${describeSource(ssl.ca)} (${caIssuers}): fine when the broker trusts client certificates from ` +
        `${leaf.issuer.replaceAll('\n', ', ')} (a split-CA setup); otherwise the broker will refuse it`,
    );
  }

  if (problems.length > 0) throw new CertificateError(problems, checklist(ssl));
  for (const warning of warnings) log.warn(`Certificate expires soon: ${warning}`);
  for (const note of notes) log.warn(note);
  log.info('SSL certificate validation completed successfully');
  const expiries = summaries.map((s) => Date.parse(s.validTo));
  return { certificates: summaries, warnings, notes, validUntil: expiries.length ? Math.min(...expiries) : Infinity };
}
