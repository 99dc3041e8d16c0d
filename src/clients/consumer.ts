/**
 * The consumer, on the binding's pull API (RdKafka.KafkaConsumer), because a Lambda drain must
 * decide when messages are taken: the KafkaJS-style `run()` hands messages to a callback whenever
 * the process runs, which in Lambda includes the moments after the handler returned.
 * Nothing is committed automatically: the caller commits what it processed.
 *
 * Every call that blocks a pool thread goes through NativeCalls with a timeout; the commit is
 * asynchronous (a synchronous one waits for a missing coordinator for socket.timeout.ms), and its
 * result is served by polling, which also keeps the group session alive.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { librdkafkaProperties, trackTokenClient } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import { AttemptTimeoutError, KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { STATISTICS_INTERVAL_MS } from '../observability/connection-stats.js';
import { rdkafka } from './binding.js';
import { consumerMemoryProperties, drainBatchBytes } from './memory.js';
import type { NativeCalls } from './native.js';
import { COMMON_OVERRIDES } from './properties.js';

/** A message as the binding's consumer delivers it (RdKafka.Message); receive() returns these. */
export type KafkaMessage = RdKafka.Message;

/** A position in a partition: for a commit, the offset of the next message to read. */
export interface TopicPartitionOffset {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** The offset of the next message to read. */
  offset: number;
}

/** How far a partition's group position is behind its newest message. */
export interface PartitionLag extends TopicPartitionOffset {
  /** Offset of the next message the broker will write. */
  high: number;
  /** Messages behind: `high - offset`, never negative. */
  lag: number;
}

/**
 * The group's lag on this consumer's partitions, or why it is not known.
 * @inline
 */
export type LagReading =
  | {
      /** The lag is known. */
      ok: true;
      /** One entry per assigned partition. */
      partitions: PartitionLag[];
      /** The partitions' lag, summed. */
      total: number;
    }
  | {
      /** The lag is not known. */
      ok: false;
      /** Why, e.g. the consumer holds no partition, or no fetch response has come yet. */
      reason: string;
    };

const COORDINATOR_LINE = /Group "([^"]+)" coordinator is (\S+) id (\d+)/;

/** The group coordinator librdkafka last found for `groupId` (debug=cgrp lines), as "host:port (broker id)". */
export function coordinatorOf(recorder: ClientLogRecorder, groupId: string): string | undefined {
  for (const line of recorder.recent().reverse()) {
    const match = COORDINATOR_LINE.exec(line.message);
    if (match && match[1] === groupId) return `${match[2]} (broker ${match[3]})`;
  }
  return undefined;
}
/**
 * The longest single poll while waiting for a commit's result: a poll returns early for a message,
 * not for a callback, so a short one keeps the wait close to the commit's round trip.
 */
const COMMIT_POLL_MS = 10;
/**
 * Commit errors that leave the partitions assigned and pass on their own: the coordinator is loading
 * the group's offsets (after a broker restart), moved, not yet known to the client (librdkafka's own
 * WAIT_COORD, while it looks the new one up), or has not answered in time. The commit is sent again
 * after COMMIT_AGAIN_MS while the time allows. Not a rebalance (REBALANCE_IN_PROGRESS,
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID): the partitions may be someone else's by then.
 */
const COMMIT_AGAIN = new Set([
  rdkafka.CODES.ERRORS.ERR__WAIT_COORD,
  rdkafka.CODES.ERRORS.ERR_COORDINATOR_LOAD_IN_PROGRESS,
  rdkafka.CODES.ERRORS.ERR_COORDINATOR_NOT_AVAILABLE,
  rdkafka.CODES.ERRORS.ERR_NOT_COORDINATOR,
  rdkafka.CODES.ERRORS.ERR_REQUEST_TIMED_OUT,
]);
const COMMIT_AGAIN_MS = 100;
/** How many of a commit's partitions its error names. */
const COMMIT_PARTITIONS_SHOWN = 5;

/**
 * A refused commit, as an error that says which group, which partitions at which offsets, and why
 * (the broker's or librdkafka's error, classified, with its hint); the error itself is its cause.
 */
function commitFailed(groupId: string, offsets: readonly TopicPartitionOffset[], error: unknown): KafkaOperationError {
  const shown = offsets.slice(0, COMMIT_PARTITIONS_SHOWN).map((o) => `${o.topic}[${o.partition}] at ${o.offset}`);
  const more = offsets.length > shown.length ? ` and ${offsets.length - shown.length} more` : '';
  return new KafkaOperationError(
    `Committing the offsets of group "${groupId}" (${shown.join(', ')}${more})`,
    classifyKafkaError(error),
    { cause: error },
  );
}

/**
 * The message size assumed before any was seen: librdkafka's max.partition.fetch.bytes, the most
 * one partition's fetch brings unless a single message is larger.
 */
const FIRST_MESSAGE_BYTES = 1_048_576;

