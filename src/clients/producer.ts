/**
 * The producer, on the binding's RdKafka API. An invocation hands all its messages to librdkafka
 * at once (produce() only queues, on the calling thread) and waits for their delivery reports,
 * which the binding's background poller brings back: one round trip for what fits in a request,
 * and each message still gets its own partition and offset, or its own error.
 *
 * Connecting: the binding's connect() creates the client and then asks for metadata with one long
 * timeout, destroying the client if that fails. Here the client is created on its own, and the
 * metadata asked for in slices on it (wait.ts): its connections carry on between slices and across
 * attempts, and the log can end the wait as soon as it names a cause.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { trackTokenClient } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { namedCause } from '../errors/causes.js';
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { startSend } from '../observability/tracing.js';
import type { Deadline } from '../retry/deadline.js';
import { rdkafka } from './binding.js';
import { DeliveryWatch, type GiveUp, WatchTicker } from './delivery-watch.js';
import type { NativeCalls } from './native.js';
import { producerProperties } from './properties.js';
import { metadataWhenReachable, type WaitContext } from './wait.js';

/**
 * What the binding's Client.connect() does before asking for metadata (lib/client.js): configure
 * the callbacks and create librdkafka's client (a pool-thread call that returns at once). Reached
 * into because the public connect() cannot be told not to block on metadata; the binding is pinned
 * to the version these members were read from, and a change fails here, at the first connect.
 */
interface ClientInternals {
  _client: { connect(cb: (err: unknown) => void): void; configureCallbacks(on: boolean, configs: unknown): void };
  _cb_configs: unknown;
  _isConnected: boolean;
}

function internals(client: RdKafka.Producer): ClientInternals {
  const inner = client as unknown as Partial<ClientInternals>;
  if (
    typeof inner._client?.connect !== 'function' ||
    typeof inner._client.configureCallbacks !== 'function' ||
    inner._cb_configs === undefined
  ) {
    throw new Error(
      `@confluentinc/kafka-javascript's Client internals (lib/client.js: _client, _cb_configs) are not what lambda-kafka was built against; install the version in its package.json (1.10.1).`,
    );
  }
  return inner as ClientInternals;
}

/** One message to send. */
export interface ProducerRecord {
  /** The topic it goes to. */
  topic: string;
  /** The message key, which the partitioner chooses the partition by; null or unset: no key. */
  key?: string | Buffer | null;
  /** null sends a tombstone. */
  value: string | Buffer | null;
  /** Message headers, by name. */
  headers?: Record<string, string | Buffer>;
  /** Leave unset to let the partitioner (murmur2, as the Java client) choose by key. */
  partition?: number;
}

/** One message's outcome: where it was written, or why it was not. */
export type SendResult =
  | {
      /** Acknowledged by the brokers. */
      ok: true;
      /** The topic it was written to. */
      topic: string;
      /** The partition it was written to. */
      partition: number;
      /** Its offset in the partition, as a decimal string. */
      offset: string;
    }
  | {
      /** Not acknowledged, or never sent. */
      ok: false;
      /** The topic it was for. */
      topic: string;
      /**
       * The cause and what to do about it, on one line (for a message not acknowledged: whether it
       * may still be delivered).
       */
      error: string;
      /** The classified cause's name (Classification.name), e.g. `MSG_TIMED_OUT`. */
      errorName: string;
      /** Whether sending it again may succeed (a message not acknowledged in time may then be written twice). */
      retriable: boolean;
      /** The message was never acknowledged because no broker could be reached: Kafka is unavailable. */
      unavailable?: boolean;
      /** It failed with an error that left the producer unusable (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER). */
      fatal?: boolean;
    };

/** How a send waits for its delivery reports. */
export interface SendOptions {
  /**
   * How long to keep waiting once every broker connection is down (refused, unreachable); the
   * messages still pending then fail with that cause. Undefined: wait while there is time, which
   * rides through a broker restart.
   */
  brokersDownTimeoutMs?: number;
  /** The brokers' min.insync.replicas: a partition below it explains messages that are not acknowledged. */
  minInsyncReplicas?: number;
}

/** What ManagedProducer.send() returns. */
export interface SendOutcome {
  /** One result per record, in the order of the records. */
  results: SendResult[];
  /** Set when a result showed the producer is broken (e.g. a fatal idempotence error). */
  producerBroken: boolean;
}

/** One send's messages: ids first .. first+size-1, in the order of its records. */
interface Batch {
  first: number;
  size: number;
  report(index: number, error: unknown, report: RdKafka.DeliveryReport): void;
}
type Failed = Extract<SendResult, { ok: false }>;

