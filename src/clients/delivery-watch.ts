/**
 * While a send waits for delivery reports: whether to stop waiting early, and why the messages are
 * not being acknowledged. librdkafka retries silently (NOT_ENOUGH_REPLICAS, a missing leader) or
 * logs the same failure every 500 ms (no producer id), and the reports only come when each message
 * times out; the cause is known long before, from the client's statistics, its log and the metadata.
 *
 * - Every broker connection down (statistics): stop after `brokersDownTimeoutMs` if set, else at
 *   the deadline; the cause is the refused address (unavailable). Down because the brokers refused
 *   the credentials (SASL, client certificate): stop at once, waiting cannot help.
 * - No producer id (the log, for PRODUCER_ID_STALL_MS) for a producer that never had one: stop;
 *   nothing can be sent until the controllers are back, and the cause was known from the first
 *   failed request (unavailable). A producer that had one waits (a new epoch after a leader change
 *   takes a few seconds); the cause is still named at the deadline.
 * - Brokers up but nothing acknowledged after REPLICATION_CHECK_MS: one metadata request for the
 *   pending topics; a partition without a leader or with fewer in-sync replicas than
 *   min.insync.replicas is the cause reported at the deadline (the replicas may yet come back).
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { fromCode, namedCause } from '../errors/causes.js';
import { type Classification, type ClientLogLine, causeFromLogs, classifyKafkaError } from '../errors/classify.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';

/**
 * How long a producer that never had a producer id may keep failing to get one before its pending
 * messages fail with that cause: three of librdkafka's retries (every 500 ms). A broker without a
 * block of ids answers the first request COORDINATOR_LOAD_IN_PROGRESS and has one from a working
 * controller quorum milliseconds later, so the second request succeeds.
 */
export const PRODUCER_ID_STALL_MS = 1500;
/** How long a send waits, brokers up, before asking the metadata why nothing is acknowledged. */
export const REPLICATION_CHECK_MS = 1500;
const WATCH_MS = 100;
const PRODUCER_ID = /Failed to acquire (?:idempotence|transactional) PID/;
const CONNECTION_FAILURE =
  /Connect to \S+ failed|Failed to resolve|SSL handshake failed|SASL authentication error|Disconnected|timed out/;

export type GiveUp = 'deadline' | 'down' | 'stalled';

export interface WatchOptions {
  brokersDownTimeoutMs?: number;
  /**
   * The producer has delivered before, so it had a producer id: failing to get a new one (after a
   * leader change bumps the epoch) is waited out like any restart. A producer that never had one
   * cannot send at all, and its messages fail with that cause after PRODUCER_ID_STALL_MS.
   */
  hasSent?: boolean;
  /** The brokers' min.insync.replicas, to recognise a partition that cannot take acks=all writes. */
  minInsyncReplicas?: number;
}

export interface StallCause {
  classification: Classification;
  /** Kafka cannot take the messages at all (brokers down, no producer id): an HTTP caller gets 503. */
  unavailable: boolean;
}

/**
 * One interval for the watches of a producer's sends, every WATCH_MS, kept between sends (unref'd
 * while none waits): a warm invocation's send, over long before a check, arms no timer of its own.
 */
export class WatchTicker {
  readonly #checks = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  add(check: () => void): void {
    this.#checks.add(check);
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#tick(), WATCH_MS);
    else if (this.#checks.size === 1) this.#timer.ref();
  }

  delete(check: () => void): void {
    this.#checks.delete(check);
    if (this.#checks.size === 0) this.#timer?.unref();
  }

  #tick(): void {
    if (this.#checks.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const check of [...this.#checks]) check();
  }
}

export class DeliveryWatch {
  readonly #recorder: ClientLogRecorder;
  readonly #metadata: (topic: string, timeoutMs: number) => Promise<RdKafka.Metadata>;
  readonly #options: WatchOptions;
  readonly #ticker: WatchTicker;
  readonly #started = Date.now();
  #replication: Classification | undefined;
  #checked = false;
  #check: (() => void) | undefined;
  /** Set when the deadline comes before the next tick (#checkAt). */
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    recorder: ClientLogRecorder,
    metadata: (topic: string, timeoutMs: number) => Promise<RdKafka.Metadata>,
    options: WatchOptions,
    ticker = new WatchTicker(),
  ) {
    this.#recorder = recorder;
    this.#metadata = metadata;
    this.#options = options;
    this.#ticker = ticker;
  }

