/**
 * Every error class this library throws. Each has an explicit `name` and keeps `cause`,
 * and each message says what failed, where, and what to do next.
 */
import type { Classification } from './classify.js';

export interface ConfigProblem {
  /** The environment variables involved: a problem always names at least one. */
  variables: readonly string[];
  message: string;
}

/** Invalid environment: every problem at once, each naming its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `Invalid Kafka configuration (${count}):\n${problems.map((p) => `  - ${p.message}`).join('\n')}\n` +
        "Fix these variables in the function's environment (serverless.yml) and redeploy.",
      options,
    );
    this.problems = problems;
  }
}

export interface CertificateProblem {
  /** The variable the certificate or key came from, e.g. KAFKA_SSL_CERTFILE. */
  variable: string;
  /** File path, or `inline (VARIABLE)` for PEM given in the environment. */
  source: string;
  message: string;
  fix: string;
}

/** A certificate or key that would make the TLS handshake fail, found before connecting. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  readonly problems: readonly CertificateProblem[];

  constructor(problems: readonly CertificateProblem[], checklist: readonly string[], options?: ErrorOptions) {
    super(
      `SSL certificate validation failed:\n${problems.map((p) => `  ✗ ${p.message} (${p.source}): ${p.fix}`).join('\n')}\n` +
        `Please verify:\n${checklist.map((line, i) => `  ${i + 1}. ${line}`).join('\n')}`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * The cause and what to do about it, on one line: what every operator's surface (an error, the log
 * line of an HTTP 503, a health reason, diagnose) shows for a classified failure. Never an HTTP body:
 * it names brokers, files and variables (src/produce/http.ts).
 */
export function causeLine(classification: Classification): string {
  return `${classification.summary}. ${classification.hint}`;
}

/** A Kafka call failed; its cause was classified where the client's own log lines were at hand. */
export class KafkaOperationError extends Error {
  override readonly name = 'KafkaOperationError';
  readonly classification: Classification;

  constructor(operation: string, classification: Classification, options?: ErrorOptions) {
    super(`${operation} failed: ${classification.summary}`, options);
    this.classification = classification;
  }
}

/** One attempt ran out of the time it was given (its own timeout or the invocation's deadline). */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, options?: ErrorOptions) {
    // Whole milliseconds: a remaining time can be fractional, and "3246.10009765625 ms" reads as noise.
    super(`${operation} did not finish within ${Math.round(timeoutMs)} ms`, options);
    this.timeoutMs = Math.round(timeoutMs);
  }
}

export type GiveUpReason = 'fatal' | 'retries-exhausted' | 'deadline';

/** A retried operation gave up: how many attempts, how long, why, and the last cause with its hint. */
export class RetryError extends Error {
  override readonly name = 'RetryError';
  readonly operation: string;
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly reason: GiveUpReason;
  readonly classification: Classification;

  constructor(
    fields: {
      operation: string;
      attempts: number;
      elapsedMs: number;
      reason: GiveUpReason;
      classification: Classification;
    },
    options?: ErrorOptions,
  ) {
    const { operation, attempts, elapsedMs, reason, classification } = fields;
    const why = {
      fatal: 'stopped at once: retrying cannot fix this',
      'retries-exhausted': 'no retries left',
      deadline: 'no time left before the Lambda deadline',
    }[reason];
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    // The first line is the whole story (what failed, why, what to do); the second how it was tried.
    super(
      `${operation} failed: ${causeLine(classification)}\n(${tries} in ${Math.round(elapsedMs)} ms; ${why})`,
      options,
    );
    this.operation = operation;
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
    this.reason = reason;
    this.classification = classification;
  }
}

/** The circuit breaker is open: recent initialisations all failed, so this one fails fast. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  readonly retryInMs: number;

  constructor(failures: number, retryInMs: number, lastFailure: string | undefined, options?: ErrorOptions) {
    super(
      `Kafka initialisation failed ${failures} times in a row; failing fast for another ${Math.ceil(retryInMs / 1000)} s ` +
        `instead of spending this invocation's time on it.${lastFailure ? ` Last failure: ${lastFailure}` : ''}`,
      options,
    );
    this.retryInMs = retryInMs;
  }
}
