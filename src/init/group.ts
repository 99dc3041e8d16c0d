/**
 * A consumer group seen from outside, without joining it: its state (ListConsumerGroups, answered
 * by every broker), whether its coordinator answers, and its lag. The offsets are read by a consumer
 * that has the group's id but never subscribes, so it never joins or rebalances the group.
 *
 * Two admin calls that would do this crash the process instead, so they are not used:
 * - DescribeConsumerGroups: in @confluentinc/kafka-javascript 1.10 a group described with an error
 *   (coordinator loading or not available, not authorized) has no partition assignor, and the
 *   binding hands that NULL to V8 (src/common.cc, FromConsumerGroupDescription): SIGSEGV;
 * - ListConsumerGroupOffsets (admin fetchOffsets): in librdkafka 2.15 a NOT_COORDINATOR answer
 *   makes it ask the admin client's consumer group to look the coordinator up again, and an admin
 *   client has none (rd_kafka_handle_OffsetFetch → rd_kafka_cgrp_op with a NULL group): SIGSEGV.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type KafkaJS, RdKafka } from '@confluentinc/kafka-javascript';
import { librdkafkaProperties } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { classifyKafkaError } from '../errors/classify.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import { COMMON_OVERRIDES } from './clients.js';

const STATES = ['unknown', 'preparing-rebalance', 'completing-rebalance', 'stable', 'dead', 'empty'];

export interface GroupView {
  id: string;
  /** From the group listing; `none` when no broker knows the group. */
  state: string;
  /** The coordinator answered an offset fetch for the group. */
  coordinator: 'available';
  /** Messages behind the high watermarks of its topics, from its committed offsets. */
  lag: number;
}

type Partition = { topic: string; partition: number; offset?: number };

function call<T>(start: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}

/**
 * The offset fetch goes to the group's coordinator: it fails, or times out, when there is none.
 * A coordinator that is moving or loading (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS: usual on
 * a new cluster or after a broker restart) is asked again while there is time.
 */
async function committedOffsets(
  observer: RdKafka.KafkaConsumer,
  partitions: Partition[],
  timeoutMs: () => number,
): Promise<Partition[]> {
  for (;;) {
    try {
      return await call<Partition[]>((done) => observer.committed(partitions, timeoutMs(), done));
    } catch (error) {
      const { kind } = classifyKafkaError(error);
      if (kind !== 'transient' || timeoutMs() < 500) throw error;
      await sleep(250);
    }
  }
}

export async function inspectGroup(
  admin: KafkaJS.Admin,
  config: KafkaConfig,
  groupId: string,
  recorder: ClientLogRecorder,
  timeoutMs: () => number,
): Promise<GroupView> {
  const { groups } = await admin.listGroups({ timeout: timeoutMs() });
  const listed = groups.find((g) => g.groupId === groupId);
  const observer = new RdKafka.KafkaConsumer(
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
  recorder.follow(observer);
  const connecting = call<RdKafka.Metadata>((done) => observer.connect({ timeout: timeoutMs() }, done));
  try {
    const metadata = await connecting;
    const partitions: Partition[] = metadata.topics
      .filter((t) => config.topics.names.includes(t.name))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.id })));
    const committed = await committedOffsets(observer, partitions, timeoutMs);
    let lag = 0;
    for (const { topic, partition, offset } of committed) {
      const { highOffset } = await call<RdKafka.WatermarkOffsets>((done) =>
        observer.queryWatermarkOffsets(topic, partition, timeoutMs(), done),
      );
      lag += Math.max(0, highOffset - Math.max(offset ?? 0, 0));
    }
    return { id: groupId, state: listed ? (STATES[listed.state] ?? 'unknown') : 'none', coordinator: 'available', lag };
  } finally {
    connecting.then(
      () => observer.disconnect(),
      () => {},
    );
  }
}
