/**
 * Scenario 4: the warm health check of a function with a consumer group. lambda-kafka: the
 * health-check function (checkHealth() through handler()); KafkaJS: the same probe with its admin
 * client (fetchTopicMetadata + fetchOffsets + fetchTopicOffsets), connected once. The raw binding
 * has no such probe to compare (its offset-fetch admin call crashes on NOT_COORDINATOR: src/init/group.ts).
 * New connections per call are counted from the kernel's socket tables (connections.ts).
 */
import { newConnections } from './connections.js';
import { type BenchContext, rounds, uniqueName, VALUE, withTopic } from './context.js';
import { healthFunction, lambdaEnv } from './lambda.js';
import { kafkaJs, preload } from './peers.js';
import type { ScenarioResult } from './report.js';
import { interleave } from './rounds.js';
import { median } from './stats.js';

const WARM_UP = 3;
/** Calls per client between two reads of the socket tables. */
const COUNTED_CALLS = 10;

type Call = () => Promise<unknown>;

async function timed(call: Call): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

/**
 * New connections per call, counted apart from the timed rounds: reading /proc/net/tcp walks the
 * kernel's whole connection table (milliseconds with 24 GiB of memory) and slowed the calls timed
 * next to it. A connection opened and closed within the calls still shows (TIME_WAIT).
 */
async function connectionsPerCall(port: number, call: Call): Promise<number> {
  const { opened } = await newConnections(port, async () => {
    for (let i = 0; i < COUNTED_CALLS; i++) await call();
  });
  return opened / COUNTED_CALLS;
}

export function runHealth(ctx: BenchContext): Promise<ScenarioResult> {
  return withTopic(ctx, 'bench-health', async (topic) => {
    const count = rounds(ctx, 50, 15);
    const groupId = uniqueName('bench-health-group');
    await preload(ctx, topic, 30, VALUE);
    const admin = kafkaJs(ctx).admin();
    await admin.connect();
    // A group with committed offsets, as a consume function leaves it.
    await admin.setOffsets({ groupId, topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '5' })) });
    const lambdaKafka = healthFunction(lambdaEnv(ctx, { KAFKA_TOPICS: topic, KAFKA_CONSUMER_GROUP_ID: groupId }));
    ctx.progress(`health: ${count} rounds of a warm health check with group ${groupId}`);
    try {
      const calls: Record<'lambdaKafka' | 'kafkajs', Call> = {
        lambdaKafka: async () => {
          const status = await lambdaKafka.invoke({});
          if (status.status !== 'healthy') throw new Error(`lambda-kafka's health check: ${status.reasons[0]}`);
        },
        kafkajs: async () => {
          await admin.fetchTopicMetadata({ topics: [topic] });
          await admin.fetchOffsets({ groupId, topics: [topic] });
          await admin.fetchTopicOffsets(topic);
        },
      };
      const cold = {
        lambdaKafka: (await newConnections(ctx.brokerPort, calls.lambdaKafka)).opened,
        kafkajs: (await newConnections(ctx.brokerPort, calls.kafkajs)).opened,
      };
      const contenders = { lambdaKafka: () => timed(calls.lambdaKafka), kafkajs: () => timed(calls.kafkajs) };
      await interleave(WARM_UP - 1, contenders);
      const samples = await interleave(count, contenders, ctx.progress);
      const opened = {
        lambdaKafka: await connectionsPerCall(ctx.brokerPort, calls.lambdaKafka),
        kafkajs: await connectionsPerCall(ctx.brokerPort, calls.kafkajs),
      };
      return {
        rows: [
          {
            measurement: 'warm health check with a group, p50',
            unit: 'ms ↓',
            values: { lambdaKafka: median(samples.lambdaKafka ?? []), kafkajs: median(samples.kafkajs ?? []) },
            rounds: count,
          },
          {
            measurement: 'warm health check, new connections per call',
            unit: 'count ↓',
            values: opened,
            rounds: COUNTED_CALLS,
          },
        ],
        notes: [
          `health check: ${WARM_UP} calls each first (the cold one included) not counted; lambda-kafka's figure is a whole invocation (EMF included); new connections: TCP connections to the broker's port that appeared during the call, from /proc/net/tcp (any state, so one opened and closed within the calls counts), counted over ${COUNTED_CALLS} more calls of each client after the timed rounds (reading the tables during the rounds slowed the calls next to it); the first, cold call opened ${cold.lambdaKafka} (lambda-kafka) and ${cold.kafkajs} (KafkaJS, its admin connected before).`,
        ],
      };
    } finally {
      await Promise.all([lambdaKafka.shutdown(), admin.disconnect()]);
    }
  });
}
