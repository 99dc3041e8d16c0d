/**
 * retryUntilDeadline: retries with exponential backoff that never outlives the invocation.
 * It never sleeps past the deadline, never starts an attempt with less than `minAttemptMs` left,
 * gives each attempt a timeout no longer than what is left (and enforces it, since not every
 * binding call honours its own timeout), stops at once on an error that is not transient, and
 * on giving up throws one RetryError with attempts, time spent, the last cause and its hint.
 */
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { AttemptTimeoutError, type GiveUpReason, RetryError } from '../errors/errors.js';
import { backoffDelay } from './backoff.js';
import type { Deadline } from './deadline.js';

export interface AttemptContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** The time this attempt may take; the attempt is abandoned after it. */
  timeoutMs: number;
  /** Aborted when the attempt is abandoned. */
  signal: AbortSignal;
  /**
   * Registers how to explain this attempt if it runs out of time: an attempt waiting on a client
   * knows better than "timed out" what it was waiting for (e.g. the client's log says why).
   */
  explainTimeout(explain: (timeout: AttemptTimeoutError) => unknown): void;
}

export interface FailedAttempt {
  attempt: number;
  error: unknown;
  classification: Classification;
  elapsedMs: number;
  /** The backoff before the next attempt; undefined when there will be none. */
  nextDelayMs?: number;
}

export interface RetryOptions {
  /** Names the operation in messages, e.g. "Kafka consumer initialisation". */
  operation: string;
  /** Retries after the first attempt; 0 means exactly one attempt. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  deadline: Deadline;
  /** Upper bound of one attempt (besides the deadline). */
  attemptTimeoutMs?: number;
  /** No attempt starts with less time than this left. Default 250 ms. */
  minAttemptMs?: number;
  /** Kept free at the end for the final error to be built and thrown even on a busy event loop. Default 200 ms. */
  reserveMs?: number;
  classify?: (error: unknown) => Classification;
  onAttempt?: (attempt: number, timeoutMs: number) => void;
  onFailedAttempt?: (failure: FailedAttempt) => void;
  random?: () => number;
}

const NO_TIME: Classification = {
  code: null,
  name: 'NO_TIME_LEFT',
  kind: 'transient',
  retriable: true,
  hint: 'The invocation had no time left to try: raise the function timeout, or lower KAFKA_DEADLINE_MARGIN_MS.',
  summary: 'NO_TIME_LEFT: the deadline had passed before the first attempt',
};

async function runAttempt<T>(
  fn: (context: AttemptContext) => Promise<T>,
  attempt: number,
  timeoutMs: number,
  operation: string,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let explain: ((timeout: AttemptTimeoutError) => unknown) | undefined;
  const work = fn({
    attempt,
    timeoutMs,
    signal: controller.signal,
    explainTimeout: (fn) => {
      explain = fn;
    },
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timedOut = new AttemptTimeoutError(`${operation} (attempt ${attempt})`, timeoutMs);
      controller.abort(timedOut);
      reject(explain?.(timedOut) ?? timedOut);
    }, timeoutMs);
  });
  // An abandoned attempt may still settle later; its outcome is no longer anyone's concern.
  work.catch(() => {});
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function retryUntilDeadline<T>(
  fn: (context: AttemptContext) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const classify = options.classify ?? ((error: unknown) => classifyKafkaError(error));
  const minAttemptMs = options.minAttemptMs ?? 250;
  const reserveMs = options.reserveMs ?? 200;
  const started = Date.now();
  let lastError: unknown;
  let lastClassification: Classification = NO_TIME;
  let attempts = 0;

  const giveUp = (reason: GiveUpReason): RetryError =>
    new RetryError(
      {
        operation: options.operation,
        attempts,
        elapsedMs: Date.now() - started,
        reason,
        classification: lastClassification,
      },
      { cause: lastError },
    );

  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    const available = options.deadline.remainingMs() - reserveMs;
    if (available < minAttemptMs) throw giveUp('deadline');
    const timeoutMs = Math.min(options.attemptTimeoutMs ?? Number.POSITIVE_INFINITY, available);
    attempts = attempt;
    options.onAttempt?.(attempt, timeoutMs);
    try {
      return await runAttempt(fn, attempt, timeoutMs, options.operation);
    } catch (error) {
      lastError = error;
      lastClassification = classify(error);
      const elapsedMs = Date.now() - started;
      const failure = { attempt, error, classification: lastClassification, elapsedMs };
      if (lastClassification.kind !== 'transient') {
        options.onFailedAttempt?.(failure);
        throw giveUp('fatal');
      }
      if (attempt > options.retries) {
        options.onFailedAttempt?.(failure);
        throw giveUp('retries-exhausted');
      }
      const delay = backoffDelay(attempt, options, options.random);
      // Waiting out the backoff must still leave room for a whole attempt; otherwise stop now.
      if (options.deadline.remainingMs() - reserveMs - delay < minAttemptMs) {
        options.onFailedAttempt?.(failure);
        throw giveUp('deadline');
      }
      options.onFailedAttempt?.({ ...failure, nextDelayMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  throw giveUp('retries-exhausted');
}
