/**
 * A bounded drain: take messages until the batch limit, until none arrive for `idleMs`, or until
 * the deadline leaves only the time to commit; hand each to the processor in order; commit exactly
 * what was processed. Messages taken but not processed go back to the consumer, so the next
 * invocation of this environment continues where this one stopped, without gaps or repeats.
 */
import type { ManagedConsumer, PartitionLag, TopicPartitionOffset } from '../clients/consumer.js';
import type { KafkaConfig } from '../config/load.js';
import type { Invocation } from '../init/invocation.js';
import type { Log } from '../observability/log.js';
import { startBatch, tracingActive, withTraceId } from '../observability/tracing.js';
import { type ConsumedMessage, type MessageProcessor, toConsumedMessage } from './processor.js';

export interface DrainOptions {
  maxMessages: number;
  /** Stop when no message arrives for this long. */
  idleMs: number;
  /** Kept at the end of the invocation for the commit. */
  commitReserveMs?: number;
  /** Set to trace each batch (src/observability/tracing.ts): the configuration, and the group. */
  tracing?: { config: KafkaConfig; group?: string };
}

/** The most messages taken from the binding in one call: fewer calls per drain, each a pool-thread job. */
const RECEIVE_BATCH = 5000;

/**
 * Why the drain stopped: the batch limit; no message for `idleMs` while holding partitions; no
 * partition to read from (the consumer is joining or rejoining its group, e.g. after a coordinator
 * moved: messages may well be waiting); the deadline; a processor that threw.
 */
export type StopReason = 'limit' | 'idle' | 'unassigned' | 'deadline' | 'processing-error';

/** What consumeBatch() returns. */
export interface DrainResult {
  /** Messages processed (and committed). */
  processed: number;
  /** Why the drain stopped. */
  stoppedBecause: StopReason;
  /** What was committed: per partition, the offset of the next message to read. */
  committed: TopicPartitionOffset[];
  /** Per assigned partition after the commit; empty when unknown (see lagUnknown). */
  lag: PartitionLag[];
  /** Messages behind, summed; null when it could not be read — never 0 for "unknown". */
  totalLag: number | null;
  /** Why the lag is not known, when it is not. */
  lagUnknown?: string;
  /** With `processing-error`: the message (`topic[partition]@offset`) and what the processor threw. */
  error?: string;
}

export async function drain(
  consumer: ManagedConsumer,
  process: MessageProcessor,
  invocation: Invocation,
  log: Log,
  options: DrainOptions,
): Promise<DrainResult> {
  const reserve = options.commitReserveMs ?? 1000;
  const left = () => invocation.deadline.remainingMs() - reserve;
  const next = new Map<string, TopicPartitionOffset>();
  let processed = 0;
  let stoppedBecause: StopReason | undefined;
  let error: string | undefined;

  while (!stoppedBecause) {
    if (processed >= options.maxMessages) stoppedBecause = 'limit';
    else if (left() <= 0) stoppedBecause = 'deadline';
    if (stoppedBecause) break;
    const batch = await consumer.receive(
      Math.min(RECEIVE_BATCH, options.maxMessages - processed),
      Math.min(options.idleMs, left()),
    );
    if (batch.length === 0) {
      stoppedBecause = left() <= 0 ? 'deadline' : consumer.assignment().length === 0 ? 'unassigned' : 'idle';
      break;
    }
    // Converted up front only while tracing: the batch's span links every message's producer.
    const tracing = options.tracing && tracingActive(options.tracing.config) ? options.tracing : undefined;
    const consumed = tracing ? batch.map(toConsumedMessage) : undefined;
    const trace = tracing && consumed ? startBatch(tracing.config, consumed, tracing) : undefined;
    for (const [i, message] of batch.entries()) {
      if (left() <= 0) {
        stoppedBecause = 'deadline';
      } else {
        try {
          if (trace) {
            const messageLog = withTraceId(log, trace.producerTraceIds[i]);
            await trace.run(() => process(consumed?.[i] as ConsumedMessage, { invocation, log: messageLog }));
          } else await process(toConsumedMessage(message), { invocation, log });
          processed++;
          next.set(`${message.topic}/${message.partition}`, {
            topic: message.topic,
            partition: message.partition,
            offset: message.offset + 1,
          });
          continue;
        } catch (failure) {
          stoppedBecause = 'processing-error';
          error = `${message.topic}[${message.partition}]@${message.offset}: ${(failure as Error).message}`;
          log.error('Processing failed: the drain stops here and this message is consumed again next time', {
            error,
            ...(trace?.producerTraceIds[i] && { trace_id: trace.producerTraceIds[i] }),
          });
        }
      }
      consumer.unread(batch.slice(i));
      break;
    }
    trace?.end(stoppedBecause === 'processing-error' ? error : undefined);
  }

  const committed = [...next.values()];
  await consumer.commit(committed, Math.max(500, invocation.deadline.remainingMs() - 100));
  const lag = consumer.lag();
  // Normal before the first fetch response of a partition, and while joining: the result says so (lagUnknown).
  if (!lag.ok) log.info(`Lag is not known: ${lag.reason}`);
  return {
    processed,
    stoppedBecause: stoppedBecause as StopReason,
    committed,
    lag: lag.ok ? lag.partitions : [],
    totalLag: lag.ok ? lag.total : null,
    ...(!lag.ok && { lagUnknown: lag.reason }),
    ...(error && { error }),
  };
}
