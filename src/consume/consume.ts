/** The consume function's logic: join (or stay in) the group, drain within the invocation, report. */

import type { KafkaInitializer } from '../init/initializer.js';
import type { Invocation } from '../init/invocation.js';
import { logTo } from '../observability/logger.js';
import { METRIC_NAMES } from '../observability/metrics.js';
import { type DrainResult, drain } from './drain.js';
import type { MessageProcessor } from './processor.js';

/** What the schedule passes (EventBridge `input`); every field is optional. */
export interface ConsumeEvent {
  /** Most messages one invocation processes. Default 500. */
  maxMessages?: number;
  /** Stop after this long without a message. Default 1000 ms. */
  idleMs?: number;
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `Invalid consume request: ${name} must be a positive whole number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The consume function: takes the consumer (joining the group on first need), drains it within the
 * invocation, handing each message to `process` in order, commits what was processed, and counts
 * and logs it. A processor that throws stops the drain there (that message and those after it are
 * read again next time: at-least-once). When the drain fails (a commit that fails), the consumer is
 * dropped, so the next invocation rejoins from what is committed, and the promise rejects.
 */
export async function consumeBatch(
  kafka: KafkaInitializer,
  event: ConsumeEvent | null | undefined,
  invocation: Invocation,
  process: MessageProcessor,
): Promise<DrainResult> {
  const maxMessages = positiveInteger(event?.maxMessages, 500, 'maxMessages');
  const idleMs = positiveInteger(event?.idleMs, 1000, 'idleMs');
  const consumer = await kafka.consumer(invocation);
  let result: DrainResult;
  try {
    const config = kafka.config();
    const tracing = config.tracing.enabled ? { config, group: config.consumer.groupId } : undefined;
    result = await drain(consumer, process, invocation, logTo(kafka.logger), { maxMessages, idleMs, tracing });
  } catch (error) {
    // A commit that failed leaves the group's position unknown: rejoin from what is committed.
    kafka.invalidate('consumer', `the drain failed: ${(error as Error).message}`);
    throw error;
  }
  kafka.metrics.count(METRIC_NAMES.messagesConsumed, result.processed);
  if (result.stoppedBecause === 'unassigned') kafka.metrics.count(METRIC_NAMES.consumeUnassigned);
  kafka.logger.info(`Drain finished: ${result.processed} processed, stopped by ${result.stoppedBecause}`, {
    committed: result.committed,
    totalLag: result.totalLag,
  });
  return result;
}
