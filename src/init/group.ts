/**
 * A consumer group seen from outside, without joining it: its state (ListConsumerGroups, answered
 * by every broker), whether its coordinator answers, and its lag. The committed offsets are read
 * by an observer — a consumer that has the group's id but never subscribes, so it never joins or
 * rebalances the group — kept for the execution environment, so a warm health check opens no
 * connection; the high watermarks come from one ListOffsets request.
 *
 * Two admin calls that would do this crash the process instead, so they are not used:
 * - DescribeConsumerGroups: in @confluentinc/kafka-javascript 1.10 a group described with an error
 *   (coordinator loading or not available, not authorized) has no partition assignor, and the
 *   binding hands that NULL to V8 (src/common.cc, FromConsumerGroupDescription): SIGSEGV;
 * - ListConsumerGroupOffsets: in librdkafka 2.15 a NOT_COORDINATOR answer makes it ask the admin
 *   client's consumer group to look the coordinator up again, and an admin client has none
 *   (rd_kafka_handle_OffsetFetch → rd_kafka_cgrp_op with a NULL group): SIGSEGV.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { ManagedAdmin } from '../clients/admin.js';
import { rdkafka } from '../clients/binding.js';
import { coordinatorOf } from '../clients/consumer.js';
import type { NativeCalls } from '../clients/native.js';
import { COMMON_OVERRIDES } from '../clients/properties.js';
import { librdkafkaProperties, trackTokenClient } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Deadline } from '../retry/deadline.js';

const STATES = ['unknown', 'preparing-rebalance', 'completing-rebalance', 'stable', 'dead', 'empty'];

/**
 * A consumer group seen from outside, without joining it.
 * @inline
 */
export interface GroupView {
  /** The group's id. */
  id: string;
  /** From the group listing (diagnose only); `none` when no broker knows the group. */
  state?: string;
  /** The coordinator answered an offset fetch for the group. */
  coordinator: 'available';
  /** Which broker it is, as "host:port (broker id)", when librdkafka's log named it. */
  coordinatorBroker?: string;
  /** Messages behind the high watermarks of its topics, from its committed offsets. */
  lag: number;
}

export type Partition = { topic: string; partition: number; offset?: number };

export class GroupObserver {
  readonly groupId: string;
  readonly recorder: ClientLogRecorder;
  readonly #client: RdKafka.KafkaConsumer;
  readonly #calls: NativeCalls;
  #connected = false;

  constructor(config: KafkaConfig, groupId: string, recorder: ClientLogRecorder, calls: NativeCalls) {
    this.groupId = groupId;
    this.recorder = recorder;
    this.#calls = calls;
    this.#client = new rdkafka.KafkaConsumer(
      {
        ...librdkafkaProperties(config, 'consumer'),
        ...COMMON_OVERRIDES,
        'group.id': groupId,
        'enable.auto.commit': false,
        // FindCoordinator's answers are how "no coordinator" gets explained.
        debug: 'cgrp',
      } as RdKafka.ConsumerGlobalConfig,
      {},
    );
    recorder.follow(this.#client);
    trackTokenClient(config, this.#client);
  }

  async #connect(deadline: Deadline): Promise<void> {
    if (this.#connected && this.#client.isConnected()) return;
    await this.#calls.run<RdKafka.Metadata>('connecting the group observer', deadline.remainingMs(), (timeout, done) =>
      this.#client.connect({ timeout, allTopics: false }, done),
    );
    this.#connected = true;
  }

  /**
   * The offset fetch goes to the group's coordinator: it fails, or times out, when there is none.
   * A coordinator that is moving or loading (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS: usual on
   * a new cluster or after a broker restart) is asked again while there is time.
   */
  async #committed(partitions: Partition[], deadline: Deadline): Promise<Partition[]> {
    for (;;) {
      try {
        return await this.#calls.run<Partition[]>('committed offsets', deadline.remainingMs(), (timeout, done) =>
          this.#client.committed(partitions, timeout, done),
        );
      } catch (error) {
        const { kind } = classifyKafkaError(error);
        if (kind !== 'transient' || deadline.remainingMs() < 500) throw error;
        await sleep(250);
      }
    }
  }

  /** The partitions of `topics` in `metadata`: what the group's lag is measured over. */
  static partitionsOf(metadata: RdKafka.Metadata, topics: readonly string[]): Partition[] {
    return metadata.topics
      .filter((t) => topics.includes(t.name))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.id })));
  }

  /**
   * The group's coordinator, committed offsets and lag over `partitions`: the offset fetch and the
   * high watermarks requested together. With `withState`, also the group's state from a group
   * listing, which every broker answers (diagnose asks; the scheduled health check does not).
   */
  async inspect(
    admin: ManagedAdmin,
    partitions: Partition[],
    deadline: Deadline,
    options: { withState?: boolean } = {},
  ): Promise<GroupView> {
    const listing = options.withState ? admin.listGroups(deadline.remainingMs()) : undefined;
    await this.#connect(deadline);
    const [committed, latest] = await Promise.all([
      this.#committed(partitions, deadline),
      this.#calls.run<{ topic: string; partition: number; offset: number }[]>(
        'high watermarks',
        deadline.remainingMs(),
        (timeout, done) =>
          admin.client.listOffsets(
            partitions.map(({ topic, partition }) => ({ topic, partition, offset: rdkafka.OffsetSpec.LATEST })),
            { timeout },
            done,
          ),
      ),
    ]);
    const high = new Map(latest.map((l) => [`${l.topic}/${l.partition}`, l.offset]));
    let lag = 0;
    for (const { topic, partition, offset } of committed) {
      lag += Math.max(0, (high.get(`${topic}/${partition}`) ?? 0) - Math.max(offset ?? 0, 0));
    }
    const listed = listing && (await listing).groups.find((g) => g.groupId === this.groupId);
    const broker = coordinatorOf(this.recorder, this.groupId);
    return {
      id: this.groupId,
      ...(listing && { state: listed ? (STATES[listed.state] ?? 'unknown') : 'none' }),
      coordinator: 'available',
      ...(broker && { coordinatorBroker: broker }),
      lag,
    };
  }

  close(timeoutMs: number): Promise<void> {
    if (!this.#client.isConnected()) return Promise.resolve();
    this.#connected = false;
    return this.#calls.run<void>('closing the group observer', timeoutMs, (_t, done) =>
      this.#client.disconnect((err) => done(err)),
    );
  }
}
