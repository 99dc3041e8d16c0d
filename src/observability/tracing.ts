/**
 * One trace from the function that produces to the functions that consume, with OpenTelemetry:
 * a PRODUCER span per send, whose W3C trace context (and the invocation's X-Ray id) each message
 * carries in its headers; a CONSUMER span per consumed batch, linked to each message's producer
 * context (its child when the batch holds one message). Attributes follow OpenTelemetry's messaging
 * semantic conventions.
 *
 * `@opentelemetry/api` is an optional peer, loaded once an SDK has registered a tracer provider
 * (the ADOT Lambda layer, or the application's own). Nothing happens without one: this module does
 * not load the API (about 20 ms of CPU, 300 ms at 128 MB) nor ask it for no-op spans. Only the API surface used here is
 * typed below, so that the shipped declarations never name the optional package.
 */
import { createRequire } from 'node:module';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { Log } from './log.js';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
/** The header X-Ray's own SDKs use for its trace id over HTTP; `_X_AMZN_TRACE_ID`'s value. */
export const XRAY_HEADER = 'x-amzn-trace-id';

type Attributes = Record<string, string | number | boolean>;
interface TraceState {
  serialize(): string;
}
interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: TraceState;
  isRemote?: boolean;
}
interface Span {
  spanContext(): SpanContext;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface Tracer {
  startSpan(
    name: string,
    options: { kind: number; attributes?: Attributes; links?: { context: SpanContext }[] },
    context?: unknown,
  ): Span;
}
interface OtelApi {
  trace: {
    getTracerProvider(): { getDelegate?(): unknown };
    getTracer(name: string): Tracer;
    setSpan(context: unknown, span: Span): unknown;
    setSpanContext(context: unknown, spanContext: SpanContext): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  ProxyTracerProvider: new () => { getDelegate(): unknown };
  createTraceState?(value: string): TraceState;
}

const SPAN_KIND_PRODUCER = 3;
const SPAN_KIND_CONSUMER = 4;
const STATUS_ERROR = 2;
const TRACER_NAME = 'lambda-kafka';

/**
 * Where @opentelemetry/api 1.x keeps what is registered with it (its internal/global-utils.js), in
 * whichever copy of the API registered it; `trace` is set there when an SDK registers a tracer provider.
 */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let api: OtelApi | null | undefined;
/** The registry's no-op provider, which the global provider delegates to until an SDK registers. */
let noopProvider: unknown;

/** `@opentelemetry/api` when an SDK is registered; undefined otherwise (not installed, or no SDK). */
function activeApi(): OtelApi | undefined {
  if (api === undefined) {
    // Nothing registered with any copy of the API: no SDK, and no reason to load it (yet).
    const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL];
    if (registered?.trace === undefined) return undefined;
    try {
      // A require, so that NODE_PATH is searched too: Lambda layers (ADOT's) install there.
      api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
      noopProvider = new api.ProxyTracerProvider().getDelegate();
    } catch {
      api = null;
    }
  }
  if (!api) return undefined;
  const provider = api.trace.getTracerProvider();
  return (provider.getDelegate?.() ?? provider) === noopProvider ? undefined : api;
}

/** Whether sends and batches are traced now: KAFKA_TRACING and a registered SDK. */
export function tracingActive(config: KafkaConfig): boolean {
  return config.tracing.enabled && activeApi() !== undefined;
}

const HEX_TRACE_ID = /^[0-9a-f]{32}$/;
const HEX_SPAN_ID = /^[0-9a-f]{16}$/;

/** The W3C `traceparent` of a span context (version 00). */
function traceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The producer's span context from a message's headers, if they carry a valid W3C `traceparent`. */
export function remoteContext(headers: Record<string, string> | undefined, otel?: OtelApi): SpanContext | undefined {
  const value = headers?.[TRACEPARENT];
  if (value === undefined) return undefined;
  const [version, traceId, spanId, flags, ...rest] = value.trim().split('-');
  if (version === undefined || !/^[0-9a-f]{2}$/.test(version) || version === 'ff') return undefined;
  if (version === '00' && rest.length > 0) return undefined;
  if (!traceId || !HEX_TRACE_ID.test(traceId) || /^0+$/.test(traceId)) return undefined;
  if (!spanId || !HEX_SPAN_ID.test(spanId) || /^0+$/.test(spanId)) return undefined;
  if (!flags || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  const state = headers?.[TRACESTATE];
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
    ...(state && otel?.createTraceState && { traceState: otel.createTraceState(state) }),
  };
}

/** The attributes every span of this library has, by OpenTelemetry's messaging conventions. */
function baseAttributes(config: KafkaConfig, operation: 'send' | 'process'): Attributes {
  const [first] = config.bootstrapServers;
  const colon = first?.lastIndexOf(':') ?? -1;
  return {
    'messaging.system': 'kafka',
    'messaging.operation.name': operation,
    'messaging.operation.type': operation,
    'messaging.client.id': config.clientId,
    ...(first &&
      colon > 0 && { 'server.address': first.slice(0, colon), 'server.port': Number(first.slice(colon + 1)) }),
  };
}

/** The one topic of a batch, if it has only one: it names the span and the destination. */
function singleTopic(topics: Iterable<string>): string | undefined {
  let only: string | undefined;
  for (const topic of topics) {
    if (only !== undefined && topic !== only) return undefined;
    only = topic;
  }
  return only;
}

interface Message {
  topic: string;
  headers?: Record<string, string | Buffer>;
}
type SendResultLike = { ok: true; partition: number; offset: string } | { ok: false; error: string; errorName: string };

/** A send's span: the messages to send with its context in their headers, and its end. */
export interface SendTrace<M extends Message> {
  messages: M[];
  traceId: string;
  /** Ends the span with what the send got: partition and offset, or the first failure's cause. */
  end(results: readonly SendResultLike[]): void;
  /** Ends the span with an error that stopped the send before any result. */
  fail(error: unknown): void;
}

/**
 * Starts the PRODUCER span of a send of `messages`, as a child of the active context (the
 * invocation's span, when the Lambda is instrumented); undefined when not tracing.
 */
export function startSend<M extends Message>(config: KafkaConfig, messages: readonly M[]): SendTrace<M> | undefined {
  if (!config.tracing.enabled || messages.length === 0) return undefined;
  const otel = activeApi();
  if (!otel) return undefined;
  const topic = singleTopic(messages.map((m) => m.topic));
  const attributes = baseAttributes(config, 'send');
  if (topic !== undefined) attributes['messaging.destination.name'] = topic;
  if (messages.length > 1) attributes['messaging.batch.message_count'] = messages.length;
  const span = otel.trace.getTracer(TRACER_NAME).startSpan(topic ? `send ${topic}` : 'send', {
    kind: SPAN_KIND_PRODUCER,
    attributes,
  });
  const context = span.spanContext();
  let traced: M[] = [...messages];
  if (config.tracing.headers) {
    const headers: Record<string, string> = { [TRACEPARENT]: traceparent(context) };
    const state = context.traceState?.serialize();
    if (state) headers[TRACESTATE] = state;
    const xray = process.env._X_AMZN_TRACE_ID;
    if (xray) headers[XRAY_HEADER] = xray;
    // New objects: the caller's messages (and their header maps) are left as they were.
    traced = messages.map((m) => ({ ...m, headers: { ...m.headers, ...headers } }));
  }
  let ended = false;
  return {
    messages: traced,
    traceId: context.traceId,
    end(results) {
      if (ended) return;
      ended = true;
      const failed = results.find((r) => !r.ok);
      if (failed && !failed.ok) {
        span.setStatus({ code: STATUS_ERROR, message: failed.error });
        span.setAttribute('error.type', failed.errorName);
      } else {
        const partitions = new Set(results.map((r) => (r.ok ? r.partition : -1)));
        const [only] = partitions;
        if (partitions.size === 1 && only !== undefined && only >= 0)
          span.setAttribute('messaging.destination.partition.id', String(only));
        const [result] = results;
        if (results.length === 1 && result?.ok) span.setAttribute('messaging.kafka.offset', Number(result.offset));
      }
      span.end();
    },
    fail(error) {
      if (ended) return;
      ended = true;
      const classification = classifyKafkaError(error);
      span.setStatus({ code: STATUS_ERROR, message: causeLine(classification) });
      span.setAttribute('error.type', classification.name);
      span.end();
    },
  };
}

interface Consumed {
  topic: string;
  partition: number;
  offset: number;
  headers: Record<string, string>;
}

/** A consumed batch's span: runs work in its context, and ends. */
export interface BatchTrace {
  /** Runs `fn` with the batch span as the active span (the processor's own spans become its children). */
  run<T>(fn: () => T): T;
  /** The producer's trace id of each message (by index), for its log lines; undefined where it carried none. */
  producerTraceIds: (string | undefined)[];
  end(error?: string): void;
}

/**
 * Starts the CONSUMER span of a batch of consumed `messages` ('process'), linked to each message's
 * producer context; a batch of one message is the producer span's child. Undefined when not tracing.
 */
export function startBatch(
  config: KafkaConfig,
  messages: readonly Consumed[],
  options: { group?: string } = {},
): BatchTrace | undefined {
  if (!config.tracing.enabled || messages.length === 0) return undefined;
  const otel = activeApi();
  if (!otel) return undefined;
  const contexts = messages.map((m) => remoteContext(m.headers, otel));
  const topic = singleTopic(messages.map((m) => m.topic));
  const attributes = baseAttributes(config, 'process');
  if (topic !== undefined) attributes['messaging.destination.name'] = topic;
  if (options.group) attributes['messaging.consumer.group.name'] = options.group;
  const [first] = messages;
  if (messages.length === 1 && first) {
    attributes['messaging.destination.partition.id'] = String(first.partition);
    attributes['messaging.kafka.offset'] = first.offset;
  } else {
    attributes['messaging.batch.message_count'] = messages.length;
  }
  const links = contexts.flatMap((context) => (context ? [{ context }] : []));
  const [only] = contexts;
  const parent =
    messages.length === 1 && only ? otel.trace.setSpanContext(otel.context.active(), only) : otel.context.active();
  const span = otel.trace
    .getTracer(TRACER_NAME)
    .startSpan(topic ? `process ${topic}` : 'process', { kind: SPAN_KIND_CONSUMER, attributes, links }, parent);
  const active = otel.trace.setSpan(otel.context.active(), span);
  let ended = false;
  return {
    run: (fn) => otel.context.with(active, fn),
    producerTraceIds: contexts.map((c) => c?.traceId),
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        span.setStatus({ code: STATUS_ERROR, message: error });
        span.setAttribute('error.type', 'processing');
      }
      span.end();
    },
  };
}

/** `log` with `trace_id` added to every line (so CloudWatch Logs Insights can join the producer's lines). */
export function withTraceId(log: Log, traceId: string | undefined): Log {
  if (traceId === undefined) return log;
  const add = (extra?: Record<string, unknown>) => ({ ...extra, trace_id: traceId });
  return {
    debug: (message, extra) => log.debug(message, add(extra)),
    info: (message, extra) => log.info(message, add(extra)),
    warn: (message, extra) => log.warn(message, add(extra)),
    error: (message, extra) => log.error(message, add(extra)),
  };
}
