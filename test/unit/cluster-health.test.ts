/**
 * Health findings from cluster metadata: what a partition's leader and in-sync replicas mean for
 * writes; and the health check's topic descriptions read as that metadata.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { assessCluster, metadataOfDescriptions } from '../../src/init/cluster-health.js';

const brokers = (...ids: number[]) => ids.map((id) => ({ id, host: '10.0.0.1', port: 9090 + id }));
const partition = (id: number, leader: number, replicas: number[], isrs: number[]) => ({ id, leader, replicas, isrs });
const known = new Map([
  [1, '10.0.0.1:9091'],
  [2, '10.0.0.1:9092'],
  [3, '10.0.0.1:9093'],
]);

function metadata(live: number[], partitions: ReturnType<typeof partition>[]): RdKafka.Metadata {
  return {
    orig_broker_id: live[0] ?? -1,
    orig_broker_name: 'b',
    brokers: brokers(...live),
    topics: [
      { name: 'orders', partitions },
      { name: 'other', partitions: [partition(0, 1, [1, 2, 3], [1])] },
    ],
  };
}

describe('assessCluster', () => {
  it('finds nothing when every replica of the configured topics is in sync', () => {
    const result = assessCluster(metadata([1, 2, 3], [partition(0, 1, [1, 2, 3], [1, 2, 3])]), {
      topics: ['orders'],
      minInsyncReplicas: 2,
      known,
    });
    expect(result).toEqual({ brokers: [1, 2, 3], missingBrokers: [], findings: [] });
  });

  it('calls a replica out of sync degraded, naming the broker, and a broker the metadata lost degraded too', () => {
    const result = assessCluster(metadata([1, 2], [partition(0, 1, [1, 2, 3], [1, 2])]), {
      topics: ['orders'],
      minInsyncReplicas: 2,
      known,
    });
    expect(result.missingBrokers).toEqual(['broker 3 (10.0.0.1:9093)']);
    expect(result.findings).toEqual([
      {
        level: 'degraded',
        missing: [3],
        reason: expect.stringMatching(/^broker 3 \(10\.0\.0\.1:9093\) is not in the cluster/),
      },
      { level: 'degraded', reason: 'orders[0] has 2 of 3 replicas in sync (broker 3 (10.0.0.1:9093) not in sync)' },
    ]);
  });

  it('calls fewer in-sync replicas than min.insync.replicas unhealthy: acks=all writes fail', () => {
    const result = assessCluster(metadata([1, 2, 3], [partition(0, 1, [1, 2], [1])]), {
      topics: ['orders'],
      minInsyncReplicas: 2,
      known,
    });
    expect(result.findings).toEqual([
      {
        level: 'unhealthy',
        reason: expect.stringMatching(
          /^orders\[0\] has 1 in-sync replica \(broker 1\) \(broker 2 \(10\.0\.0\.1:9092\) not in sync\), fewer than min\.insync\.replicas 2: every acks=all write to it fails with NOT_ENOUGH_REPLICAS/,
        ),
      },
    ]);
  });

  it('calls a partition without a leader unhealthy, and only judges the configured topics', () => {
    const result = assessCluster(metadata([1], [partition(0, -1, [2, 3], [2])]), {
      topics: ['orders'],
      minInsyncReplicas: 1,
      known: new Map(),
    });
    expect(result.findings.map((f) => [f.level, f.reason.slice(0, 28)])).toEqual([
      ['degraded', 'broker 2, broker 3 are not i'],
      ['unhealthy', 'orders[0] has no leader: its'],
    ]);
  });
});

describe('metadataOfDescriptions', () => {
  const node = (id: number, host?: string) => ({ id, ...(host && { host, port: 9090 + id }) }) as RdKafka.Node;
  const description = (name: string, partitions: RdKafka.TopicPartitionInfo[], error?: unknown) =>
    ({ name, isInternal: false, partitions, ...(error !== undefined && { error }) }) as RdKafka.TopicDescription;

  it('lists as brokers only the replicas the answer gave an address for: one without is not in the cluster', () => {
    // Broker 3 is down: librdkafka names it by id alone among the replicas, and it is out of the ISR.
    const { metadata, failed } = metadataOfDescriptions([
      description('orders', [
        {
          partition: 0,
          leader: node(1, 'b1'),
          replicas: [node(1, 'b1'), node(2, 'b2'), node(3)],
          isr: [node(1, 'b1'), node(2, 'b2')],
        },
        { partition: 1, leader: null, replicas: [node(3)], isr: [] },
      ]),
    ]);

    expect(failed).toEqual([]);
    expect(metadata.brokers).toEqual([
      { id: 1, host: 'b1', port: 9091 },
      { id: 2, host: 'b2', port: 9092 },
    ]);
    expect(metadata.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { id: 0, leader: 1, replicas: [1, 2, 3], isrs: [1, 2] },
          { id: 1, leader: -1, replicas: [3], isrs: [] },
        ],
      },
    ]);
    const findings = assessCluster(metadata, { topics: ['orders'], minInsyncReplicas: 2, known }).findings;
    expect(findings.map((f) => f.level)).toEqual(['degraded', 'degraded', 'unhealthy']);
    expect(findings[0]?.reason).toMatch(/^broker 3 \(10\.0\.0\.1:9093\) is not in the cluster/);
    expect(findings[1]?.reason).toMatch(/^orders\[0\] has 2 of 3 replicas in sync/);
    expect(findings[2]?.reason).toMatch(/^orders\[1\] has no leader/);
  });

  it('sets topics described with an error apart, with their error', () => {
    const missing = { code: 3, message: 'Broker: Unknown topic or partition' };
    const { metadata, failed } = metadataOfDescriptions([
      description('orders', [{ partition: 0, leader: node(1, 'b1'), replicas: [node(1, 'b1')], isr: [node(1, 'b1')] }]),
      description('typo', [], missing),
    ]);

    expect(metadata.topics.map((t) => t.name)).toEqual(['orders']);
    expect(failed).toEqual([{ name: 'typo', error: missing }]);
  });
});