/**
 * A consumer in KAFKA_CONSUMER_GROUP_ID, subscribed to KAFKA_TOPICS, created and joined by
 * KafkaInitializer.consumer(). Messages are taken with receive(); nothing is committed unless
 * commit() is called.
 */
export class ManagedConsumer {
  /** The binding's consumer. Its calls are not bounded by a deadline: prefer the methods here. */
  readonly client: RdKafka.KafkaConsumer;
  /** Keeps the client's recent log lines, which explain a failure its error does not. */
  readonly recorder: ClientLogRecorder;
  /** The consumer group (KAFKA_CONSUMER_GROUP_ID). */
  readonly groupId: string;
  /** The topics it subscribes to. */
  readonly topics: readonly string[];
  readonly #calls: NativeCalls;
  /** The most bytes of messages one receive() takes into JavaScript (memory.ts). */
  readonly #batchBytes: number;
  /** The average size of the messages last taken, to turn #batchBytes into a count. */
  #messageBytes = FIRST_MESSAGE_BYTES;
  #buffer: KafkaMessage[] = [];
  #assignments = 0;
  #commitResults: { err: unknown; offsets: TopicPartitionOffset[] }[] = [];
  /** What this consumer committed, per `topic/partition`: the group's position as far as it knows. */
  readonly #committed = new Map<string, number>();

