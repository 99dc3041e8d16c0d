/** The local cluster's node properties, bootstrap lists and coordinator look-ups, without starting a JVM. */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { certificatePaths } from '../../scripts/kafka/certs.js';
import { type ClusterState, nodeIds, nodeProperties, quorumVoters } from '../../scripts/kafka/cluster-config.js';
import { listenerConnections, portsFrom } from '../../scripts/kafka/connection.js';
import { clusterLayout } from '../../scripts/kafka/layout.js';
import { findGroupCoordinator } from '../../scripts/kafka/probe.js';
import { javaStringHash, offsetsPartitionFor } from '../support/cluster.js';

const certs = certificatePaths('/certs');
const state: ClusterState = {
  clusterId: 'abc',
  portBase: 21092,
  props: {},
  scram: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' },
  host: '127.0.0.1',
  nodes: 3,
};
const properties = (id: number, props: Record<string, string> = {}) =>
  nodeProperties(clusterLayout('unit').node(id), { ...state, props }, certs, id);

describe('the properties of a cluster node', () => {
  it('give node i its own id, listeners ten ports apart, and its own data directory', () => {
    const node2 = properties(2);
    expect(node2['node.id']).toBe('2');
    expect(node2.listeners).toBe(
      'PLAINTEXT://127.0.0.1:21102,SSL://127.0.0.1:21103,SASL_SSL://127.0.0.1:21104,CONTROLLER://127.0.0.1:21105',
    );
    expect(node2['log.dirs']).toMatch(/brokers\/unit\/node-2\/data$/);
    expect(properties(3)['log.dirs']).toMatch(/brokers\/unit\/node-3\/data$/);
  });

  it('name the same three controllers as voters on every node', () => {
    const voters = '1@127.0.0.1:21095,2@127.0.0.1:21105,3@127.0.0.1:21115';
    expect(quorumVoters(state)).toBe(voters);
    for (const id of [1, 2, 3]) expect(properties(id)['controller.quorum.voters']).toBe(voters);
  });

  it("replace the single broker's replication factor 1 with MSK's defaults", () => {
    expect(properties(1)).toMatchObject({
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'num.partitions': '1',
      'auto.create.topics.enable': 'false',
      'group.initial.rebalance.delay.ms': '0',
    });
  });

  it('let --prop override them', () => {
    expect(properties(1, { 'min.insync.replicas': '1' })['min.insync.replicas']).toBe('1');
  });
});

describe("the properties of a split cluster's nodes (MSK's shape)", () => {
  const split: ClusterState = { ...state, topology: 'split' };
  const splitProperties = (id: number) => nodeProperties(clusterLayout('unit').node(id), split, certs, id);

  it('make nodes 1..3 brokers only, with client listeners and no CONTROLLER listener', () => {
    const broker = splitProperties(2);
    expect(broker['process.roles']).toBe('broker');
    expect(broker.listeners).toBe('PLAINTEXT://127.0.0.1:21102,SSL://127.0.0.1:21103,SASL_SSL://127.0.0.1:21104');
    expect(broker['controller.listener.names']).toBe('CONTROLLER');
    expect(broker['min.insync.replicas']).toBe('2');
  });

  it('make 101..103 controllers only, on the ports after the brokers, named as the voters everywhere', () => {
    expect(nodeIds(split)).toEqual([1, 2, 3, 101, 102, 103]);
    const voters = '101@127.0.0.1:21125,102@127.0.0.1:21135,103@127.0.0.1:21145';
    expect(quorumVoters(split)).toBe(voters);
    const controller = splitProperties(102);
    expect(controller).toMatchObject({
      'process.roles': 'controller',
      'node.id': '102',
      listeners: 'CONTROLLER://127.0.0.1:21135',
      'controller.quorum.voters': voters,
    });
    expect(controller['advertised.listeners']).toBeUndefined();
    // Topics are created by the controllers: MSK's replication defaults are theirs.
    expect(controller['default.replication.factor']).toBe('3');
    expect(controller['min.insync.replicas']).toBe('2');
    const withProp = nodeProperties(clusterLayout('unit').node(101), { ...split, props: { a: 'b' } }, certs, 101);
    expect(withProp.a).toBe('b');
    expect(splitProperties(1)['controller.quorum.voters']).toBe(voters);
  });

  it('leave a cluster without a topology combined', () => {
    expect(nodeIds(state)).toEqual([1, 2, 3]);
    expect(properties(1)['process.roles']).toBe('broker,controller');
  });
});

describe('the connection of a cluster', () => {
  it('names every node as a bootstrap server of each listener', () => {
    const listeners = listenerConnections([portsFrom(21092), portsFrom(21102), portsFrom(21112)], certs, state);
    expect(listeners.PLAINTEXT.bootstrapServers).toBe('127.0.0.1:21092,127.0.0.1:21102,127.0.0.1:21112');
    expect(listeners.SASL_SSL.bootstrapServers).toBe('127.0.0.1:21094,127.0.0.1:21104,127.0.0.1:21114');
  });

  it('of a single broker still names just that broker', () => {
    expect(listenerConnections([portsFrom(19092)], certs, state).SSL.bootstrapServers).toBe('127.0.0.1:19093');
  });
});

describe("a group's __consumer_offsets partition", () => {
  it("hashes the group id as Java's String.hashCode does", () => {
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
  });

  it('is abs(hash) mod 50, with Integer.MIN_VALUE mapped to 0 as Kafka does', () => {
    expect(offsetsPartitionFor('hello')).toBe(99162322 % 50);
    expect(offsetsPartitionFor('polygenelubricants')).toBe(0);
  });
});

describe('FindCoordinator v3', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends a flexible request for the group and reads node id, host and port from the answer', async () => {
    let request: Buffer | undefined;
    server = createServer((socket) =>
      socket.once('data', (data) => {
        request = data;
        // size, correlation id 1, no tags | throttle 0, error 0, null message, node 2, "127.0.0.1", 21102, no tags
        const host = Buffer.from('127.0.0.1');
        const body = Buffer.concat([
          Buffer.from([0, 0, 0, 1, 0]),
          Buffer.from([0, 0, 0, 0, 0, 0, 0]),
          Buffer.from([0, 0, 0, 2, host.length + 1]),
          host,
          Buffer.from([0, 0, 0x52, 0x6e, 0]),
        ]);
        const size = Buffer.alloc(4);
        size.writeInt32BE(body.length);
        socket.end(Buffer.concat([size, body]));
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    const answer = await findGroupCoordinator({ host: '127.0.0.1', port }, 'my-group');

    expect(answer).toEqual({ errorCode: 0, errorMessage: null, nodeId: 2, host: '127.0.0.1', port: 21102 });
    // api key 10, version 3, then (after client id and an empty tag section) "my-group" as a compact string
    expect(request?.readInt16BE(4)).toBe(10);
    expect(request?.readInt16BE(6)).toBe(3);
    expect(request?.subarray(-11).toString('hex')).toBe(`09${Buffer.from('my-group').toString('hex')}0000`);
  });
});
