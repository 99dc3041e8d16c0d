/**
 * The producer, on the binding's RdKafka API. An invocation hands all its messages to librdkafka
 * at once (produce() only queues, on the calling thread) and waits for their delivery reports,
 * which the binding's background poller brings back: one round trip for what fits in a request,
 * and each message still gets its own partition and offset, or its own error.
 *
 * Connecting: the binding's connect() asks for metadata and, if that fails, destroys the client.
 * So it is asked in slices (wait.ts), each with a new client, until the log names a cause or a
 * broker answers; a healthy cluster answers the first within a round trip.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from '../config/load.js';
import { type Classification, causeFromLogs, classifyKafkaError } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';
import type { NativeCalls } from './native.js';
import { producerProperties } from './properties.js';
import { inSlices, isUnreachable, linesSince, type WaitContext } from './wait.js';

export interface ProducerRecord {
  topic: string;
  key?: string | Buffer | null;
  /** null sends a tombstone. */
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  /** Leave unset to let the partitioner (murmur2, as the Java client) choose by key. */
  partition?: number;
}

export type SendResult =
  | { ok: true; topic: string; partition: number; offset: string }
  | {
      ok: false;
      topic: string;
      error: string;
      errorName: string;
      retriable: boolean;
      /** The message was never acknowledged because no broker could be reached: Kafka is unavailable. */
      unavailable?: boolean;
    };

export interface SendOptions {
  /**
   * How long to keep waiting once every broker connection is down (refused, unreachable); the
   * messages still pending then fail with that cause. Undefined: wait while there is time, which
   * rides through a broker restart.
   */
  brokersDownTimeoutMs?: number;
}

export interface SendOutcome {
  results: SendResult[];
  /** Set when a result showed the producer is broken (e.g. a fatal idempotence error). */
  producerBroken: boolean;
}

type Pending = (error: unknown, report?: RdKafka.DeliveryReport) => void;

const NOT_ACKNOWLEDGED = 'not acknowledged before the deadline: it may still be delivered (retrying can duplicate it)';
/** How often a waiting send looks at the client's log. */
const WATCH_MS = 100;

function failure(topic: string, classification: Classification, prefix = ''): SendResult {
  return {
    ok: false,
    topic,
    error: `${prefix}${causeLine(classification)}`,
    errorName: classification.name,
    retriable: classification.retriable,
  };
}

export class ManagedProducer {
  readonly client: RdKafka.Producer;
  readonly recorder: ClientLogRecorder;
  readonly #calls: NativeCalls;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #fatal: unknown;
  #connected = false;

  constructor(config: KafkaConfig, recorder: ClientLogRecorder, calls: NativeCalls, deliveryTimeoutMs: number) {
    this.recorder = recorder;
    this.#calls = calls;
    this.client = new RdKafka.Producer(producerProperties(config, deliveryTimeoutMs) as RdKafka.ProducerGlobalConfig);
    recorder.follow(this.client);
    this.client.on('event.error', (error: { message: string; isFatal?: boolean }) => {
      if (error.isFatal) this.#fatal = error;
      recorder.error(`Error: ${error.message}`, { fac: 'ERROR' });
    });
    this.client.on('delivery-report', (error, report) => {
      const settle = this.#pending.get(report?.opaque as number);
      if (!settle) return;
      this.#pending.delete(report.opaque as number);
      settle(error, report);
    });
  }

  /**
   * Creates producers until one connects (see the module comment); each slice's client is
   * created by `create`. Returns the connected producer and the cluster metadata it saw.
   */
  static async connect(
    create: () => ManagedProducer,
    ctx: WaitContext,
  ): Promise<{ producer: ManagedProducer; metadata: RdKafka.Metadata }> {
    return inSlices('connecting the producer', ctx, async (timeoutMs) => {
      const producer = create();
      const metadata = await ctx.calls.run<RdKafka.Metadata>('connecting the producer', timeoutMs, (timeout, done) =>
        producer.client.connect({ timeout, allTopics: true }, done),
      );
      producer.client.setPollInBackground(true);
      producer.#connected = true;
      return { producer, metadata };
    });
  }

  isConnected(): boolean {
    return this.#connected && this.client.isConnected();
  }

  /** A fatal error the client reported (it must be recreated), if any. */
  fatalError(): unknown {
    return this.#fatal;
  }

