/**
 * Every error class this library throws. Each has an explicit `name` and keeps `cause`,
 * and each message says what failed, where, and what to do next.
 */
import type { Classification } from './classify.js';

/** One problem with the environment: the variables involved and what is wrong. */
export interface ConfigProblem {
  /** The environment variables involved: a problem always names at least one. */
  variables: readonly string[];
  /** What is wrong, starting with the variable's name, e.g. `KAFKA_BOOTSTRAP_SERVERS: required, …`. */
  message: string;
}

/** Invalid environment: every problem at once, each naming its variable. */
export class ConfigError extends Error {
  /** Always `'ConfigError'`. */
  override readonly name = 'ConfigError';
  /** Every problem found. */
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

/** One certificate or key that would make the TLS handshake fail, with its source and fix. */
export interface CertificateProblem {
  /** The variable the certificate or key came from, e.g. KAFKA_SSL_CERTFILE. */
  variable: string;
  /** File path, or `inline (VARIABLE)` for PEM given in the environment. */
  source: string;
  /** What is wrong with it, e.g. that it expired or does not match the key. */
  message: string;
  /** What to do about it. */
  fix: string;
}

/** A certificate or key that would make the TLS handshake fail, found before connecting. */
export class CertificateError extends Error {
  /** Always `'CertificateError'`. */
  override readonly name = 'CertificateError';
  /** Every problem found. */
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
  /** Always `'KafkaOperationError'`. */
  override readonly name = 'KafkaOperationError';
  /** The classified cause: what classifyKafkaError() returns for this error. */
  readonly classification: Classification;

  constructor(operation: string, classification: Classification, options?: ErrorOptions) {
    super(`${operation} failed: ${classification.summary}`, options);
    this.classification = classification;
  }
}

/** One attempt ran out of the time it was given (its own timeout or the invocation's deadline). */
export class AttemptTimeoutError extends Error {
  /** Always `'AttemptTimeoutError'`. */
  override readonly name = 'AttemptTimeoutError';
  /** The time the attempt was given, whole milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, options?: ErrorOptions) {
    // Whole milliseconds: a remaining time can be fractional, and "3246.10009765625 ms" reads as noise.
    super(`${operation} did not finish within ${Math.round(timeoutMs)} ms`, options);
    this.timeoutMs = Math.round(timeoutMs);
  }
}

/**
 * Why a retried operation gave up: a cause no retry can fix (`fatal`, which includes configuration
 * causes), no retries left, or no time left before the invocation's deadline.
 */
export type GiveUpReason = 'fatal' | 'retries-exhausted' | 'deadline';

/** A retried operation gave up: how many attempts, how long, why, and the last cause with its hint. */
export class RetryError extends Error {
  /** Always `'RetryError'`. */
  override readonly name = 'RetryError';
  /** What was retried, e.g. "Producer initialization". */
  readonly operation: string;
  /** Attempts made, the first included; 0 when no time was left for a first one. */
  readonly attempts: number;
  /** Time spent on all attempts and the delays between them, ms. */
  readonly elapsedMs: number;
  /** Why it stopped retrying. */
  readonly reason: GiveUpReason;
  /** The last attempt's classified cause, with its hint. */
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
  /** Always `'CircuitOpenError'`. */
  override readonly name = 'CircuitOpenError';
  /** How long until the breaker lets an attempt through again, ms. */
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
