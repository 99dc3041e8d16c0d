/** Reading certificate and key material from files or inline PEM, with errors that name the fix. */
import type { X509Certificate } from 'node:crypto';

/** Loaded on first use: a function without TLS never needs them. */
const crypto = () => process.getBuiltinModule('node:crypto');
const fs = () => process.getBuiltinModule('node:fs/promises');

import type { PemSource } from '../config/load.js';
import type { CertificateProblem } from '../errors/errors.js';

export const LABELS = {
  KAFKA_SSL_CAFILE: 'CA certificate',
  KAFKA_SSL_CA_PEM: 'CA certificate',
  KAFKA_SSL_CERTFILE: 'Client certificate',
  KAFKA_SSL_CERT_PEM: 'Client certificate',
  KAFKA_SSL_KEYFILE: 'Private key',
  KAFKA_SSL_KEY_PEM: 'Private key',
} as Readonly<Record<string, string>>;

/** How a source is named in messages: the path, or which variable held the PEM. Never the content. */
export function describeSource(source: PemSource): string {
  return source.kind === 'file' ? source.path : `inline ${source.variable}`;
}

export type ReadResult = { ok: true; text: string } | { ok: false; problem: CertificateProblem };

function problem(source: PemSource, message: string, fix: string): { ok: false; problem: CertificateProblem } {
  return { ok: false, problem: { variable: source.variable, source: describeSource(source), message, fix } };
}

/** Reads a source's PEM text; a missing, unreadable or non-file path becomes a problem, not an exception. */
export async function readSource(source: PemSource): Promise<ReadResult> {
  if (source.kind === 'inline') return { ok: true, text: source.pem.reveal() };
  const label = LABELS[source.variable] ?? source.variable;
  try {
    return { ok: true, text: await fs().readFile(source.path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return problem(
        source,
        `${label} file does not exist`,
        `check the path in ${source.variable}; files shipped with the function are under ${process.env.LAMBDA_TASK_ROOT ?? '/var/task'}`,
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return problem(
        source,
        `${label} file is not readable`,
        `make it readable by the function (chmod 644 before packaging)`,
      );
    }
    if (code === 'EISDIR') {
      return problem(source, `${label} path is a directory`, `point ${source.variable} at the PEM file itself`);
    }
    return problem(source, `${label} file cannot be read (${code ?? 'unknown error'})`, `check ${source.variable}`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export interface PemBlock {
  type: string;
  text: string;
}

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ type: match[1] as string, text: match[0] }));
}

/**
 * A BEGIN line of `type` (a regular expression) that no END line closes: a truncated copy. Returns
 * the message that says so, or undefined when every block is whole.
 */
export function truncatedBlock(text: string, type: string, label: string): string | undefined {
  const begins = [...text.matchAll(new RegExp(`-----BEGIN (${type})-----`, 'g'))];
  for (const begin of begins) {
    const name = begin[1] as string;
    if (!text.includes(`-----END ${name}-----`, begin.index)) {
      return `${label} is truncated: its -----BEGIN ${name}----- has no -----END ${name}----- (${text.length} bytes)`;
    }
  }
  return undefined;
}

export type CertificatesResult =
  | { ok: true; certificates: X509Certificate[] }
  | { ok: false; problem: CertificateProblem };

/** Every CERTIFICATE block of a source, parsed; the first is the leaf for a client certificate. */
export function parseCertificates(source: PemSource, text: string): CertificatesResult {
  const label = LABELS[source.variable] ?? source.variable;
  const blocks = pemBlocks(text).filter((block) => block.type === 'CERTIFICATE');
  const truncated = truncatedBlock(text, 'CERTIFICATE', label);
  if (truncated) {
    return problem(
      source,
      truncated,
      `copy the whole certificate into ${source.variable} again (it was cut short, e.g. by a size limit or a broken line)`,
    );
  }
  if (blocks.length === 0) {
    return problem(
      source,
      `${label} is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`,
      'convert it to PEM, e.g. `openssl x509 -inform der -in cert.der -out cert.pem`',
    );
  }
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      certificates.push(new (crypto().X509Certificate)(block.text));
    } catch {
      return problem(
        source,
        `${label}: certificate #${index + 1} in the PEM is corrupt and cannot be parsed`,
        'export the certificate again; check that the file was not truncated or re-encoded',
      );
    }
  }
  return { ok: true, certificates };
}
