/**
 * What the forward function does to one record: the records arrive decoded by Powertools'
 * `kafkaConsumer` (handlers/forward.ts) with FORWARD_SCHEMA, and each becomes one outgoing
 * message — the same key and headers, its value wrapped with where it came from.
 *
 *   in:  key "order-7", value {"id":7}, headers [{ "trace": [116,49] }]       (orders, partition 2, offset 41)
 *   out: key "order-7", value {"source":{"topic":"orders","partition":2,"offset":41,"timestamp":…},"value":{"id":7}},
 *        headers { "trace": "t1" }
 *
 * A tombstone (null value) stays a tombstone under the same key, so compaction on the target
 * topic keeps its meaning.
 */
import type { ConsumerRecord, SchemaConfig } from '@aws-lambda-powertools/kafka/types';
import * as v from 'valibot';
import type { OutgoingMessage, Parsed } from '../produce/messages.js';

/**
 * Values are JSON objects. Powertools' JSON deserializer hands back the plain text of a value that
 * is not JSON (it logs the failure and goes on), so the parser schema is what refuses it: reading
 * `record.value` then throws KafkaConsumerParserError, for that record only.
 */
// Not v.record: it takes an array for an object with index keys.
const SourceValueSchema = v.custom<Record<string, unknown>>(
  (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
  'the value must be a JSON object',
);
export type SourceValue = v.InferOutput<typeof SourceValueSchema>;

/** Keys and headers are decoded as UTF-8 text (no key schema); values as JSON objects. */
export const FORWARD_SCHEMA = {
  value: { type: 'json', parserSchema: SourceValueSchema },
} satisfies SchemaConfig;

/** A record as `kafkaConsumer` passes it: key, value and headers are getters that decode on access. */
export type SourceRecord = ConsumerRecord<string | null | undefined, SourceValue | null | undefined>;

/** Where a forwarded value came from, written beside it. */
export interface ForwardedValue {
  source: { topic: string; partition: number; offset: number; timestamp: number };
  value: SourceValue;
}

/** The `records` key the event source mapping groups a record under, and names it by in a failure. */
export function topicPartition(record: Pick<SourceRecord, 'topic' | 'partition'>): string {
  return `${record.topic}-${record.partition}`;
}

/**
 * A record's headers as one object: the mapping delivers them as a list of one-entry objects; a name
 * that repeats keeps its last value. Decoding them can throw (the record's getters).
 */
export function recordHeaders(record: SourceRecord): Record<string, string> {
  return Object.assign({}, ...(record.headers ?? []));
}

function describe(error: unknown): string {
  const { name, message, cause } = error as Error;
  const issues = Array.isArray(cause)
    ? `: ${cause.map((issue: { message?: string }) => issue.message).join('; ')}`
    : '';
  return `${name}: ${message}${issues}`;
}

/**
 * The message `record` becomes on `topic`, or why it cannot be forwarded. Decoding happens here,
 * on first access to the record's getters, so one undecodable record never fails the others.
 */
export function toOutgoing(record: SourceRecord, topic: string): Parsed {
  let value: SourceValue | null | undefined;
  let key: string | null | undefined;
  let headers: Record<string, string>;
  try {
    value = record.value;
    key = record.key;
    headers = recordHeaders(record);
  } catch (error) {
    return { ok: false, error: `cannot decode the record: ${describe(error)}` };
  }
  const { partition, offset, timestamp } = record;
  const wrapped: ForwardedValue | null =
    value === null || value === undefined
      ? null
      : { source: { topic: record.topic, partition, offset, timestamp }, value };
  const message: OutgoingMessage = {
    topic,
    key: key ?? null,
    value: wrapped === null ? null : JSON.stringify(wrapped),
    headers,
  };
  return { ok: true, message };
}
