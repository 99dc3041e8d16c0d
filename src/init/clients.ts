/**
 * Creating, connecting and disposing the binding's clients, each bounded in time.
 *
 * Producer and admin use the binding's KafkaJS-compatible API (promises, and an admin that
 * shares the producer's connections). Its `kafkaJS.logger` is the only way to receive the
 * client's log, and supplying it switches the binding to "KafkaJS compatibility" defaults, so
 * every setting that matters is given explicitly below.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { librdkafkaProperties, type RdKafkaProperties } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { type ClientLogLine, causeFromLogs, classifyKafkaError } from '../errors/classify.js';
import { AttemptTimeoutError, KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Log } from '../observability/log.js';

/** Settings the KafkaJS compatibility mode would otherwise change, restored to librdkafka's behaviour. */
export const COMMON_OVERRIDES: RdKafkaProperties = {
  // One request may not take longer than a Lambda can wait for it; librdkafka retries after.
  'socket.timeout.ms': 10_000,
  'socket.connection.setup.timeout.ms': 10_000,
  'retry.backoff.ms': 100,
  'retry.backoff.max.ms': 1000,
  // librdkafka's default grows to 10 s between reconnects: longer than a short invocation should
  // wait for a broker that is back.
  'reconnect.backoff.max.ms': 2000,
  log_level: 6,
};

/**
 * The producer for one-shot invocations: idempotent with acks=all (no duplicates from internal
 * retries, nothing acknowledged before all in-sync replicas have it); linger.ms=5 so a burst sent
 * in one invocation is batched without making a single message wait; the delivery timeout is the
 * time the creating invocation had left, so librdkafka gives up on a message about when the
 * handler must; the Java client's partitioner, so keys land where Java producers put them.
 */
export function producerProperties(config: KafkaConfig, deliveryTimeoutMs: number): RdKafkaProperties {
  return {
    ...librdkafkaProperties(config, 'producer'),
    ...COMMON_OVERRIDES,
    'enable.idempotence': true,
    acks: -1,
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': 5,
    'message.timeout.ms': Math.round(Math.min(900_000, Math.max(5000, deliveryTimeoutMs))),
    partitioner: 'murmur2_random',
  };
}

export function createProducer(config: KafkaConfig, recorder: ClientLogRecorder, deliveryTimeoutMs: number) {
  return new KafkaJS.Kafka({}).producer({
    ...producerProperties(config, deliveryTimeoutMs),
    kafkaJS: { logger: recorder },
  });
}

export function createAdmin(config: KafkaConfig, recorder: ClientLogRecorder) {
  return new KafkaJS.Kafka({}).admin({
    ...librdkafkaProperties(config, 'admin'),
    ...COMMON_OVERRIDES,
    kafkaJS: { logger: recorder },
  });
}

/** How far back a timeout looks for a cause in the clients' log. */
const EVIDENCE_LOOKBACK_MS = 60_000;

export interface WatchOptions {
  operation: string;
  timeoutMs: number;
  recorders: readonly ClientLogRecorder[];
  /** After this long, repeated connection failures end the wait as a transient error. */
  graceMs?: number;
}

function recentLines(recorders: readonly ClientLogRecorder[], since: number): ClientLogLine[] {
  return recorders.flatMap((r) => r.recent(since)).sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * Waits for `work`, but not longer than `timeoutMs`, and not at all once the clients' log shows a
 * cause no waiting can fix (bad credentials, untrusted certificate, unknown host, denied topic), or
 * shows only connection failures for longer than `graceMs`: librdkafka keeps retrying those
 * silently, and the caller's backoff is the better place to wait.
 */
export async function watchClients<T>(work: Promise<T>, options: WatchOptions): Promise<T> {
  const started = Date.now();
  const graceMs = options.graceMs ?? 2000;
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const watch = new Promise<never>((_, reject) => {
    const check = () => {
      const lines = recentLines(options.recorders, started);
      const elapsed = Date.now() - started;
      if (elapsed >= options.timeoutMs) {
        // A timeout is explained by what the clients said lately, not only during this wait.
        const timeout = new AttemptTimeoutError(options.operation, options.timeoutMs);
        const evidence = recentLines(options.recorders, started - EVIDENCE_LOOKBACK_MS);
        reject(
          new KafkaOperationError(options.operation, classifyKafkaError(timeout, { recentLogs: evidence }), {
            cause: timeout,
          }),
        );
        return;
      }
      const cause = causeFromLogs(lines);
      const unreachable = cause?.code === -195 || cause?.code === -187;
      if (cause && (cause.kind !== 'transient' || (unreachable && elapsed >= graceMs))) {
        reject(new KafkaOperationError(options.operation, cause));
        return;
      }
      timer = setTimeout(check, Math.min(250, Math.max(1, options.timeoutMs - elapsed)));
    };
    timer = setTimeout(check, Math.min(250, options.timeoutMs));
  });
  try {
    return await Promise.race([work, watch]);
  } catch (error) {
    if (error instanceof KafkaOperationError) throw error;
    throw new KafkaOperationError(
      options.operation,
      classifyKafkaError(error, { recentLogs: recentLines(options.recorders, started) }),
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a client without making anyone wait more than `timeoutMs` for it. */
export function disposeInBackground(
  what: string,
  close: () => Promise<unknown>,
  log: Log,
  timeoutMs = 3000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    close().then(
      () => log.debug(`Closed ${what}`),
      (error: unknown) => log.debug(`Closing ${what} failed`, { error: (error as Error).message }),
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.debug(`Closing ${what} did not finish within ${timeoutMs} ms; left to close in the background`);
        resolve();
      }, timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Gives up on a client whose connect() did not finish in time. The binding cannot cancel a
 * connect in progress (its disconnect() waits for it), so the client is left to finish: muted,
 * and disconnected if it ever connects, so that it holds no connection.
 */
export function abandonConnect(
  client: { disconnect(): Promise<void> },
  connecting: Promise<void>,
  recorder: ClientLogRecorder,
): void {
  recorder.mute();
  connecting.then(
    () => client.disconnect().catch(() => {}),
    () => {},
  );
}