  /**
   * Queues every record, then waits for their delivery reports until the deadline. Results are in
   * the order of `records`. Never throws for a message: each gets its own result.
   */
  async send(records: readonly ProducerRecord[], deadline: Deadline, options: SendOptions = {}): Promise<SendOutcome> {
    const started = Date.now();
    const results: (SendResult | undefined)[] = new Array(records.length);
    const waiting = new Map<number, number>(); // opaque id → index
    let producerBroken = false;
    let done: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      done = resolve;
    });

    for (const [index, record] of records.entries()) {
      const id = this.#nextId++;
      const headers = record.headers && Object.entries(record.headers).map(([name, value]) => ({ [name]: value }));
      try {
        this.#pending.set(id, (error, report) => {
          waiting.delete(id);
          if (error) {
            const classification = classifyKafkaError(error, { recentLogs: this.recorder.recent(started) });
            if (classification.kind === 'fatal') producerBroken = true;
            results[index] = failure(record.topic, classification);
          } else {
            results[index] = {
              ok: true,
              topic: record.topic,
              partition: report?.partition ?? -1,
              offset: String(report?.offset),
            };
          }
          if (waiting.size === 0) done();
        });
        waiting.set(id, index);
        this.client.produce(
          record.topic,
          record.partition ?? null,
          typeof record.value === 'string' ? Buffer.from(record.value) : record.value,
          record.key ?? null,
          null,
          id,
          headers,
        );
      } catch (error) {
        this.#pending.delete(id);
        waiting.delete(id);
        const classification = classifyKafkaError(error);
        if (classification.kind === 'fatal') producerBroken = true;
        results[index] = failure(record.topic, classification);
      }
    }

    if (waiting.size > 0) await this.#awaitReports(waiting, allDone, deadline, started, options, results, records);
    return { results: results as SendResult[], producerBroken: producerBroken || this.#fatal !== undefined };
  }

  /** Waits for the pending reports; at the deadline, or once the brokers have been down too long, fails the rest. */
  async #awaitReports(
    waiting: Map<number, number>,
    allDone: Promise<void>,
    deadline: Deadline,
    started: number,
    options: SendOptions,
    results: (SendResult | undefined)[],
    records: readonly ProducerRecord[],
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let downSince: number | undefined;
    const gaveUp = new Promise<'deadline' | 'down'>((resolve) => {
      const check = () => {
        const lines = linesSince([this.recorder], started);
        const cause = causeFromLogs(lines.filter((line) => line.timestamp >= Date.now() - 3000));
        downSince = isUnreachable(cause) ? (downSince ?? Date.now()) : undefined;
        if (deadline.remainingMs() <= 0) return resolve('deadline');
        if (
          options.brokersDownTimeoutMs !== undefined &&
          downSince !== undefined &&
          Date.now() - downSince >= options.brokersDownTimeoutMs
        ) {
          return resolve('down');
        }
        timer = setTimeout(check, Math.min(WATCH_MS, Math.max(1, deadline.remainingMs())));
      };
      timer = setTimeout(check, Math.min(WATCH_MS, Math.max(1, deadline.remainingMs())));
    });
    try {
      const outcome = await Promise.race([allDone.then(() => 'delivered' as const), gaveUp]);
      if (outcome === 'delivered') return;
      // What the log says explains the wait: brokers down, refused at host:port, ...
      const cause = causeFromLogs(linesSince([this.recorder], started));
      for (const [id, index] of waiting) {
        this.#pending.delete(id);
        const topic = (records[index] as ProducerRecord).topic;
        if (cause) {
          results[index] = {
            ...(failure(topic, cause, outcome === 'deadline' ? `${NOT_ACKNOWLEDGED}; ` : 'not sent: ') as Extract<
              SendResult,
              { ok: false }
            >),
            retriable: true,
            ...(isUnreachable(cause) && { unavailable: true }),
          };
        } else {
          results[index] = {
            ok: false,
            topic,
            error: NOT_ACKNOWLEDGED,
            errorName: 'DEADLINE',
            retriable: true,
          };
        }
      }
      waiting.clear();
    } finally {
      clearTimeout(timer);
    }
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
    if (!this.client.isConnected()) return Promise.resolve();
    this.#connected = false;
    return this.#calls.run<void>('closing the producer', timeoutMs, (timeout, done) =>
      this.client.disconnect(timeout, (err) => done(err)),
    );
  }
}
