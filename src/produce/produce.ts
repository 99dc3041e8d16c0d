/**
 * The produce function's logic: recognise the event shape, validate its messages, send the valid
 * ones, and answer in the shape the caller expects. It returns only when every message is
 * acknowledged or has failed, before the deadline.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SendResult } from '../clients/producer.js';
import { rejectsCredentials } from '../config/references.js';
import { classifyKafkaError } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { KafkaInitializer } from '../init/initializer.js';
import type { Invocation } from '../init/invocation.js';
import { METRIC_NAMES } from '../observability/metrics.js';
import {
  type MessageRules,
  type OutgoingMessage,
  type Parsed,
  parseMessage,
  parseMessageList,
  parseMessageText,
} from './messages.js';

export interface DirectEvent {
  messages: unknown[];
}
export type ProduceEvent = DirectEvent | SQSEvent | APIGatewayProxyEventV2;

export type MessageResult =
  | ({ index: number } & SendResult)
  | { index: number; ok: false; error: string; invalid: true };

export interface DirectResult {
  sent: number;
  failed: number;
  results: MessageResult[];
}

function isSqs(event: ProduceEvent): event is SQSEvent {
  return Array.isArray((event as SQSEvent).Records) && (event as SQSEvent).Records[0]?.eventSource === 'aws:sqs';
}

function isHttp(event: ProduceEvent): event is APIGatewayProxyEventV2 {
  return typeof (event as APIGatewayProxyEventV2).requestContext?.http === 'object';
}

function rules(kafka: KafkaInitializer): MessageRules {
  const { names } = kafka.config().topics;
  return { defaultTopic: names[0], allowedTopics: names };
}

/** Sends the valid messages of `parsed`; invalid ones are reported as such, in place. */
async function deliver(kafka: KafkaInitializer, invocation: Invocation, parsed: Parsed[]): Promise<DirectResult> {
  // One pass each way, no intermediate objects per message: this runs for every message sent.
  const messages: OutgoingMessage[] = [];
  for (const p of parsed) if (p.ok) messages.push(p.message);
  let sent: SendResult[] = [];
  if (messages.length > 0) {
    const producer = await kafka.producer(invocation);
    const outcome = await producer.send(messages, invocation.deadline, {
      ...kafka.config().produce,
      minInsyncReplicas: kafka.config().topics.minInsyncReplicas,
    });
    sent = outcome.results;
    if (outcome.producerBroken) kafka.invalidate('producer', 'a fatal producer error');
    sent = await retryWithRotatedCredentials(kafka, invocation, messages, sent);
  }
  const results: MessageResult[] = new Array(parsed.length);
  let ok = 0;
  let next = 0;
  for (let index = 0; index < parsed.length; index++) {
    const p = parsed[index] as Parsed;
    if (!p.ok) {
      results[index] = { index, ok: false, error: p.error, invalid: true };
      continue;
    }
    const r = sent[next++] as SendResult;
    if (r.ok) ok++;
    results[index] = r.ok
      ? { index, ok: true, topic: r.topic, partition: r.partition, offset: r.offset }
      : { index, ...r };
  }
  kafka.metrics.count(METRIC_NAMES.messagesProduced, ok);
  return { sent: ok, failed: results.length - ok, results };
}

/**
 * Messages that failed because the brokers refused the credentials were never taken by a broker:
 * when the referenced secret turns out to have been rotated (KafkaInitializer.refreshCredentials),
 * they are sent once more with clients built on the new value, within the same deadline.
 */
async function retryWithRotatedCredentials(
  kafka: KafkaInitializer,
  invocation: Invocation,
  messages: readonly OutgoingMessage[],
  sent: SendResult[],
): Promise<SendResult[]> {
  const refused = sent.find((r) => !r.ok && rejectsCredentials(r.errorName));
  if (!refused || refused.ok || !(await kafka.refreshCredentials(refused.errorName, invocation))) return sent;
  const again = sent.flatMap((r, i) => (r.ok ? [] : [i]));
  const producer = await kafka.producer(invocation);
  const retried = await producer.send(
    again.map((i) => messages[i] as OutgoingMessage),
    invocation.deadline,
    { ...kafka.config().produce, minInsyncReplicas: kafka.config().topics.minInsyncReplicas },
  );
  const results = [...sent];
  for (const [k, i] of again.entries()) results[i] = retried.results[k] as SendResult;
  return results;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function fromHttp(kafka: KafkaInitializer, event: APIGatewayProxyEventV2, invocation: Invocation) {
  const text =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return json(400, { error: `The request body is not JSON: ${(error as Error).message}` });
  }
  const parsed = Array.isArray((body as DirectEvent | null)?.messages)
    ? parseMessageList(body, rules(kafka))
    : [parseMessage(body, rules(kafka))];
  if (typeof parsed === 'string') return json(400, { error: parsed });
  if (parsed.some((p) => !p.ok)) {
    const errors = parsed.flatMap((p, index) => (p.ok ? [] : [{ index, error: p.error }]));
    return json(400, { error: 'Invalid messages: nothing was sent', errors });
  }
  try {
    const result = await deliver(kafka, invocation, parsed);
    if (result.failed === 0) return json(200, result);
    // Nothing got through because no broker could be reached: that is Kafka being unavailable.
    const unavailable = result.sent === 0 && result.results.every((r) => !r.ok && 'unavailable' in r && r.unavailable);
    if (unavailable) {
      const first = result.results.find((r) => !r.ok) as { error: string };
      return json(503, { error: `Kafka is unavailable: ${first.error}`, reason: 'UNAVAILABLE', ...result });
    }
    return json(502, result);
  } catch (error) {
    const classification = classifyKafkaError(error);
    return json(503, {
      error: `Kafka is unavailable: ${causeLine(classification)}`,
      reason: classification.name,
      hint: classification.hint,
    });
  }
}

async function fromSqs(kafka: KafkaInitializer, event: SQSEvent, invocation: Invocation): Promise<SQSBatchResponse> {
  const parsed = event.Records.map((record) => parseMessageText(record.body, rules(kafka)));
  const everyRecord = () => event.Records.map((record) => ({ itemIdentifier: record.messageId }));
  let result: DirectResult;
  try {
    result = await deliver(kafka, invocation, parsed);
  } catch (error) {
    kafka.logger.error('Kafka is unavailable: every record of the batch goes back to the queue', {
      summary: classifyKafkaError(error).summary,
    });
    return { batchItemFailures: everyRecord() };
  }
  for (const r of result.results) {
    if (!r.ok) kafka.logger.warn('Record not sent', { messageId: event.Records[r.index]?.messageId, error: r.error });
  }
  return {
    batchItemFailures: result.results
      .filter((r) => !r.ok)
      .map((r) => ({ itemIdentifier: event.Records[r.index]?.messageId as string })),
  };
}

/** Dispatches on the event shape; a direct invocation with invalid input fails with the reasons. */
export async function produce(
  kafka: KafkaInitializer,
  event: ProduceEvent,
  invocation: Invocation,
): Promise<DirectResult | SQSBatchResponse | APIGatewayProxyStructuredResultV2> {
  if (isSqs(event)) return fromSqs(kafka, event, invocation);
  if (isHttp(event)) return fromHttp(kafka, event, invocation);
  const parsed = parseMessageList(event, rules(kafka));
  if (typeof parsed === 'string') throw new TypeError(`Invalid produce request: ${parsed}`);
  return deliver(kafka, invocation, parsed);
}
