/**
 * The produce function's logic: recognise the event shape, validate its messages, send the valid
 * ones, and answer in the shape the caller expects. It returns only when every message is
 * acknowledged or has failed, before the deadline.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ManagedProducer, SendOptions, SendResult } from '../clients/producer.js';
import { rejectsCredentials } from '../config/references.js';
import { classifyKafkaError } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { KafkaInitializer } from '../init/initializer.js';
import type { Invocation } from '../init/invocation.js';
import { METRIC_NAMES } from '../observability/metrics.js';
import { bodyBytes, bodyText, invalidRequest, json, partialFailure, tooLarge, unavailable } from './http.js';
import {
  type MessageRules,
  type OutgoingMessage,
  type Parsed,
  parseMessage,
  parseMessageList,
  parseMessageText,
} from './messages.js';

/** A direct invocation's event: the messages to send. */
export interface DirectEvent {
  /**
   * Each `{ topic?, key?, value, headers? }`, validated: `topic` defaults to the first of KAFKA_TOPICS
   * (and must be one of them when it is set), `value` is a string or any JSON value (sent as its JSON
   * text) or null for a tombstone, header values are strings.
   */
  messages: unknown[];
}

/** What produce() accepts: a direct invocation, an SQS batch (a message per record), or an HTTP API (v2) request. */
export type ProduceEvent = DirectEvent | SQSEvent | APIGatewayProxyEventV2;

/** One message's outcome, at its index in the request: a SendResult, or why it was invalid and not sent. */
export type MessageResult =
  | ({
      /** The message's index in the request. */
      index: number;
    } & SendResult)
  | {
      /** The message's index in the request. */
      index: number;
      /** Not sent. */
      ok: false;
      /** What is invalid about it. */
      error: string;
      /** It failed validation: sending it again unchanged cannot succeed. */
      invalid: true;
    };

/** What produce() returns for a direct invocation. */
export interface DirectResult {
  /** Messages acknowledged. */
  sent: number;
  /** Messages invalid or not acknowledged. */
  failed: number;
  /** One result per message, in the request's order. */
  results: MessageResult[];
}

function isSqs(event: ProduceEvent): event is SQSEvent {
  return Array.isArray((event as SQSEvent).Records) && (event as SQSEvent).Records[0]?.eventSource === 'aws:sqs';
}

function isHttp(event: ProduceEvent): event is APIGatewayProxyEventV2 {
  return typeof (event as APIGatewayProxyEventV2).requestContext?.http === 'object';
}

function rules(kafka: KafkaInitializer, forCaller = false): MessageRules {
  const { names } = kafka.config().topics;
  return { defaultTopic: names[0], allowedTopics: names, forCaller };
}

/** How a send waits: the configuration's brokers-down timeout, and min.insync.replicas to explain a stall. */
function sendOptions(kafka: KafkaInitializer): SendOptions {
  const { produce, topics } = kafka.config();
  return { brokersDownTimeoutMs: produce.brokersDownTimeoutMs, minInsyncReplicas: topics.minInsyncReplicas };
}

/** What `deliver` got to: once messages are handed to the producer, a failure may still let them out. */
export interface Progress {
  handedOver: boolean;
}

/**
 * Sends the valid messages of `parsed`; invalid ones are reported as such, in place. The forward
 * function (src/forward/) sends through here too, so both share the producer and its retries.
 */