  constructor(config: KafkaConfig, recorder: ClientLogRecorder, topics: readonly string[], calls: NativeCalls) {
    this.recorder = recorder;
    this.#calls = calls;
    this.groupId = config.consumer.groupId as string;
    this.topics = topics;
    this.#batchBytes = drainBatchBytes(config);
    this.client = new rdkafka.KafkaConsumer(
      {
        ...librdkafkaProperties(config, 'consumer'),
        ...consumerMemoryProperties(config),
        'enable.auto.commit': false,
        'socket.connection.setup.timeout.ms': 10_000,
        'reconnect.backoff.ms': COMMON_OVERRIDES['reconnect.backoff.ms'],
        'reconnect.backoff.max.ms': COMMON_OVERRIDES['reconnect.backoff.max.ms'],
        'statistics.interval.ms': STATISTICS_INTERVAL_MS,
        // Group protocol events are how a join that never completes gets explained (FindCoordinator answers).
        debug: 'cgrp',
        rebalance_cb: true,
        offset_commit_cb: true,
      } as RdKafka.ConsumerGlobalConfig,
      // A topic-level setting: the binding only applies it from here. A new group starts from the
      // oldest message, so nothing produced before its first join is skipped.
      { 'auto.offset.reset': 'earliest' },
    );
    recorder.follow(this.client);
    trackTokenClient(config, this.client);
    this.client.on('event.error', (error: { message: string }) =>
      recorder.error(`Error: ${error.message}`, { fac: 'ERROR' }),
    );
    this.client.on('rebalance', (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
      if (err.code === rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.#assignments++;
        return;
      }
      // Revoked (or lost) partitions will be fetched again from the committed offset by whoever owns them.
      const revoked = new Set(assignment.map((tp) => `${tp.topic}/${tp.partition}`));
      this.#buffer = this.#buffer.filter((m) => !revoked.has(`${m.topic}/${m.partition}`));
    });
    this.client.on('offset.commit', (err: unknown, offsets: TopicPartitionOffset[]) => {
      this.#commitResults.push({ err, offsets });
    });
    // Returns as soon as one message is there, with whatever else is ready.
    (
      this.client as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  /** Connects (a metadata request, bounded by `timeoutMs`) and subscribes; the join happens while polling. */
  async connect(timeoutMs: number): Promise<RdKafka.Metadata> {
    const metadata = await this.#calls.run<RdKafka.Metadata>('connecting the consumer', timeoutMs, (timeout, done) =>
      this.client.connect({ timeout, allTopics: false }, done),
    );
    this.client.subscribe([...this.topics]);
    return metadata;
  }

  /** Whether the client is connected (it may still be joining its group: see assignment()). */
  isConnected(): boolean {
    return this.client.isConnected();
  }

  /** Number of assignments received since creation: a join, or a rejoin after a rebalance. */
  get assignmentCount(): number {
    return this.#assignments;
  }

  /** The partitions assigned to this consumer now; empty while it joins or rejoins its group, or is not connected. */
  assignment(): {
    /** The topic. */
    topic: string;
    /** The partition. */
    partition: number;
  }[] {
    return this.client.isConnected()
      ? this.client.assignments().map(({ topic, partition }) => ({ topic, partition }))
      : [];
  }

  /** The group coordinator librdkafka found, as "host:port (broker id)". */
  coordinator(): string | undefined {
    return coordinatorOf(this.recorder, this.groupId);
  }

  /** Polls once, for up to `waitMs` (which is also what lets the group join progress); keeps what arrives for receive(). */
  async poll(waitMs: number, max = 100): Promise<void> {
    const wait = Math.max(1, Math.floor(waitMs));
    const messages = await this.#calls.run<KafkaMessage[]>('consume', wait, (timeout, done) => {
      this.client.setDefaultConsumeTimeout(timeout);
      this.client.consume(max, done);
    });
    this.#buffer.push(...messages);
  }

  /**
   * Up to `max` messages, waiting at most `waitMs` for the first; fewer when `max` messages of the
   * size last seen would hold more than the drain's batch bytes (the first call assumes 1 MiB each).
   */
  async receive(max: number, waitMs: number): Promise<KafkaMessage[]> {
    const count = Math.max(1, Math.min(max, Math.floor(this.#batchBytes / this.#messageBytes)));
    if (this.#buffer.length === 0 && waitMs > 0) await this.poll(waitMs, count);
    const batch = this.#buffer.splice(0, count);
    if (batch.length > 0) {
      let bytes = 0;
      for (const m of batch) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
      this.#messageBytes = Math.max(1, bytes / batch.length);
    }
    return batch;
  }

  /** Puts messages taken but not processed back at the front, in order, for the next receive(). */
  unread(messages: readonly KafkaMessage[]): void {
    this.#buffer.unshift(...messages);
  }

  /**
   * Commits `offsets` (each the offset of the next message to read) and waits, polling, for the
   * coordinator's answer. A coordinator that is moving, loading or slow is asked again while the time
   * allows. Rejects with a KafkaOperationError naming the group, the partitions and the cause when the
   * commit is refused, or with an AttemptTimeoutError when no answer comes within `timeoutMs`.
   * Messages that arrive meanwhile are kept for the next receive().
   */
  async commit(offsets: TopicPartitionOffset[], timeoutMs: number): Promise<void> {
    if (offsets.length === 0) return;
    const until = Date.now() + timeoutMs;
    const answered = (result: { offsets: TopicPartitionOffset[] }) =>
      offsets.every((o) => result.offsets?.some((r) => r.topic === o.topic && r.partition === o.partition));
    this.#commitResults = [];
    this.client.commit(offsets);
    for (;;) {
      const result = this.#commitResults.find(answered);
      if (result) {
        const failed = (result.offsets as (TopicPartitionOffset & { error?: unknown })[]).find((o) => o.error);
        const error = result.err ?? failed?.error;
        if (!error) {
          for (const o of offsets) this.#committed.set(`${o.topic}/${o.partition}`, o.offset);
          return;
        }
        // A coordinator that is loading or moved answers again shortly; the partitions are still ours.
        if (!COMMIT_AGAIN.has((error as { code?: number }).code as number) || until - Date.now() < COMMIT_AGAIN_MS)
          throw commitFailed(this.groupId, offsets, error);
        await sleep(COMMIT_AGAIN_MS);
        this.#commitResults = [];
        this.client.commit(offsets);
        continue;
      }
      const left = until - Date.now();
      if (left <= 0) throw new AttemptTimeoutError('offset commit', timeoutMs);
      await this.poll(Math.min(COMMIT_POLL_MS, left), 1);
    }
  }

  /**
   * The group's lag on the assigned partitions, without a request: a query would wait behind the
   * consumer's open Fetch (fetch.wait.max.ms) on the same connection. The high watermark is the one
   * the last fetch response carried (librdkafka caches it); the group's position is what this
   * consumer committed or, before its first commit, the first message it holds unprocessed, or its
   * fetch position. Unknown — with the reason — while unassigned or before the first fetch response.
   */
  lag(): LagReading {
    const assigned = this.assignment();
    if (assigned.length === 0)
      return { ok: false, reason: 'the consumer holds no partition (it is joining or rejoining its group)' };
    const positions = new Map(this.client.position(assigned).map((p) => [`${p.topic}/${p.partition}`, p.offset]));
    const partitions: PartitionLag[] = [];
    for (const { topic, partition } of assigned) {
      const key = `${topic}/${partition}`;
      let high: number;
      try {
        high = this.client.getWatermarkOffsets(topic, partition).highOffset;
      } catch {
        high = -1;
      }
      const held = this.#buffer.find((m) => m.topic === topic && m.partition === partition)?.offset;
      const position = [this.#committed.get(key), held, positions.get(key)].find((o) => o !== undefined && o >= 0);
      if (high < 0 || position === undefined) {
        return { ok: false, reason: `no fetch response yet for ${topic}[${partition}]` };
      }
      partitions.push({ topic, partition, offset: position, high, lag: Math.max(0, high - position) });
    }
    return { ok: true, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Leaves the group and destroys the client; librdkafka's close cannot be bounded, so callers do not wait past `timeoutMs`. */
  close(timeoutMs: number): Promise<void> {
    this.#buffer = [];
    if (!this.client.isConnected()) return Promise.resolve();
    return this.#calls.run<void>('closing the consumer', timeoutMs, (_timeout, done) =>
      this.client.disconnect((err) => done(err)),
    );
  }
}