/** librdkafka's ERR__QUEUE_FULL, which produce() throws when its queue holds queue.buffering.max.kbytes. */
const QUEUE_FULL = -184;
const QUEUE_STAYED_FULL =
  "the producer's queue stayed full until the send gave up (its size is KAFKA_CLIENT_MEMORY_MB); the message was never handed to Kafka, so retrying cannot duplicate it";
const NOT_ACKNOWLEDGED = 'not acknowledged before the deadline: it may still be delivered (retrying can duplicate it)';
const NOT_ACKNOWLEDGED_YET =
  'not acknowledged: it stays queued in the producer and may still be delivered (retrying can duplicate it)';

function failure(topic: string, classification: Classification, prefix = ''): SendResult {
  return {
    ok: false,
    topic,
    error: `${prefix}${causeLine(classification)}`,
    errorName: classification.name,
    retriable: classification.retriable,
    ...(classification.kind === 'fatal' && { fatal: true }),
  };
}

/** The binding's header list: one single-key object per header; none for an empty record. */
function headerList(headers: Record<string, string | Buffer>): { [name: string]: string | Buffer }[] | undefined {
  const list = Object.keys(headers).map((name) => ({ [name]: headers[name] as string | Buffer }));
  return list.length > 0 ? list : undefined;
}

/** When the watch gave up (deadline, brokers down, no producer id): the messages still pending fail with its cause. */
function failPending(
  results: (SendResult | undefined)[],
  records: readonly ProducerRecord[],
  outcome: GiveUp,
  watch: DeliveryWatch,
): void {
  const cause = watch.cause(outcome);
  // The binding cannot take queued messages back: those given up on early may still go out later.
  const prefix = outcome === 'deadline' ? `${NOT_ACKNOWLEDGED}; ` : `${NOT_ACKNOWLEDGED_YET}; `;
  for (const [index, record] of records.entries()) {
    if (results[index] !== undefined) continue;
    results[index] = cause
      ? {
          ...(failure(record.topic, cause.classification, prefix) as Failed),
          retriable: true,
          ...(cause.unavailable && { unavailable: true }),
        }
      : { ok: false, topic: record.topic, error: NOT_ACKNOWLEDGED, errorName: 'DEADLINE', retriable: true };
  }
}

/**
 * A producer for the execution environment, created and connected by KafkaInitializer.producer():
 * send() hands a batch to librdkafka and waits for every delivery report, within a deadline.
 */
export class ManagedProducer {
  /** The binding's producer. Its calls are not bounded by a deadline: prefer the methods here. */
  readonly client: RdKafka.Producer;
  /** Keeps the client's recent log lines, which explain a failure its error does not. */
  readonly recorder: ClientLogRecorder;
  readonly #calls: NativeCalls;
  readonly #config: KafkaConfig;
  readonly #ticker = new WatchTicker();
  /** With a linger (KAFKA_PRODUCE_LINGER_MS), a send flushes what it queued instead of waiting it out: its ms, else 0. */
  readonly #lingerMs: number;
  /** The sends waiting for reports; a report's opaque is its message's id, and a send holds a range of ids. */
  readonly #batches = new Set<Batch>();
  #lastBatch: Batch | undefined;
  #nextId = 0;
  #fatal: unknown;
  /** Whether any message was ever acknowledged: a producer that has sent holds a producer id. */
  #delivered = false;
  #created = false;
  #connected = false;

  constructor(config: KafkaConfig, recorder: ClientLogRecorder, calls: NativeCalls, deliveryTimeoutMs: number) {
    this.#config = config;
    this.recorder = recorder;
    this.#calls = calls;
    this.#lingerMs = config.produce.lingerMs;
    this.client = new rdkafka.Producer(producerProperties(config, deliveryTimeoutMs) as RdKafka.ProducerGlobalConfig);
    recorder.follow(this.client);
    trackTokenClient(config, this.client);
    this.client.on('event.error', (error: { message: string; isFatal?: boolean }) => {
      if (error.isFatal) this.#fatal = error;
      recorder.error(`Error: ${error.message}`, { fac: 'ERROR' });
    });
    this.client.on('delivery-report', (error, report) => {
      const id = report?.opaque as number;
      // Nearly always one send at a time (an invocation's): checked first, without an iterator.
      const last = this.#lastBatch;
      if (last !== undefined && id >= last.first && id < last.first + last.size) {
        last.report(id - last.first, error, report);
        return;
      }
      for (const batch of this.#batches) {
        if (id >= batch.first && id < batch.first + batch.size) {
          batch.report(id - batch.first, error, report);
          return;
        }
      }
    });
  }