export async function deliver(
  kafka: KafkaInitializer,
  invocation: Invocation,
  parsed: Parsed[],
  progress: Progress = { handedOver: false },
): Promise<DirectResult> {
  // One pass each way, no intermediate objects per message: this runs for every message sent.
  const messages: OutgoingMessage[] = [];
  for (const p of parsed) if (p.ok) messages.push(p.message);
  let sent: SendResult[] = [];
  if (messages.length > 0) sent = await send(kafka, invocation, messages, progress);
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

/** Sends `messages`; a fatal error or rotated credentials get one more try within the deadline. */
function send(
  kafka: KafkaInitializer,
  invocation: Invocation,
  messages: OutgoingMessage[],
  progress: Progress,
): Promise<SendResult[]> {
  // A warm invocation hands its messages over at once, not a promise turn later.
  const ready = kafka.readyProducer(invocation);
  if (ready !== undefined) return sendWith(kafka, invocation, ready, messages, progress);
  return kafka.producer(invocation).then((producer) => sendWith(kafka, invocation, producer, messages, progress));
}

async function sendWith(
  kafka: KafkaInitializer,
  invocation: Invocation,
  producer: ManagedProducer,
  messages: OutgoingMessage[],
  progress: Progress,
): Promise<SendResult[]> {
  progress.handedOver = true;
  const outcome = await producer.send(messages, invocation.deadline, sendOptions(kafka));
  let sent = outcome.results;
  if (outcome.producerBroken) {
    kafka.invalidate('producer', 'a fatal producer error');
    sent = await resendAfterFatal(kafka, invocation, messages, sent);
  }
  if (sent.some((r) => !r.ok)) sent = await retryWithRotatedCredentials(kafka, invocation, messages, sent);
  return sent;
}

/**
 * A fatal error leaves the idempotent producer unusable and fails what it had not delivered: e.g.
 * OUT_OF_ORDER_SEQUENCE_NUMBER when a partition's leader lost messages it had acknowledged (an
 * unclean leader election), so that the producer's next sequence number no longer follows. Those
 * messages are sent once more, within the invocation's deadline, by a new producer (a new producer
 * id, whose sequence starts afresh); once only. At least once: the request in flight when the error
 * came may have been written.
 */
async function resendAfterFatal(
  kafka: KafkaInitializer,
  invocation: Invocation,
  messages: readonly OutgoingMessage[],
  sent: SendResult[],
): Promise<SendResult[]> {
  const again = sent.flatMap((r, i) => (!r.ok && r.fatal ? [i] : []));
  const first = sent[again[0] as number];
  if (first === undefined || first.ok || invocation.deadline.remainingMs() <= 0) return sent;
  kafka.logger.warn(
    `The producer hit a fatal error (${first.errorName}): ${again.length} message(s) it did not deliver are sent again by a new producer`,
    { error: first.error },
  );
  return sendAgain(kafka, invocation, messages, sent, again);
}

/** Sends `messages[again]` once more, with the producer the initializer has now; the results merged into `sent`. */
async function sendAgain(
  kafka: KafkaInitializer,
  invocation: Invocation,
  messages: readonly OutgoingMessage[],
  sent: SendResult[],
  again: number[],
): Promise<SendResult[]> {
  const producer = await kafka.producer(invocation);
  const retried = await producer.send(
    again.map((i) => messages[i] as OutgoingMessage),
    invocation.deadline,
    sendOptions(kafka),
  );
  if (retried.producerBroken) kafka.invalidate('producer', 'a fatal producer error');
  const results = [...sent];
  for (const [k, i] of again.entries()) results[i] = retried.results[k] as SendResult;
  return results;
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
  return sendAgain(
    kafka,
    invocation,
    messages,
    sent,
    sent.flatMap((r, i) => (r.ok ? [] : [i])),
  );
}

/**
 * An HTTP API request. The caller gets what it can act on (src/produce/http.ts); the operator gets
 * the cause in the log, under the same request id.
 */
async function fromHttp(kafka: KafkaInitializer, event: APIGatewayProxyEventV2, invocation: Invocation) {
  const requestId = invocation.context.awsRequestId;
  const limit = kafka.config().produce.httpMaxBodyBytes;
  const bytes = bodyBytes(event);
  if (bytes > limit) return tooLarge(bytes, limit, requestId);
  let body: unknown;
  try {
    body = JSON.parse(bodyText(event));
  } catch (error) {
    return invalidRequest(`The request body is not JSON: ${(error as Error).message}`, requestId);
  }
  const parsed = Array.isArray((body as DirectEvent | null)?.messages)
    ? parseMessageList(body, rules(kafka, true))
    : [parseMessage(body, rules(kafka, true))];
  if (typeof parsed === 'string') return invalidRequest(parsed, requestId);
  if (parsed.some((p) => !p.ok)) {
    const errors = parsed.flatMap((p, index) => (p.ok ? [] : [{ index, error: p.error }]));
    return invalidRequest('Invalid messages: nothing was sent', requestId, errors);
  }
  const progress: Progress = { handedOver: false };
  try {
    const result = await deliver(kafka, invocation, parsed, progress);
    if (result.failed === 0) return json(200, result);
    const failures = result.results.filter((r) => !r.ok) as Extract<MessageResult, { ok: false }>[];
    const first = failures[0] as { error: string; errorName?: string };
    // Nothing got through because no broker could be reached: that is Kafka being unavailable.
    if (result.sent === 0 && failures.every((r) => 'unavailable' in r && r.unavailable)) {
      kafka.logger.error(`HTTP 503, no message acknowledged: ${first.error}`, {
        statusCode: 503,
        error: first.errorName,
        failed: result.failed,
      });
      return unavailable(requestId, false);
    }
    kafka.logger.warn(`HTTP 502, ${result.failed} of ${parsed.length} messages not sent: ${first.error}`, {
      statusCode: 502,
      // The first few are enough to see the causes; a request may carry thousands of messages.
      failures: failures.slice(0, 10).map((r) => ({ index: r.index, error: r.error })),
    });
    return partialFailure(result, requestId);
  } catch (error) {
    const classification = classifyKafkaError(error);
    const { name, kind, retriable } = classification;
    const sent = progress.handedOver ? 'messages handed to the producer' : 'nothing sent';
    kafka.logger.error(`HTTP 503, ${sent}: ${causeLine(classification)}`, {
      statusCode: 503,
      error: name,
      kind,
      retriable,
    });
    return unavailable(requestId, !progress.handedOver);
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

/**
 * The produce function: dispatches on the event shape, sends the valid messages through the
 * initializer's producer, and returns once each is acknowledged or has failed, before the deadline.
 * A direct invocation gets a DirectResult; a malformed one (no `messages` list, an empty one, more
 * than 10 000) throws a TypeError, and a failed initialisation rejects. An SQS batch gets the records
 * to retry (`batchItemFailures`); an HTTP request gets its HTTP answer (200, 400, 413, 502 or 503).
 */
export function produce(
  kafka: KafkaInitializer,
  event: ProduceEvent,
  invocation: Invocation,
): Promise<DirectResult | SQSBatchResponse | APIGatewayProxyStructuredResultV2> {
  // Not an async function: the caller awaits deliver()'s own promise, not one more wrapped around it.
  try {
    if (isSqs(event)) return fromSqs(kafka, event, invocation);
    if (isHttp(event)) return fromHttp(kafka, event, invocation);
    const parsed = parseMessageList(event, rules(kafka));
    if (typeof parsed === 'string') throw new TypeError(`Invalid produce request: ${parsed}`);
    return deliver(kafka, invocation, parsed);
  } catch (error) {
    return Promise.reject(error);
  }
}
