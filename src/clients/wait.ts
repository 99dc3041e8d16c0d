/**
 * Waiting for brokers without leaving a native call behind. librdkafka's metadata request waits
 * for a usable broker until its timeout, and the call holds a pool thread meanwhile; one long call
 * would also hide what the client's log already says (a refused connection, a failed handshake).
 * So the wait is a series of short calls on the same client — its connections carry on between
 * them — and after each the log decides: a cause no waiting can fix, or brokers that refuse
 * connections, end the wait at once; otherwise the next call waits twice as long.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { type Classification, type ClientLogLine, causeFromLogs, classifyKafkaError } from '../errors/classify.js';
import { AttemptTimeoutError, KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';
import type { NativeCalls } from './native.js';

/** The first slice: short enough that a bad password or certificate is reported within a second. */
export const FIRST_SLICE_MS = 600;
const MAX_SLICE_MS = 5000;
/** Below this, a slice is not worth starting. */
const MIN_SLICE_MS = 50;
/** How far back a wait looks for the address behind "all broker connections are down". */
const EARLIER_MS = 60_000;
/** What a slice fails with when it only ran out of time or found no broker. */
const GENERIC_WAIT_CODES = new Set([-185, -195, -187, -1]);

/** What the wait needs from its caller. */
export interface WaitContext {
  calls: NativeCalls;
  /** The recorders whose lines explain a failure (the client's own, at least). */
  recorders: readonly ClientLogRecorder[];
  /** When the wait must have ended. */
  deadline: Deadline;
  /**
   * Looks further into a cause the log named before the wait ends with it (e.g. a TLS handshake of
   * its own to tell an untrusted certificate from a misnamed one: src/ssl/tls-causes.ts). It must
   * answer within `deadline`, and resolve with the cause unchanged when it finds nothing better.
   */
  explain?: (cause: Classification, deadline: Deadline) => Promise<Classification>;
}

export type MetadataClient = {
  getMetadata(options: RdKafka.MetadataOptions, cb: (err: unknown, metadata: RdKafka.Metadata) => void): unknown;
};

export function linesSince(recorders: readonly ClientLogRecorder[], since: number): ClientLogLine[] {
  return recorders.flatMap((r) => r.recent(since)).sort((a, b) => a.timestamp - b.timestamp);
}

/** Nothing answered at all: the brokers are down or the address is wrong (not a port that answered in another protocol). */
export function isUnreachable(classification: Classification | undefined): boolean {
  return (classification?.code === -195 || classification?.code === -187) && classification.kind === 'transient';
}

/** `cause`, explained further by `ctx.explain` when there is one (never failing because of it). */
export async function explained(ctx: Pick<WaitContext, 'explain' | 'deadline'>, cause: Classification) {
  return ctx.explain ? ctx.explain(cause, ctx.deadline).catch(() => cause) : cause;
}

/**
 * After a failed slice: the cause that ends the wait now, if the log names one that waiting
 * cannot fix or that says nothing listens; undefined to go on waiting.
 */
export function decisiveCause(
  lines: readonly ClientLogLine[],
  earlier: readonly ClientLogLine[] = [],
): Classification | undefined {
  const cause = causeFromLogs(lines);
  if (!cause || (cause.kind === 'transient' && !isUnreachable(cause))) return undefined;
  // librdkafka collapses repeated connect failures, so a later wait may see only "all broker
  // connections are down": the refused address logged earlier is the better answer.
  if (cause.code === -187)
    return causeFromLogs(earlier.filter((l) => /Connect to \S+ failed/.test(l.message))) ?? cause;
  return cause;
}

/**
 * The error for a wait that ran out of time: the log's explanation or, when the log says nothing,
 * what the connections were doing (from the clients' statistics): a broker that accepted the
 * connection but never answered, or connection attempts that got no answer at all.
 */
export function timedOut(
  operation: string,
  waitedMs: number,
  lines: readonly ClientLogLine[],
  recorders: readonly ClientLogRecorder[] = [],
): KafkaOperationError {
  const timeout = new AttemptTimeoutError(operation, Math.round(waitedMs));
  const classification = classifyKafkaError(timeout, { recentLogs: lines });
  const silent = classification.evidence ? undefined : silence(recorders, Math.round(waitedMs));
  return new KafkaOperationError(operation, silent ? { ...classification, ...silent } : classification, {
    cause: timeout,
  });
}

