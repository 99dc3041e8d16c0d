/**
 * Certificate checks cached for the life of an execution environment. The cache key is a hash of
 * the material itself, so a certificate rotated in place (new file content, new secret value) is
 * checked again without a redeploy; so is one whose expiry has passed since the last check.
 */
import type { SslSettings } from '../config/load.js';
import { type CertificateReport, type ValidateOptions, validateCertificates } from './certificates.js';
import { readSource } from './sources.js';

export interface ValidationResult {
  report: CertificateReport;
  /** True when nothing changed since the last successful check, which was reused. */
  cached: boolean;
}

async function fingerprint(ssl: SslSettings): Promise<string> {
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  for (const source of [ssl.ca, ssl.certificate, ssl.key]) {
    if (!source) {
      hash.update('\0none\0');
      continue;
    }
    const read = await readSource(source);
    hash.update(`\0${source.variable}\0`);
    hash.update(read.ok ? read.text : `unreadable:${read.problem.message}`);
  }
  hash.update(`\0${ssl.keyPassword?.reveal() ?? ''}\0${ssl.expiryWarningDays}`);
  return hash.digest('hex');
}

export class CertificateValidator {
  #last: { fingerprint: string; report: CertificateReport } | undefined;

  /** Validates, or reuses the last successful validation when the material is unchanged and unexpired. */
  async validate(ssl: SslSettings, options: ValidateOptions = {}): Promise<ValidationResult> {
    const now = options.now ?? Date.now();
    const current = await fingerprint(ssl);
    if (this.#last && this.#last.fingerprint === current && now < this.#last.report.validUntil) {
      return { report: this.#last.report, cached: true };
    }
    this.#last = undefined;
    const report = await validateCertificates(ssl, { ...options, now });
    this.#last = { fingerprint: current, report };
    return { report, cached: false };
  }
}
