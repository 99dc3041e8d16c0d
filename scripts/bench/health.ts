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

interface Probe {
  ms: number;
  opened: number;
}

async function probe(port: number, call: () => Promise<unknown>): Promise<Probe> {
  const started = performance.now();
  const { opened } = await newConnections(port, call);
  return { ms: performance.now() - started, opened };
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
      const contenders = {
        lambdaKafka: () =>
          probe(ctx.brokerPort, async () => {
            const status = await lambdaKafka.invoke({});
            if (status.status !== 'healthy') throw new Error(`lambda-kafka's health check: ${status.reasons[0]}`);
          }),
        kafkajs: () =>
          probe(ctx.brokerPort, async () => {
            await admin.fetchTopicMetadata({ topics: [topic] });
            await admin.fetchOffsets({ groupId, topics: [topic] });
            await admin.fetchTopicOffsets(topic);
          }),
      };
      const cold = await interleave(1, contenders);
      await interleave(WARM_UP - 1, contenders);
      const samples = await interleave(count, contenders, ctx.progress);
      const figure = (summary: (values: number[]) => number, pick: (p: Probe) => number) => ({
        lambdaKafka: summary((samples.lambdaKafka ?? []).map(pick)),
        kafkajs: summary((samples.kafkajs ?? []).map(pick)),
      });
      const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
      return {
        rows: [
          {
            measurement: 'warm health check with a group, p50',
            unit: 'ms ↓',
            values: figure(median, (p) => p.ms),
            rounds: count,
          },
          {
            measurement: 'warm health check, new connections per call',
            unit: 'count ↓',
            values: figure(mean, (p) => p.opened),
            rounds: count,
          },
        ],
        notes: [
          `health check: ${WARM_UP} calls each first (the cold one included) not counted; lambda-kafka's figure is a whole invocation (EMF included); new connections: TCP connections to the broker's port that appeared during the call, from /proc/net/tcp (any state, so one opened and closed within the call counts), averaged over the calls; the first, cold call opened ${cold.lambdaKafka?.[0]?.opened} (lambda-kafka) and ${cold.kafkajs?.[0]?.opened} (KafkaJS, its admin connected before).`,
        ],
      };
    } finally {
      await Promise.all([lambdaKafka.shutdown(), admin.disconnect()]);
    }
  });
}