  /**
   * Connects: creates librdkafka's client if this producer has none yet (a previous attempt may
   * have), then waits in slices until a broker answers a metadata request, until `ctx.deadline`.
   * Returns the cluster metadata it saw. On failure the client is kept, still connecting, for the
   * next attempt; close() it when giving up.
   */
  async connect(ctx: Omit<WaitContext, 'calls'>): Promise<RdKafka.Metadata> {
    if (!this.#created) {
      const inner = internals(this.client);
      inner._client.configureCallbacks(true, inner._cb_configs);
      await this.#calls.run<void>('creating the producer', ctx.deadline.remainingMs(), (_timeout, done) =>
        inner._client.connect((err) => done(err)),
      );
      inner._isConnected = true;
      this.client.setPollInBackground(true);
      this.#created = true;
    }
    const metadata = await metadataWhenReachable(
      this.client,
      { operation: 'connecting the producer', allTopics: true },
      { ...ctx, calls: this.#calls },
    );
    this.#connected = true;
    return metadata;
  }

  /**
   * Has librdkafka ask for the idempotent producer's id now. It asks when a metadata response comes
   * in; when no broker connection was up at the first one (a new client's, answered by the bootstrap
   * broker), it tries again only on a 500 ms timer (rdkafka_idempotence.c), and the first message
   * waits for it: in 2 of 15 cold starts of the raw binding here. A metadata request for `topic`, once
   * connected, has it ask at once; it runs beside the rest of the start, bounded by `timeoutMs`.
   */
  askForProducerId(topic: string, timeoutMs: number): void {
    void this.metadata('asking for a producer id', timeoutMs, { topic, allTopics: false }).catch(() => {});
  }

  /** True once a broker has answered (connect() succeeded) and until close(). */
  isConnected(): boolean {
    return this.#connected && this.client.isConnected();
  }

  /** A fatal error the client reported (it must be recreated), if any. */
  fatalError(): unknown {
    return this.#fatal;
  }

  /**
   * Queues every record, then waits for their delivery reports until the deadline. Results are in
   * the order of `records`. Never throws for a message: each gets its own result. When librdkafka's
   * queue is full (queue.buffering.max.kbytes, sized by memory.ts), queueing waits for reports to
   * make room and goes on; what could not be queued before the watch gave up was never sent.
   */
  send(records: readonly ProducerRecord[], deadline: Deadline, options: SendOptions = {}): Promise<SendOutcome> {
    // While tracing (src/observability/tracing.ts): a PRODUCER span, and its context in copies of the records.
    const trace = startSend(this.#config, records);
    if (!trace) return this.#send(records, deadline, options);
    return this.#send(trace.messages, deadline, options).then(
      (outcome) => {
        trace.end(outcome.results);
        return outcome;
      },
      (error: unknown) => {
        trace.fail(error);
        throw error;
      },
    );
  }

