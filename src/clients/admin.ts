/**
 * The admin client, on the binding's RdKafka API: standalone (created synchronously, no request
 * until asked), or sharing a producer's connections (AdminClient.createFrom). Its requests each
 * hold a pool thread until they answer or time out, so each goes through NativeCalls.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { tokenSourceOf, trackTokenClient } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { rdkafka } from './binding.js';
import type { NativeCalls } from './native.js';
import type { ManagedProducer } from './producer.js';
import { adminProperties } from './properties.js';
import { inSlices, type MetadataClient, metadataWhenReachable, type WaitContext } from './wait.js';

/** The binding's admin client, with the metadata request and events its typings leave out. */
type AdminClient = RdKafka.IAdminClient &
  MetadataClient & {
    on(event: 'event.log', listener: (line: { severity: number; fac: string; message: string }) => void): unknown;
    on(event: 'event.error', listener: (error: { message: string }) => void): unknown;
    on(event: 'event.stats', listener: (stats: { message: string }) => void): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
  };

/**
 * A topic to create.
 * @inline
 */
export interface NewTopic {
  /** The topic's name. */
  topic: string;
  /** Unset: the broker's default (num.partitions). */
  numPartitions?: number;
  /** Unset: the broker's default (default.replication.factor). */
  replicationFactor?: number;
}

/**
 * The admin client KafkaInitializer.admin() hands out: cluster metadata, topics and groups, each
 * request bounded by a timeout.
 */
export class ManagedAdmin {
  /** The binding's admin client. Its calls are not bounded by a deadline: prefer the methods here. */
  readonly client: AdminClient;
  /** The recorder of the client whose connections this admin uses. */
  readonly recorder: ClientLogRecorder;
  /** True when it shares a producer's connections (and must not be closed on its own). */
  readonly shared: boolean;
  readonly #calls: NativeCalls;
  /**
   * Set while a standalone AWS_MSK_IAM client may not have its first token yet. An admin request
   * (DescribeTopics, CreateTopics, ListGroups) made before it has one waits out its whole timeout
   * although the token arrives milliseconds later (measured with librdkafka 2.12: 2 s of 2 s, then
   * 4 ms); a metadata request waits for the token as it should, so one goes first.
   */
  #awaitingToken: boolean;

  private constructor(
    client: AdminClient,
    recorder: ClientLogRecorder,
    calls: NativeCalls,
    shared: boolean,
    awaitingToken = false,
  ) {
    this.client = client;
    this.recorder = recorder;
    this.#calls = calls;
    this.shared = shared;
    this.#awaitingToken = awaitingToken;
  }

  /** A client of its own: created at once, connecting in the background. */
  static standalone(config: KafkaConfig, recorder: ClientLogRecorder, calls: NativeCalls): ManagedAdmin {
    const client = rdkafka.AdminClient.create(adminProperties(config) as RdKafka.GlobalConfig) as AdminClient;
    recorder.follow(client);
    trackTokenClient(config, client);
    client.on('event.error', (error) => recorder.error(`Error: ${error.message}`, { fac: 'ERROR' }));
    return new ManagedAdmin(client, recorder, calls, false, tokenSourceOf(config) !== undefined);
  }

  /** An admin client over `producer`'s connections: no new connection, no new thread. */
  static sharing(producer: ManagedProducer, calls: NativeCalls): ManagedAdmin {
    const client = rdkafka.AdminClient.createFrom(producer.client) as AdminClient;
    return new ManagedAdmin(client, producer.recorder, calls, true);
  }

  /**
   * Cluster metadata, waiting for a reachable broker in slices until `ctx.deadline`: every topic,
   * or with `allTopics: false` only the brokers (and topics this client has produced to).
   */
  metadataWhenReachable(
    operation: string,
    ctx: Omit<WaitContext, 'calls'>,
    options: { allTopics?: boolean } = {},
  ): Promise<RdKafka.Metadata> {
    return metadataWhenReachable(this.client, { operation, ...options }, { ...ctx, calls: this.#calls });
  }

  /**
   * `topics` described (partitions, leaders, replicas and in-sync replicas, an error for each one
   * missing or denied), waiting for a reachable broker in slices until `ctx.deadline`. Cheaper than
   * metadata: one request about these topics only, and nothing about the others converted for JS.
   */
  describeTopicsWhenReachable(operation: string, topics: string[], ctx: Omit<WaitContext, 'calls'>) {
    return inSlices(operation, { ...ctx, calls: this.#calls }, (timeoutMs) => this.describeTopics(topics, timeoutMs));
  }

  /** One metadata request of at most `timeoutMs`. */
  metadata(operation: string, timeoutMs: number, options: { topic?: string; allTopics?: boolean } = {}) {
    return this.#calls.run<RdKafka.Metadata>(operation, timeoutMs, (timeout, done) =>
      this.client.getMetadata({ allTopics: options.topic === undefined, ...options, timeout }, done),
    );
  }

  /** See #awaitingToken: a brokers-only metadata request first; resolves with what is left of `timeoutMs`. */
  async #afterFirstToken(timeoutMs: number): Promise<number> {
    if (!this.#awaitingToken) return timeoutMs;
    const started = Date.now();
    await this.metadata('waiting for the first AWS_MSK_IAM token', timeoutMs, { allTopics: false });
    this.#awaitingToken = false;
    return Math.max(1, timeoutMs - (Date.now() - started));
  }

  /** `topics` described (partitions, leaders, replicas, in-sync replicas, or an error each), within `timeoutMs`. */
  async describeTopics(topics: string[], timeoutMs: number) {
    const left = await this.#afterFirstToken(timeoutMs);
    return this.#calls.run<RdKafka.TopicDescription[]>('describing topics', left, (timeout, done) =>
      this.client.describeTopics(topics, { timeout }, done),
    );
  }

  /** Creates each topic; resolves with the error of each that failed (TOPIC_ALREADY_EXISTS included). */
  async createTopics(
    topics: NewTopic[],
    timeoutMs: number,
  ): Promise<
    {
      /** The topic's name. */
      topic: string;
      /** Why it was not created; unset when it was. */
      error?: unknown;
    }[]
  > {
    timeoutMs = await this.#afterFirstToken(timeoutMs);
    return Promise.all(
      topics.map((topic) =>
        this.#calls
          .run<void>(`creating topic ${topic.topic}`, timeoutMs, (timeout, done) =>
            this.client.createTopic(
              {
                topic: topic.topic,
                num_partitions: topic.numPartitions ?? -1,
                replication_factor: topic.replicationFactor ?? -1,
              },
              timeout,
              (err) => done(err),
            ),
          )
          .then(
            () => ({ topic: topic.topic }),
            (error: unknown) => ({ topic: topic.topic, error }),
          ),
      ),
    );
  }

  /** The cluster's consumer groups, within `timeoutMs`. */
  async listGroups(timeoutMs: number) {
    const left = await this.#afterFirstToken(timeoutMs);
    return this.#calls.run<{
      /** Each group's id, state and protocol type. */
      groups: RdKafka.GroupOverview[];
      /** The errors of brokers that could not list their groups. */
      errors: unknown[];
    }>('listing consumer groups', left, (timeout, done) => this.client.listGroups({ timeout }, done));
  }

  /** Destroys a standalone client (synchronous in the binding); does nothing for a shared one. */
  close(): void {
    if (!this.shared) this.client.disconnect();
  }
}
