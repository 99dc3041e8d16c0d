/**
 * The retry loop around one initialisation path: each attempt runs the path's stages (those
 * already done return at once), is counted, and is explained from the clients' log if it runs out
 * of time. Stages get a deadline slightly before the attempt's, so that they fail with their own,
 * better explained error before the attempt is abandoned.
 */
import type { KafkaConfig } from '../config/load.js';
import type { Classification } from '../errors/classify.js';
import { type AttemptTimeoutError, KafkaOperationError, RetryError } from '../errors/errors.js';
import type { Log } from '../observability/log.js';
import { Deadline } from '../retry/deadline.js';
import { retryUntilDeadline } from '../retry/retry.js';

/** How much earlier than its attempt a stage's own deadline falls. */
const STAGE_HEADROOM_MS = 150;
/**
 * Less time than this for a whole initialisation is not enough to connect (TCP, TLS and SASL
 * handshakes, a metadata round trip): a wait that merely ran out then is reported as that.
 */
export const TOO_LITTLE_TIME_MS = 2000;

/** Codes of a wait that ran out with nothing in the log to say why. */
const RAN_OUT = new Set([-185, -195, -187]);

function tooLittleTime(available: number, margin: number): Classification {
  return {
    code: null,
    name: 'NO_TIME_LEFT',
    kind: 'transient',
    retriable: true,
    summary: `NO_TIME_LEFT: only ${Math.round(available)} ms were left to connect (the invocation's remaining time minus KAFKA_DEADLINE_MARGIN_MS=${margin})`,
    hint: `Raise the function timeout, or lower KAFKA_DEADLINE_MARGIN_MS: a cold connection needs up to a couple of seconds (TLS and SASL handshakes, metadata).`,
  };
}

export interface InitialisationRun<T> {
  label: string;
  config: KafkaConfig;
  deadline: Deadline;
  log: Log;
  onAttempt: () => void;
  /** Explains an abandoned attempt from what the clients logged since `since`. */
  explainTimeout: (timeout: AttemptTimeoutError, since: number) => Classification;
  run: (stageDeadline: Deadline) => Promise<T>;
}

export async function retryInitialisation<T>(init: InitialisationRun<T>): Promise<{ value: T; attempts: number }> {
  const available = init.deadline.remainingMs();
  try {
    return await retryAttempts(init);
  } catch (error) {
    // Running out of a budget too short to connect in says nothing about the brokers.
    if (
      error instanceof RetryError &&
      available < TOO_LITTLE_TIME_MS &&
      error.classification.evidence === undefined &&
      RAN_OUT.has(error.classification.code ?? 0)
    ) {
      const { operation, attempts, elapsedMs, reason } = error;
      const classification = tooLittleTime(available, init.config.init.deadlineMarginMs);
      throw new RetryError({ operation, attempts, elapsedMs, reason, classification }, { cause: error });
    }
    throw error;
  }
}

async function retryAttempts<T>(init: InitialisationRun<T>): Promise<{ value: T; attempts: number }> {
  const { label, config } = init;
  let attempts = 0;
  const value = await retryUntilDeadline(
    async (attempt) => {
      attempts = attempt.attempt;
      init.onAttempt();
      const started = Date.now();
      attempt.explainTimeout((timeout) => new KafkaOperationError(label, init.explainTimeout(timeout, started)));
      return init.run(Deadline.in(Math.max(1, attempt.timeoutMs - STAGE_HEADROOM_MS)));
    },
    {
      operation: label,
      ...config.init,
      deadline: init.deadline,
      attemptTimeoutMs: config.init.coordinatorWaitTimeoutMs,
      onFailedAttempt: ({ attempt, classification, nextDelayMs }) =>
        init.log.warn(
          `${label} attempt ${attempt} of ${config.init.retries + 1} failed: ${classification.summary}` +
            (nextDelayMs === undefined ? '' : `; retrying in ${nextDelayMs} ms`),
          { attempt, errorCode: classification.code, error: classification.name, kind: classification.kind },
        ),
    },
  );
  return { value, attempts };
}
