/**
 * The forward function's logic: the batch an MSK or self-managed Kafka event source mapping
 * delivers, each record transformed (records.ts) and produced to KAFKA_FORWARD_TOPIC through the
 * produce function's path (`deliver`: the same cached producer, deadline and credential retry).
 *
 * The answer is the mapping's partial batch response (ReportBatchItemFailures): every record that
 * was not produced, as `{ itemIdentifier: { partition: "<topic>-<partition>", offset } }`. Lambda
 * resumes a partition from the lowest offset reported for it, so once a record of a partition
 * fails the later ones of that partition are held back, not produced: they come again with it,
 * and would otherwise be produced twice. Other partitions go on.
 */
import type { ConsumerRecords } from '@aws-lambda-powertools/kafka/types';
import { classifyKafkaError } from '../errors/classify.js';
import { ConfigError } from '../errors/errors.js';
import type { KafkaInitializer } from '../init/initializer.js';
import type { Invocation } from '../init/invocation.js';
import { startBatch, tracingActive } from '../observability/tracing.js';
import type { Parsed } from '../produce/messages.js';
import { deliver } from '../produce/produce.js';
import { recordHeaders, type SourceRecord, type SourceValue, toOutgoing, topicPartition } from './records.js';

/** The event once `kafkaConsumer` has decoded it: `records` is a flat list, partition by partition. */
export type ForwardEvent = ConsumerRecords<string | null | undefined, SourceValue | null | undefined>;

/** One record the mapping should deliver again: its `records` key and its offset. */
export interface KafkaBatchItemFailure {
  itemIdentifier: { partition: string; offset: number };
}

/** The partial batch response of a Kafka event source mapping; empty when every record was produced. */
export interface KafkaBatchResponse {
  batchItemFailures: KafkaBatchItemFailure[];
}

const HELD_BACK = 'held back: an earlier record of its partition was not produced';

/** Logged per invocation at most: a poison batch should not flood the log. */
const LOGGED_FAILURES = 10;

/**
 * Each record's outgoing message, or why it is not sent: it cannot be transformed, or an earlier
 * record of its partition could not (so it must wait for that one's redelivery).
 */
export function prepare(records: readonly SourceRecord[], topic: string): Parsed[] {
  const failed = new Set<string>();
  return records.map((record) => {
    const partition = topicPartition(record);
    if (failed.has(partition)) return { ok: false, error: HELD_BACK };
    const parsed = toOutgoing(record, topic);
    if (!parsed.ok) failed.add(partition);
    return parsed;
  });
}

/** The records whose outcome is not a success, in the shape the mapping reads. */
export function batchItemFailures(
  records: readonly SourceRecord[],
  succeeded: (index: number) => boolean,
): KafkaBatchItemFailure[] {
  const failures: KafkaBatchItemFailure[] = [];
  for (const [index, record] of records.entries()) {
    if (!succeeded(index))
      failures.push({ itemIdentifier: { partition: topicPartition(record), offset: record.offset } });
  }
  return failures;
}

function targetTopic(kafka: KafkaInitializer, records: readonly SourceRecord[]): string {
  const { topic } = kafka.config().forward;
  if (topic === undefined) {
    throw new ConfigError([
      {
        variables: ['KAFKA_FORWARD_TOPIC'],
        message: 'KAFKA_FORWARD_TOPIC: required by the forward function, the topic it produces to',
      },
    ]);
  }
  // A mapping that reads the topic it writes would forward each record forever.
  if (records.some((record) => record.topic === topic)) {
    throw new ConfigError([
      {
        variables: ['KAFKA_FORWARD_TOPIC'],
        message: `KAFKA_FORWARD_TOPIC (${topic}) is a topic the event source mapping reads: forwarding would loop; choose another topic`,
      },
    ]);
  }
  return topic;
}

/** What the batch's span needs of a record; headers it cannot decode count as none. */
function traced(record: SourceRecord): {
  topic: string;
  partition: number;
  offset: number;
  headers: Record<string, string>;
} {
  let headers: Record<string, string> = {};
  try {
    headers = recordHeaders(record);
  } catch {
    // Reported when the record itself is prepared (toOutgoing).
  }
  return { topic: record.topic, partition: record.partition, offset: record.offset, headers };
}

export async function forward(
  kafka: KafkaInitializer,
  event: ForwardEvent,
  invocation: Invocation,
): Promise<KafkaBatchResponse> {
  const records = event.records;
  const topic = targetTopic(kafka, records);
  const parsed = prepare(records, topic);
  // While tracing, one span for the batch, linked to each record's producer; the send is its child.
  const trace = tracingActive(kafka.config()) ? startBatch(kafka.config(), records.map(traced)) : undefined;
  let sent: boolean[];
  try {
    const result = trace
      ? await trace.run(() => deliver(kafka, invocation, parsed))
      : await deliver(kafka, invocation, parsed);
    sent = result.results.map((r) => r.ok);
    const failed = result.results.filter((r) => !r.ok);
    for (const r of failed.slice(0, LOGGED_FAILURES)) {
      const record = records[r.index] as SourceRecord;
      kafka.logger.warn('Record not forwarded', {
        partition: topicPartition(record),
        offset: record.offset,
        error: r.error,
        ...(trace?.producerTraceIds[r.index] && { trace_id: trace.producerTraceIds[r.index] }),
      });
    }
    kafka.logger.info(`Forwarded ${result.sent} of ${records.length} records to ${topic}`, { failed: result.failed });
  } catch (error) {
    kafka.logger.error('Kafka is unavailable: every record of the batch goes back to the event source mapping', {
      summary: classifyKafkaError(error).summary,
    });
    sent = records.map(() => false);
  }
  const failed = sent.filter((ok) => !ok).length;
  trace?.end(failed > 0 ? `${failed} of ${records.length} records not forwarded` : undefined);
  return { batchItemFailures: batchItemFailures(records, (index) => sent[index] === true) };
}
