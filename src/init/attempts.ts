/**
 * The retry loop around one initialisation path: each attempt runs the path's stages (those
 * already done return at once), is counted, and is explained from the clients' log if it runs out
 * of time. Stages get a deadline slightly before the attempt's, so that they fail with their own,
 * better explained error before the attempt is abandoned.
 */
import type { KafkaConfig } from '../config/load.js';
import type { Classification } from '../errors/classify.js';
import { type AttemptTimeoutError, KafkaOperationError } from '../errors/errors.js';
import type { Log } from '../observability/log.js';
import { Deadline } from '../retry/deadline.js';
import { retryUntilDeadline } from '../retry/retry.js';

/** How much earlier than its attempt a stage's own deadline falls. */
const STAGE_HEADROOM_MS = 150;

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
