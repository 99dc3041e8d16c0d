/**
 * What the produce function answers over the HTTP API. The caller there is whoever the route's
 * authorizer lets in, not the operator: an answer says what the caller can act on (its own input,
 * retry later or not, whether resending can duplicate a message, the request id to quote) and
 * nothing about the cluster's inside — no broker address, file path, SASL mechanism, variable name
 * or librdkafka text. The full reason goes to the function's log, under the same request id.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MessageResult } from './produce.js';

/** The `reason` of an error answer: one word a caller can switch on. */
export const HTTP_REASONS = {
  /** 400: the body is not JSON, or a message is invalid; nothing was sent. */
  invalidRequest: 'INVALID_REQUEST',
  /** 413: the body is larger than KAFKA_HTTP_MAX_BODY_BYTES; nothing was read. */
  tooLarge: 'TOO_LARGE',
  /** 503: nothing was acknowledged because Kafka could not be used; retry later. */
  unavailable: 'UNAVAILABLE',
  /** 502: some messages were acknowledged, some not; `results` says which. */
  partialFailure: 'PARTIAL_FAILURE',
} as const;

/** One message's outcome as a caller sees it: where it landed, or whether resending it can help. */
export type PublicResult =
  | { index: number; ok: true; topic: string; partition: number; offset: string }
  | { index: number; ok: false; retriable: boolean };

/** Every error answer's body; the optional fields belong to the statuses named. */
export interface HttpErrorBody {
  /** What happened and what to do, for the caller. */
  error: string;
  reason: (typeof HTTP_REASONS)[keyof typeof HTTP_REASONS];
  /** 502, 503: whether sending the same request again cannot duplicate a message. */
  retrySafe?: boolean;
  /** 400: the invalid messages, by index in the request. */
  errors?: readonly { index: number; error: string }[];
  /** 413: the limit (KAFKA_HTTP_MAX_BODY_BYTES). */
  limitBytes?: number;
  /** 502: the messages acknowledged and not, and each one's outcome. */
  sent?: number;
  failed?: number;
  results?: PublicResult[];
  /** The Lambda request id: the function's log lines for this request carry it as function_request_id. */
  requestId?: string;
}

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The body's size in bytes as the caller sent it (a base64 body is measured decoded, without decoding it). */
export function bodyBytes(event: APIGatewayProxyEventV2): number {
  if (event.body === undefined) return 0;
  return Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

export function bodyText(event: APIGatewayProxyEventV2): string {
  if (event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

const withId = (requestId: string | undefined) => (requestId === undefined ? {} : { requestId });

/** 413: checked before the body is decoded or parsed, so an oversized request costs nothing more. */
export function tooLarge(bytes: number, limit: number, requestId: string | undefined) {
  return json(413, {
    error: `The request body is ${bytes} bytes, more than the ${limit} accepted: send fewer or smaller messages per request. Nothing was sent.`,
    reason: HTTP_REASONS.tooLarge,
    limitBytes: limit,
    ...withId(requestId),
  } satisfies HttpErrorBody);
}

/** 400: the problems are the caller's own data, so they are explained (never with a variable name). */
export function invalidRequest(
  error: string,
  requestId: string | undefined,
  errors?: readonly { index: number; error: string }[],
) {
  return json(400, {
    error,
    reason: HTTP_REASONS.invalidRequest,
    ...(errors && { errors }),
    ...withId(requestId),
  } satisfies HttpErrorBody);
}

/**
 * 503. `retrySafe` is true only when no message reached the producer (initialisation failed): a
 * message handed to it and not acknowledged stays queued and may still be delivered.
 */
export function unavailable(requestId: string | undefined, retrySafe: boolean) {
  return json(503, {
    error: retrySafe
      ? 'Kafka is unavailable: no message was sent. Retry later; sending this request again cannot duplicate its messages.'
      : 'Kafka is unavailable: no message was acknowledged. Retry later; the messages may still be delivered, so sending them again can duplicate them.',
    reason: HTTP_REASONS.unavailable,
    retrySafe,
    ...withId(requestId),
  } satisfies HttpErrorBody);
}

/** Each message's outcome without its error text, which can name a broker: the log has that. */
export function publicResults(results: readonly MessageResult[]): PublicResult[] {
  return results.map((r) =>
    r.ok
      ? { index: r.index, ok: true, topic: r.topic, partition: r.partition, offset: r.offset }
      : { index: r.index, ok: false, retriable: 'retriable' in r && r.retriable },
  );
}

/** 502: resending the whole request would duplicate the acknowledged messages, so it is never safe. */
export function partialFailure(
  result: { sent: number; failed: number; results: readonly MessageResult[] },
  requestId: string | undefined,
) {
  return json(502, {
    error:
      'Some messages were not sent: resend only those with ok false and retriable true. A message that was not acknowledged may still be delivered, so resending it can duplicate it.',
    reason: HTTP_REASONS.partialFailure,
    retrySafe: false,
    sent: result.sent,
    failed: result.failed,
    results: publicResults(result.results),
    ...withId(requestId),
  } satisfies HttpErrorBody);
}