  async #send(records: readonly ProducerRecord[], deadline: Deadline, options: SendOptions): Promise<SendOutcome> {
    const started = Date.now();
    const hasSent = this.#delivered;
    const results: (SendResult | undefined)[] = new Array(records.length);
    let waiting = 0;
    /** The next record to queue: all are queued (or failed) once it reaches records.length. */
    let next = 0;
    let producerBroken = false;
    /** A report's opaque is its message's id: this send holds first .. first + records.length - 1. */
    const first = this.#nextId;
    this.#nextId += records.length;
    /** Queues from `next` on; false when the queue is full with some of this send's messages in it. */
    const queueRest = (): boolean => {
      for (; next < records.length; next++) {
        const record = records[next] as ProducerRecord;
        try {
          this.client.produce(
            record.topic,
            record.partition ?? null,
            typeof record.value === 'string' ? Buffer.from(record.value) : record.value,
            record.key ?? null,
            null,
            first + next,
            record.headers === undefined ? undefined : headerList(record.headers),
          );
          waiting++;
        } catch (error) {
          if ((error as { code?: unknown }).code === QUEUE_FULL && waiting > 0) return false;
          const classification = classifyKafkaError(error);
          if (classification.kind === 'fatal') producerBroken = true;
          results[next] = failure(record.topic, classification);
        }
      }
      return true;
    };
    // The messages leave first; the rest is set up while their request travels. No report can come
    // before this function yields: the background poller hands them to the event loop.
    let queued = queueRest();
    let watch: DeliveryWatch | undefined;
    // Settled once: by the last report, or by the watch giving up first.
    let finish: (outcome: 'delivered' | GiveUp) => void = () => {};
    const outcome = new Promise<'delivered' | GiveUp>((resolve) => {
      finish = resolve;
    });
    /** Set while the queue is full: called by the next report, which made room. */
    let room: (() => void) | undefined;
    const batch: Batch = {
      first,
      size: records.length,
      report: (index, error, report) => {
        if (results[index] !== undefined) return;
        const topic = (records[index] as ProducerRecord).topic;
        if (error) {
          const classification = classifyKafkaError(error, { recentLogs: this.recorder.recent(started) });
          if (classification.kind === 'fatal') producerBroken = true;
          // A delivery timeout: what the watch knows of why (brokers down, no producer id, too few
          // in-sync replicas) is the cause; the report can come before the watch's own deadline.
          const known = classification.code === -192 ? watch?.cause('deadline') : undefined;
          results[index] = known
            ? {
                ...(failure(topic, known.classification, 'not delivered in time: ') as Failed),
                ...(known.unavailable && { unavailable: true }),
              }
            : failure(topic, classification);
        } else {
          this.#delivered = true;
          results[index] = { ok: true, topic, partition: report.partition, offset: String(report.offset) };
        }
        if (--waiting === 0 && next === records.length) finish('delivered');
        room?.();
      },
    };
    this.#batches.add(batch);
    this.#lastBatch = batch;
    const pendingTopics = () => [...new Set(records.flatMap((r, i) => (results[i] === undefined ? [r.topic] : [])))];
    const roomOrEnd = () =>
      Promise.race([
        new Promise<undefined>((resolve) => {
          room = () => {
            room = undefined;
            resolve(undefined);
          };
        }),
        outcome,
      ]);
    try {
      let ended: 'delivered' | GiveUp | undefined;
      if (waiting > 0) {
        watch = new DeliveryWatch(
          this.recorder,
          (topic, timeoutMs) =>
            this.metadata(`why ${topic} is not acknowledged`, timeoutMs, { topic, allTopics: false }),
          { ...options, hasSent },
          this.#ticker,
        );
        watch.start(deadline, pendingTopics, finish);
        // With a linger, what is queued goes out now rather than after it, and again after each wait for room.
        if (this.#lingerMs > 0) this.#sendQueuedNow(() => waiting > 0);
        while (!queued) {
          ended = await roomOrEnd();
          if (ended !== undefined) break;
          queued = queueRest();
          if (this.#lingerMs > 0) this.#sendQueuedNow(() => waiting > 0);
        }
        if (ended === undefined && waiting > 0) ended = await outcome;
        watch.stop();
      }
      if (ended !== undefined && ended !== 'delivered') {
        for (; next < records.length; next++) {
          const topic = (records[next] as ProducerRecord).topic;
          results[next] = failure(topic, namedCause('QUEUE_FULL', QUEUE_STAYED_FULL), 'not sent: ');
        }
        failPending(results, records, ended, watch as DeliveryWatch);
      }
    } finally {
      this.#batches.delete(batch);
      if (this.#lastBatch === batch) this.#lastBatch = undefined;
    }
    return { results: results as SendResult[], producerBroken: producerBroken || this.#fatal !== undefined };
  }

  /**
   * Has librdkafka send what is queued now rather than after linger.ms: a flush() wakes the broker
   * threads, and while one is running they send without lingering. Flushes of 1 ms follow each other
   * while `pending()` (this send's messages not yet reported) and until the linger has passed: each one
   * wakes the broker threads again, so one that woke late (a small CPU share, a busy machine) is woken
   * once more while a flush is on, and nothing waits longer than the linger would have made it. (A
   * single 1 ms flush was missed that way on a loaded machine, and a batch waited out a 1 s linger; one
   * flush as long as the linger does not return at the delivery report, which the background poller
   * takes, and cost every single message the whole linger.) A slice that times out is the expected outcome.
   * The invocation does not wait for the last slice to return (a brief call, native.ts): it answers at
   * its delivery reports, which a single message had otherwise followed by the slice's whole millisecond.
   */
  #sendQueuedNow(pending: () => boolean): void {
    const until = Date.now() + this.#lingerMs;
    const slice = (): void => {
      void this.#calls
        .run<void>(
          'sending the queued messages',
          1,
          (timeout, done) => this.client.flush(timeout, (err) => done(err)),
          {
            brief: true,
          },
        )
        .catch(() => {})
        .then(() => {
          if (pending() && Date.now() < until) slice();
        });
    };
    slice();
  }

  /** Cluster metadata through this producer's connections. */
  metadata(operation: string, timeoutMs: number, options: { topic?: string; allTopics?: boolean } = {}) {
    return this.#calls.run<RdKafka.Metadata>(operation, timeoutMs, (timeout, done) =>
      this.client.getMetadata({ ...options, timeout }, done),
    );
  }

  /** Waits up to `timeoutMs` for everything queued to be delivered (or to fail). */
  flush(timeoutMs: number): Promise<void> {
    return this.#calls.run<void>('flushing the producer', timeoutMs, (timeout, done) =>
      this.client.flush(timeout, (err) => done(err)),
    );
  }

  /** Flushes for up to `timeoutMs`, then destroys the client. */
  close(timeoutMs: number): Promise<void> {
    if (!this.#created || !this.client.isConnected()) return Promise.resolve();
    this.#connected = false;
    return this.#calls.run<void>('closing the producer', timeoutMs, (timeout, done) =>
      this.client.disconnect(timeout, (err) => done(err)),
    );
  }
}
