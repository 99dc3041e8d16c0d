/**
 * The consumer, on the binding's pull API (RdKafka.KafkaConsumer), because a Lambda drain must
 * decide when messages are taken: the KafkaJS-style `run()` hands messages to a callback whenever
 * the process runs, which in Lambda includes the moments after the handler returned.
 * Nothing is committed automatically: the caller commits what it processed.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import { librdkafkaProperties } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { AttemptTimeoutError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';

export type KafkaMessage = RdKafka.Message;
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

export interface PartitionLag extends TopicPartitionOffset {
  /** Offset of the next message the broker will write. */
  high: number;
  lag: number;
}

type CommitCb = { commitCb(offsets: TopicPartitionOffset[], cb: (err: Error | null) => void): void };

const COORDINATOR_LINE = /Group "([^"]+)" coordinator is (\S+) id (\d+)/;

function withTimeout<T>(what: string, timeoutMs: number, start: (done: (err: unknown, value?: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AttemptTimeoutError(what, timeoutMs)), timeoutMs);
    start((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    });
  });
}

export class ManagedConsumer {
  readonly client: RdKafka.KafkaConsumer;
  readonly recorder: ClientLogRecorder;
  readonly groupId: string;
  readonly topics: readonly string[];
  #buffer: KafkaMessage[] = [];
  #assignments = 0;

  constructor(config: KafkaConfig, recorder: ClientLogRecorder, topics: readonly string[]) {
    this.recorder = recorder;
    this.groupId = config.consumer.groupId as string;
    this.topics = topics;
    this.client = new RdKafka.KafkaConsumer(
      {
        ...librdkafkaProperties(config, 'consumer'),
        'enable.auto.commit': false,
        'socket.connection.setup.timeout.ms': 10_000,
        'reconnect.backoff.max.ms': 2000,
        // Group protocol events are how a join that never completes gets explained (FindCoordinator answers).
        debug: 'cgrp',
        rebalance_cb: true,
      } as RdKafka.ConsumerGlobalConfig,
      // A topic-level setting: the binding only applies it from here. A new group starts from the
      // oldest message, so nothing produced before its first join is skipped.
      { 'auto.offset.reset': 'earliest' },
    );
    recorder.follow(this.client);
    this.client.on('event.error', (error: { message: string }) =>
      recorder.error(`Error: ${error.message}`, { fac: 'ERROR' }),
    );
    this.client.on('rebalance', (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
      if (err.code === RdKafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.#assignments++;
        return;
      }
      // Revoked (or lost) partitions will be fetched again from the committed offset by whoever owns them.
      const revoked = new Set(assignment.map((tp) => `${tp.topic}/${tp.partition}`));
      this.#buffer = this.#buffer.filter((m) => !revoked.has(`${m.topic}/${m.partition}`));
    });
    // Returns as soon as one message is there, with whatever else is ready.
    (
      this.client as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  connect(timeoutMs: number): Promise<void> {
    return withTimeout('consumer connect', timeoutMs + 1000, (done) =>
      this.client.connect({ timeout: timeoutMs }, (err) => done(err)),
    ).then(() => {
      this.client.subscribe([...this.topics]);
    });
  }

  isConnected(): boolean {
    return this.client.isConnected();
  }

  /** Number of assignments received since creation: a join, or a rejoin after a rebalance. */
  get assignmentCount(): number {
    return this.#assignments;
  }

  assignment(): { topic: string; partition: number }[] {
    return this.client.isConnected()
      ? this.client.assignments().map(({ topic, partition }) => ({ topic, partition }))
      : [];
  }

  /** The group coordinator librdkafka found, as "host:port (broker id)". */
  coordinator(): string | undefined {
    for (const line of this.recorder.recent().reverse()) {
      const match = COORDINATOR_LINE.exec(line.message);
      if (match && match[1] === this.groupId) return `${match[2]} (broker ${match[3]})`;
    }
    return undefined;
  }

  /** Polls once (which is also what lets the group join progress); keeps what arrives for receive(). */
  async poll(waitMs: number, max = 100): Promise<void> {
    this.client.setDefaultConsumeTimeout(Math.max(1, Math.floor(waitMs)));
    const messages = await withTimeout<KafkaMessage[]>('consume', waitMs + 2000, (done) =>
      this.client.consume(max, (err, msgs) => done(err, msgs)),
    );
    this.#buffer.push(...messages);
  }

  /** Up to `max` messages, waiting at most `waitMs` for the first. */
  async receive(max: number, waitMs: number): Promise<KafkaMessage[]> {
    if (this.#buffer.length === 0 && waitMs > 0) await this.poll(waitMs, max);
    return this.#buffer.splice(0, max);
  }

  /** Puts messages taken but not processed back at the front, in order, for the next receive(). */
  unread(messages: readonly KafkaMessage[]): void {
    this.#buffer.unshift(...messages);
  }

  /** Commits `offsets` (each the offset of the next message to read); rejects if not confirmed in time. */
  commit(offsets: TopicPartitionOffset[], timeoutMs: number): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    return withTimeout('offset commit', timeoutMs, (done) =>
      (this.client as unknown as CommitCb).commitCb(offsets, (err) => done(err)),
    );
  }

  /** Per assigned partition: the group's committed offset, the broker's high watermark, and the difference. */
  async lag(timeoutMs: number): Promise<PartitionLag[]> {
    const assigned = this.assignment();
    if (assigned.length === 0) return [];
    const positions = new Map(this.client.position(assigned).map((p) => [`${p.topic}/${p.partition}`, p.offset]));
    const committed = await withTimeout<TopicPartitionOffset[]>('committed offsets', timeoutMs, (done) =>
      this.client.committed(assigned, timeoutMs, (err, tps) => done(err, tps as TopicPartitionOffset[])),
    );
    const committedBy = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c.offset]));
    return Promise.all(
      assigned.map(async ({ topic, partition }) => {
        const { highOffset } = await withTimeout<{ highOffset: number }>('watermarks', timeoutMs, (done) =>
          this.client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, w) => done(err, w)),
        );
        const key = `${topic}/${partition}`;
        // The group's lag counts from what it committed; librdkafka's negative offsets mean "none yet".
        const position = [committedBy.get(key), positions.get(key)].find((o) => o !== undefined && o >= 0) ?? 0;
        return { topic, partition, offset: position, high: highOffset, lag: Math.max(0, highOffset - position) };
      }),
    );
  }

  close(timeoutMs: number): Promise<void> {
    this.#buffer = [];
    return withTimeout('consumer close', timeoutMs, (done) => this.client.disconnect((err) => done(err)));
  }
}
