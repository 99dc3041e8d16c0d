/**
 * The extension point of the consume function: a MessageProcessor receives one message at a time.
 * Resolve when the message is done (its offset is committed after the batch); throw to stop the
 * drain there (the message and those after it are consumed again next time: at-least-once).
 *
 *   // handlers/orders.ts
 *   export const handler = createConsumeHandler(async (message, { log }) => {
 *     await saveOrder(JSON.parse(message.value?.toString() ?? '{}'));
 *   });
 */
import type { KafkaMessage } from '../clients/consumer.js';
import type { Invocation } from '../init/invocation.js';
import type { Log } from '../observability/log.js';

/** A consumed message, as a MessageProcessor receives it. */
export interface ConsumedMessage {
  /** The topic it was read from. */
  topic: string;
  /** Its partition. */
  partition: number;
  /** Its offset in the partition. */
  offset: number;
  /** The key as UTF-8 text; null when it has none. */
  key: string | null;
  /** The value's bytes; null for a tombstone. */
  value: Buffer | null;
  /** Headers by name, values as UTF-8 text. */
  headers: Record<string, string>;
  /** Milliseconds since the epoch, when the broker or producer set one. */
  timestamp: number | undefined;
}

/** What a MessageProcessor gets besides the message. */
export interface ProcessingContext {
  /** The invocation the drain runs in: its deadline bounds the work. */
  invocation: Invocation;
  /** The library's logger; while tracing, its lines carry the message producer's trace id. */
  log: Log;
}

/**
 * Handles one message. Resolve when it is done (its offset is committed after the batch); throw to
 * stop the drain there (it and the messages after it are consumed again next time).
 */
export type MessageProcessor = (message: ConsumedMessage, context: ProcessingContext) => Promise<void>;

export function toConsumedMessage(message: KafkaMessage): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const header of message.headers ?? []) {
    for (const [name, value] of Object.entries(header))
      headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === undefined || message.key === null ? null : message.key.toString(),
    value: message.value,
    headers,
    timestamp: message.timestamp,
  };
}

/** The default processor: one debug line per message (the drain logs a summary per invocation). */
export const logMessage: MessageProcessor = async (message, { log }) => {
  log.debug('Message', {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key,
    bytes: message.value?.length ?? 0,
  });
};
