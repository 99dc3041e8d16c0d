/**
 * Server properties of a local multi-node KRaft cluster: every node is broker and controller,
 * the three controllers form a static quorum, and topics get Amazon MSK's replication defaults.
 */
import type { CertificatePaths } from './certs.js';
import { type BrokerPorts, portsFrom } from './connection.js';
import type { BrokerLayout } from './layout.js';
import { type BrokerState, brokerProperties } from './server-config.js';

/** The only size offered: MSK's replication defaults (factor 3, two in sync) need three brokers, and more cost CPU. */
export const CLUSTER_SIZE = 3;
/** Node i's four ports start at portBase + NODE_PORT_STRIDE·(i−1). */
export const NODE_PORT_STRIDE = 10;

export interface ClusterState extends BrokerState {
  nodes: number;
}

/**
 * What an MSK cluster over three availability zones sets by default (its "default configuration"),
 * so clients meet the same replication rules locally. `num.partitions=1`, `auto.create.topics.enable=false`
 * and `group.initial.rebalance.delay.ms=0` come from the single broker's properties.
 */
export const MSK_REPLICATION_DEFAULTS = {
  /** A topic created without a replication factor has a replica on every node. */
  'default.replication.factor': '3',
  /** acks=all needs two replicas in sync: one node may be down, two may not. */
  'min.insync.replicas': '2',
  'offsets.topic.replication.factor': '3',
  'transaction.state.log.replication.factor': '3',
  'transaction.state.log.min.isr': '2',
  // Kafka's own defaults, which the single broker lowers to 1.
  'share.coordinator.state.topic.replication.factor': '3',
  'share.coordinator.state.topic.min.isr': '2',
} as const;

export function nodeIds(state: Pick<ClusterState, 'nodes'>): number[] {
  return Array.from({ length: state.nodes }, (_, index) => index + 1);
}

export function nodePorts(portBase: number, id: number): BrokerPorts {
  return portsFrom(portBase + NODE_PORT_STRIDE * (id - 1));
}

/**
 * A static quorum (`controller.quorum.voters`, kraft.version 0): formatting needs no directory ids
 * and every node is formatted alike. Kafka 4.1 still supports it beside dynamic quorums (KIP-853).
 */
export function quorumVoters(state: ClusterState): string {
  const host = state.host ?? '127.0.0.1';
  return nodeIds(state)
    .map((id) => `${id}@${host}:${nodePorts(state.portBase, id).CONTROLLER}`)
    .join(',');
}

/** Node `id`'s server.properties: the single broker's listeners and settings, then the cluster's, then the user's. */
export function nodeProperties(
  layout: BrokerLayout,
  state: ClusterState,
  certs: CertificatePaths,
  id: number,
): Record<string, string> {
  const cluster = {
    'node.id': String(id),
    'controller.quorum.voters': quorumVoters(state),
    ...MSK_REPLICATION_DEFAULTS,
  };
  const host = state.host ?? '127.0.0.1';
  return brokerProperties(layout, nodePorts(state.portBase, id), certs, { ...cluster, ...state.props }, host);
}