/** States in which a connection is open at the TCP level and waits for the broker's answer. */
const AWAITING_ANSWER = new Set(['APIVERSION_QUERY', 'SSL_HANDSHAKE', 'AUTH_HANDSHAKE', 'AUTH_REQ', 'AUTH_LEGACY']);

function silence(
  recorders: readonly ClientLogRecorder[],
  waitedMs: number,
): Pick<Classification, 'summary' | 'hint'> | undefined {
  const brokers = recorders.flatMap((r) => r.statistics.brokers().brokers);
  const address = (name: string) => name.replace(/\/.*$/, '');
  const answering = brokers.filter((b) => AWAITING_ANSWER.has(b.state)).map((b) => address(b.name));
  if (answering.length > 0) {
    return {
      summary: `TIMED_OUT (-185): ${[...new Set(answering)].join(', ')} accepted the connection but sent no answer in ${waitedMs} ms (state ${brokers.find((b) => AWAITING_ANSWER.has(b.state))?.state})`,
      hint: 'The process at that address is paused, overloaded, or not a Kafka broker: check the broker (GC pauses, CPU, disk) and that the port is its Kafka listener.',
    };
  }
  const connecting = brokers.filter((b) => b.state === 'CONNECT').map((b) => address(b.name));
  if (connecting.length > 0) {
    return {
      summary: `TIMED_OUT (-185): connecting to ${[...new Set(connecting)].join(', ')} got no answer in ${waitedMs} ms`,
      hint: 'Packets to the broker are dropped: check the security groups, network ACLs and routes between the function and the brokers.',
    };
  }
  return undefined;
}

/** Runs `slice(timeoutMs)` until it succeeds, the log gives a decisive cause, or the deadline comes. */
export async function inSlices<T>(
  operation: string,
  ctx: WaitContext,
  slice: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  let sliceMs = FIRST_SLICE_MS;
  for (;;) {
    const timeoutMs = Math.min(sliceMs, ctx.deadline.remainingMs());
    if (timeoutMs < MIN_SLICE_MS) {
      throw timedOut(operation, Date.now() - started, linesSince(ctx.recorders, started), ctx.recorders);
    }
    try {
      return await slice(timeoutMs);
    } catch (error) {
      const lines = linesSince(ctx.recorders, started);
      const cause = decisiveCause(lines, linesSince(ctx.recorders, started - EARLIER_MS));
      // One broker refusing while another answers is a broker down in a cluster: the request can
      // still go to the others, so only an unreachable cluster ends the wait.
      const othersUp = cause !== undefined && isUnreachable(cause) && ctx.recorders.some((r) => r.statistics.someUp());
      if (cause && !othersUp) throw new KafkaOperationError(operation, await explained(ctx, cause), { cause: error });
      const classification = classifyKafkaError(error, { recentLogs: lines });
      // An error of its own (not the slice running out, not a connection problem) is the answer.
      if (!GENERIC_WAIT_CODES.has(classification.code ?? 0)) {
        throw new KafkaOperationError(operation, classification, { cause: error });
      }
      sliceMs = Math.min(sliceMs * 2, MAX_SLICE_MS);
    }
  }
}

/** Cluster metadata from `client`, waiting for a broker in slices (see the module comment). */
export function metadataWhenReachable(
  client: MetadataClient,
  options: { operation: string; topic?: string; allTopics?: boolean },
  ctx: WaitContext,
): Promise<RdKafka.Metadata> {
  return inSlices(options.operation, ctx, (timeoutMs) =>
    ctx.calls.run<RdKafka.Metadata>(`${options.operation}: metadata`, timeoutMs, (timeout, done) =>
      client.getMetadata(
        {
          ...(options.topic !== undefined && { topic: options.topic }),
          allTopics: options.allTopics ?? options.topic === undefined,
          timeout,
        },
        done,
      ),
    ),
  );
}
