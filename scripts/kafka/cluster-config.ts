/**
 * Server properties of a local multi-node KRaft cluster, in one of two topologies: `combined`, where
 * every node is broker and controller, or `split`, as Amazon MSK runs KRaft: three brokers and, apart
 * from them, three controllers that clients never reach. The three controllers form a static quorum,
 * and topics get MSK's replication defaults.
 */
import type { CertificatePaths } from './certs.js';
import { type BrokerPorts, portsFrom } from './connection.js';
import type { BrokerLayout } from './layout.js';
import { type BrokerState, brokerProperties } from './server-config.js';

/** The only size offered: MSK's replication defaults (factor 3, two in sync) need three brokers, and more cost CPU. */
export const CLUSTER_SIZE = 3;
/** Node i's four ports start at portBase + NODE_PORT_STRIDE·(i−1). */
export const NODE_PORT_STRIDE = 10;

/** The id of dedicated controller j (1-based) of a `split` cluster: apart from the brokers' 1..3, as in logs. */
export const CONTROLLER_ID_BASE = 100;

/**
 * `combined`: nodes 1..3 are each broker and controller (the default, and what earlier clusters were);
 * `split`: brokers 1..3, and controllers 101..103 with only a CONTROLLER listener (MSK's shape).
 */
export type Topology = 'combined' | 'split';

export interface ClusterState extends BrokerState {
  nodes: number;
  /** Absent in the state of a cluster started before topologies existed: `combined`. */
  topology?: Topology;
}

export function topologyOf(state: Pick<ClusterState, 'topology'>): Topology {
  return state.topology ?? 'combined';
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

/** The brokers' node ids: 1..nodes, in either topology. */
export function brokerIds(state: Pick<ClusterState, 'nodes'>): number[] {
  return Array.from({ length: state.nodes }, (_, index) => index + 1);
}

/** The controllers' node ids: the brokers themselves when `combined`, 101..103 when `split`. */
export function controllerIds(state: Pick<ClusterState, 'nodes' | 'topology'>): number[] {
  const brokers = brokerIds(state);
  return topologyOf(state) === 'split' ? brokers.map((id) => CONTROLLER_ID_BASE + id) : brokers;
}

/** Every process of the cluster: its brokers, then its dedicated controllers (none when `combined`). */
export function nodeIds(state: Pick<ClusterState, 'nodes' | 'topology'>): number[] {
  const brokers = brokerIds(state);
  return topologyOf(state) === 'split' ? [...brokers, ...controllerIds(state)] : brokers;
}

export function isController(state: Pick<ClusterState, 'nodes' | 'topology'>, id: number): boolean {
  return controllerIds(state).includes(id);
}

export function isBroker(state: Pick<ClusterState, 'nodes'>, id: number): boolean {
  return brokerIds(state).includes(id);
}

/**
 * Node i's ports start at portBase + 10·(i−1); dedicated controller 100+j's at those of node 3+j
 * (it listens on CONTROLLER only, the others are reserved).
 */
export function nodePorts(portBase: number, id: number): BrokerPorts {
  const index = id > CONTROLLER_ID_BASE ? CLUSTER_SIZE + (id - CONTROLLER_ID_BASE) : id;
  return portsFrom(portBase + NODE_PORT_STRIDE * (index - 1));
}

/**
 * A static quorum (`controller.quorum.voters`, kraft.version 0): formatting needs no directory ids
 * and every node is formatted alike. Kafka 4.1 still supports it beside dynamic quorums (KIP-853).
 */
export function quorumVoters(state: ClusterState): string {
  const host = state.host ?? '127.0.0.1';
  return controllerIds(state)
    .map((id) => `${id}@${host}:${nodePorts(state.portBase, id).CONTROLLER}`)
    .join(',');
}

/**
 * Node `id`'s server.properties: the single broker's listeners and settings, then the cluster's, then
 * the user's. In a `split` cluster a broker drops the CONTROLLER listener and role; a controller gets
 * only those, with the cluster's topic defaults and the user's --prop (a cluster-wide setting, as an
 * MSK configuration is).
 */
export function nodeProperties(
  layout: BrokerLayout,
  state: ClusterState,
  certs: CertificatePaths,
  id: number,
): Record<string, string> {
  const host = state.host ?? '127.0.0.1';
  const ports = nodePorts(state.portBase, id);
  const voters = quorumVoters(state);
  if (topologyOf(state) === 'split' && isController(state, id))
    return { ...controllerProperties(layout, host, ports, id, voters), ...state.props };
  const cluster: Record<string, string> = {
    'node.id': String(id),
    'controller.quorum.voters': voters,
    ...MSK_REPLICATION_DEFAULTS,
  };
  const props = brokerProperties(layout, ports, certs, { ...cluster, ...state.props }, host);
  if (topologyOf(state) === 'split') {
    props['process.roles'] = 'broker';
    props.listeners = props.listeners?.replace(`,CONTROLLER://${host}:${ports.CONTROLLER}`, '') ?? '';
  }
  return props;
}

/** A dedicated controller: the quorum's CONTROLLER listener only, its own data, no client listener. */
function controllerProperties(
  layout: BrokerLayout,
  host: string,
  ports: BrokerPorts,
  id: number,
  voters: string,
): Record<string, string> {
  return {
    'process.roles': 'controller',
    'node.id': String(id),
    'controller.quorum.voters': voters,
    listeners: `CONTROLLER://${host}:${ports.CONTROLLER}`,
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': layout.dataDir,
    // The controllers create topics (a CreateTopics is forwarded to them) and decide on leaders and
    // ISRs: the defaults a topic gets, and min.insync.replicas, are theirs to know.
    ...MSK_REPLICATION_DEFAULTS,
    'num.partitions': '1',
  };
}