  /**
   * Checks every WATCH_MS whether the send should stop waiting, and calls `giveUp` once when it
   * should, unless stop() came first; `pendingTopics` gives the topics still waited for. A callback,
   * not a promise to race: this runs for every send, and most sends are over before the first check.
   */
  start(deadline: Deadline, pendingTopics: () => string[], giveUp: (reason: GiveUp) => void): void {
    let downSince: number | undefined;
    const end = (reason: GiveUp) => {
      this.stop();
      giveUp(reason);
    };
    const check = () => {
      const down = this.#recorder.statistics.allDown();
      downSince = down ? (downSince ?? Date.now()) : undefined;
      const remaining = deadline.remainingMs();
      if (remaining <= 0) return end('deadline');
      const limit = this.#options.brokersDownTimeoutMs;
      if (limit !== undefined && downSince !== undefined && Date.now() - downSince >= limit) return end('down');
      // Refused credentials or certificates: waiting changes nothing (the caller may fetch rotated ones).
      if (down && this.#downCause().kind !== 'transient') return end('down');
      if (!this.#options.hasSent && this.#producerIdStalled()) return end('stalled');
      if (!down && !this.#checked && Date.now() - this.#started >= REPLICATION_CHECK_MS) {
        this.#checked = true;
        void this.#checkReplication(pendingTopics(), deadline);
      }
      if (remaining < WATCH_MS) this.#checkAt(remaining, check);
    };
    this.#check = check;
    this.#ticker.add(check);
    const remaining = deadline.remainingMs();
    if (remaining < WATCH_MS) this.#checkAt(remaining, check);
  }

  /** The deadline comes before the next tick: one check at the deadline itself. */
  #checkAt(remainingMs: number, check: () => void): void {
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(check, Math.max(1, remainingMs));
  }

  stop(): void {
    if (this.#check) this.#ticker.delete(this.#check);
    this.#check = undefined;
    clearTimeout(this.#deadlineTimer);
  }

  #lines(): ClientLogLine[] {
    return this.#recorder.recent(this.#started - 60_000);
  }

  /**
   * The producer id has been failing, without pause, for PRODUCER_ID_STALL_MS: counted from the
   * first failure of the run still going on at this send (a cold producer starts asking while the
   * function initialises), not from an earlier run that ended (a thawed environment starts anew).
   */
  #producerIdStalled(): boolean {
    const failures = this.#recorder.recent(this.#started).filter((line) => PRODUCER_ID.test(line.message));
    const first = failures[0];
    return first !== undefined && Date.now() - (first.firstSeen ?? first.timestamp) >= PRODUCER_ID_STALL_MS;
  }

  async #checkReplication(topics: string[], deadline: Deadline): Promise<void> {
    const min = this.#options.minInsyncReplicas ?? 1;
    for (const topic of topics) {
      try {
        const metadata = await this.#metadata(topic, Math.min(1000, deadline.remainingMs()));
        const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
        const live = new Set(metadata.brokers.map((b) => b.id));
        const leaderless = partitions.filter((p) => p.leader < 0 || !live.has(p.leader));
        const short = partitions.filter((p) => p.isrs.length < min);
        if (leaderless.length > 0) {
          const which = leaderless.map((p) => `${topic}[${p.id}]`).join(', ');
          this.#replication = fromCode(5, `${which} ${leaderless.length === 1 ? 'has' : 'have'} no leader`);
        } else if (short.length > 0) {
          const which = short
            .map((p) => `${topic}[${p.id}] (in sync: broker ${p.isrs.join(', ') || 'none'})`)
            .join(', ');
          this.#replication = fromCode(
            19,
            `fewer in-sync replicas than min.insync.replicas ${min}: ${which}; librdkafka retries the writes until they time out`,
          );
        }
      } catch {
        // The metadata could not be read in time: the deadline's own explanation stands.
      }
      if (this.#replication) return;
    }
  }

  /** Why the pending messages were not acknowledged, as far as anything says. */
  cause(outcome: GiveUp): StallCause | undefined {
    if (outcome === 'stalled' || (outcome === 'deadline' && this.#producerIdStalled())) {
      const line = [...this.#lines()].reverse().find((l) => PRODUCER_ID.test(l.message));
      const cause = causeFromLogs(line ? [line] : []);
      return {
        classification: cause ?? namedCause('PRODUCER_ID_UNAVAILABLE', 'the producer cannot get a producer id'),
        unavailable: true,
      };
    }
    if (this.#recorder.statistics.allDown()) return { classification: this.#downCause(), unavailable: true };
    if (this.#replication) return { classification: this.#replication, unavailable: false };
    const cause = causeFromLogs(this.#recorder.recent(this.#started));
    return cause ? { classification: cause, unavailable: false } : undefined;
  }

  /**
   * Why no broker connection is open: the latest connection failure the log names (librdkafka
   * logs a repeated one once per 30 s, so it may predate this send), or that all are down.
   */
  #downCause(): Classification {
    const lines = this.#lines();
    return (
      causeFromLogs(lines.filter((line) => CONNECTION_FAILURE.test(line.message))) ??
      causeFromLogs(lines) ??
      classifyKafkaError({ code: -187, message: 'all broker connections are down' })
    );
  }
}
