/**
 * classifyKafkaError: any error from the binding (or this library) → code, kind and hint.
 *
 * It works from the numeric librdkafka code, because the binding's KafkaJS layer
 * (@confluentinc/kafka-javascript 1.10, lib/kafkajs/_common.js) is unreliable about the rest:
 * - for code 15 it throws `TypeError: error.KafkaJSGroupCoordinatorNotAvailableError is not a
 *   constructor` in place of the error, losing the code;
 * - it copies `retriable`/`fatal` from properties the native error does not have (those are
 *   `isRetriable`/`isFatal`), so both are always false;
 * - `type` is -1 for codes 14, 15 and 16, which have two names each;
 * - some paths (consumer connect) keep only the message, with code -1.
 *
 * librdkafka also reports most connection-level causes (bad password, untrusted broker
 * certificate, unresolvable host, coordinator not available) only in its log, while the call
 * fails with a generic transport error or timeout. Given the client's recent log lines, a
 * generic error is refined to the cause those lines name.
 */

import { fromCode } from './causes.js';
import {
  AttemptTimeoutError,
  CertificateError,
  CircuitOpenError,
  ConfigError,
  KafkaOperationError,
  RetryError,
} from './errors.js';
import { causeFromLogs } from './log-patterns.js';
import type { ErrorKind } from './table.js';

export { causeFromLogs, LOG_PATTERNS, type LogPattern } from './log-patterns.js';

/** What an error means: its cause, whether a retry can help, and what to do about it. */
export interface Classification {
  /** librdkafka error code, or null for errors that are not Kafka's (configuration, certificates). */
  code: number | null;
  /** The cause's name, e.g. `ALL_BROKERS_DOWN`, `BROKER_CERTIFICATE_UNTRUSTED`, `INVALID_CONFIGURATION`. */
  name: string;
  /** What a retry loop should do about it. */
  kind: ErrorKind;
  /** Whether trying again may succeed: true for a `transient` kind. */
  retriable: boolean;
  /** What to check or change, for the person reading the log. */
  hint: string;
  /** One line: name, code, what happened. */
  summary: string;
  /** The client log line that identified the cause, when the error itself was generic. */
  evidence?: string;
  /** The broker (host:port) that log line names, when it names one. */
  broker?: string;
}

/**
 * A line librdkafka logged, as collected from the client's logger.
 * @inline
 */
export interface ClientLogLine {
  /** The line's text. */
  message: string;
  /** librdkafka facility, e.g. FAIL, SASL, CGRPCOORD. */
  facility?: string;
  /** When it was last seen (a line repeated without pause is kept once, see ClientLogRecorder). */
  timestamp: number;
  /** When a line repeated without pause was first seen; absent for a line seen once. */
  firstSeen?: number;
}

/** Errors whose code says little; recent log lines may name the real cause. */
const GENERIC_CODES = new Set([-195, -187, -185, -1, 7]);

/** librdkafka's own texts (rd_kafka_err2str), for errors that kept only their message. */
const MESSAGE_CODES: readonly [RegExp, number][] = [
  [/broker transport failure/i, -195],
  [/all broker connections are down/i, -187],
  [/authentication failure|sasl authentication/i, -169],
  [/ssl (handshake )?(error|failed)/i, -181],
  [/failed to resolve/i, -193],
  [/local: timed out|operation timed out/i, -185],
  [/coordinator not available/i, 15],
];

const COORDINATOR_BUG = /KafkaJSGroupCoordinatorNotAvailableError is not a constructor/;

function numericCode(error: unknown, depth = 0): number | undefined {
  if (depth > 3 || typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown };
  if (error instanceof TypeError && COORDINATOR_BUG.test(String(candidate.message))) return 15;
  if (error instanceof AttemptTimeoutError) return -185;
  for (const value of [candidate.code, candidate.errno]) {
    if (typeof value === 'number' && value !== -1 && value !== 0) return value;
  }
  if (typeof candidate.message === 'string') {
    for (const [pattern, code] of MESSAGE_CODES) if (pattern.test(candidate.message)) return code;
  }
  return numericCode(candidate.cause, depth + 1);
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Fixes as one hint: each a sentence, capitalised. */
function sentences(fixes: readonly string[]): string {
  return fixes.map((fix) => `${fix.charAt(0).toUpperCase()}${fix.slice(1).replace(/\.$/, '')}.`).join(' ');
}

/** The first line of what went wrong: an Error's message, a plain error object's `message` (the binding's), or the value. */
function messageOf(error: unknown): string {
  const message =
    typeof (error as { message?: unknown } | null)?.message === 'string'
      ? (error as { message: string }).message
      : typeof error === 'object' && error !== null
        ? safeJson(error)
        : String(error);
  return message.split('\n')[0] ?? '';
}

/** What classifyKafkaError() may use besides the error itself. */
export interface ClassifyContext {
  /** The failing client's recent log lines, newest last. */
  recentLogs?: readonly ClientLogLine[];
}

/** Sorts an error into transient / fatal / config with a hint; see the module comment for why it reads codes. */
export function classifyKafkaError(error: unknown, context: ClassifyContext = {}): Classification {
  if (error instanceof RetryError || error instanceof KafkaOperationError) return error.classification;
  if (error instanceof ConfigError) {
    return {
      code: null,
      name: 'INVALID_CONFIGURATION',
      kind: 'config',
      retriable: false,
      hint: "Fix these variables in the function's environment (serverless.yml) and redeploy.",
      summary: `INVALID_CONFIGURATION: ${error.problems.map((p) => p.message).join('; ')}`,
    };
  }
  if (error instanceof CertificateError) {
    // One line: every problem with its file, then every fix.
    return {
      code: null,
      name: 'INVALID_CERTIFICATE',
      kind: 'config',
      retriable: false,
      hint: sentences(error.problems.map((p) => p.fix)),
      summary: `INVALID_CERTIFICATE: ${error.problems.map((p) => `${p.message} (${p.source})`).join('; ')}`,
    };
  }
  if (error instanceof CircuitOpenError) {
    return {
      code: null,
      name: 'CIRCUIT_OPEN',
      kind: 'fatal',
      retriable: false,
      hint: 'Recent initialisations all failed; see their logged cause. The breaker lets one attempt through after its cool-down.',
      summary: `CIRCUIT_OPEN: ${messageOf(error)}`,
    };
  }
  const message = messageOf(error);
  const code = numericCode(error);
  const nativeRetriable = (error as { isRetriable?: boolean } | null)?.isRetriable;
  const base: Classification =
    code === undefined
      ? {
          code: null,
          name: 'UNCLASSIFIED',
          kind: 'fatal',
          retriable: false,
          hint: 'Not a Kafka error: it is not retried. See the message and stack.',
          summary: `UNCLASSIFIED: ${message}`,
        }
      : fromCode(code, message, nativeRetriable);
  if (code !== undefined && !GENERIC_CODES.has(code)) return base;

  const cause = causeFromLogs(context.recentLogs ?? []);
  if (!cause) return base;
  return { ...cause, summary: `${cause.summary} (the call failed with: ${message})` };
}
