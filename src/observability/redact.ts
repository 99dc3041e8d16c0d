/**
 * Redaction at the logger: every string that reaches a log line passes through here, so no code
 * path can print a secret, whoever wrote it. Registered secrets (SASL password, key password,
 * private key) are replaced wherever they appear; any PEM private key block is cut out; values of
 * keys that name a secret are masked whatever they hold.
 */
import { Secret } from '../config/secret.js';

export const REDACTED = '***';
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const SENSITIVE_KEY = /(password|passphrase|secret|credentials?|sasl\.password|ssl\.key\.pem|private_?key)$/i;
/** Shorter values are not worth the false positives of masking them everywhere. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  readonly #secrets = new Set<string>();

  /** Adds values to mask. For PEM keys, each base64 line is masked too, so fragments cannot leak. */
  register(...values: readonly (string | Secret | undefined)[]): void {
    for (const value of values) {
      const text = value instanceof Secret ? value.reveal() : value;
      if (!text || text.length < MIN_SECRET_LENGTH) continue;
      this.#secrets.add(text);
      if (text.includes('-----BEGIN')) {
        for (const line of text.split('\n')) if (line.trim().length >= 32) this.#secrets.add(line.trim());
      }
    }
  }

  redact(text: string): string {
    let result = text.replace(PRIVATE_KEY_BLOCK, '[private key redacted]');
    // Longest first, so a whole PEM goes before its own lines.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      if (result.includes(secret)) result = result.replaceAll(secret, REDACTED);
    }
    return result;
  }

  /** A JSON.stringify replacer: what the logger calls for every key and value it prints. */
  readonly replacer = (key: string, value: unknown): unknown => {
    if (value instanceof Secret) return REDACTED;
    if (typeof value !== 'string') return value;
    if (key && SENSITIVE_KEY.test(key)) return REDACTED;
    return this.redact(value);
  };
}
