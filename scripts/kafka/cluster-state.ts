/** What a local cluster keeps on disk: its state (ports, id, SCRAM user), its connection file, its port range. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificatePaths } from './certs.js';
import { brokerIds, CLUSTER_SIZE, type ClusterState, nodeIds, nodePorts, topologyOf } from './cluster-config.js';
import { type BrokerPorts, type ClusterConnection, listenerConnections } from './connection.js';
import {
  BROKERS_DIR,
  type ClusterLayout,
  clusterLayout,
  DEFAULT_CLUSTER,
  DEFAULT_CLUSTER_PORT_BASE,
} from './layout.js';
import { portIsFree, runningPid } from './process.js';

export function readClusterState(layout: ClusterLayout): ClusterState | undefined {
  if (!existsSync(layout.stateFile)) return undefined;
  return JSON.parse(readFileSync(layout.stateFile, 'utf8')) as ClusterState;
}

export function requireState(layout: ClusterLayout): ClusterState {
  const state = readClusterState(layout);
  if (!state) {
    throw new Error(
      `Local cluster "${layout.name}" has never been started: run \`npm run kafka:start -- --cluster ${CLUSTER_SIZE} --name ${layout.name}\` first.`,
    );
  }
  return state;
}

export function requireNode(state: ClusterState, layout: ClusterLayout, id: number): void {
  if (!nodeIds(state).includes(id)) {
    throw new Error(`Local cluster "${layout.name}" has nodes ${nodeIds(state).join(', ')}: there is no node ${id}.`);
  }
}

/** Port bases every broker and cluster under .kafka/brokers has claimed, running or not. */
function claimedPortBases(except: string): Set<number> {
  const claimed = new Set<number>();
  if (!existsSync(BROKERS_DIR)) return claimed;
  for (const entry of readdirSync(BROKERS_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === except) continue;
    for (const file of ['state.json', 'cluster.json']) {
      const path = join(BROKERS_DIR, entry.name, file);
      if (existsSync(path)) claimed.add((JSON.parse(readFileSync(path, 'utf8')) as { portBase: number }).portBase);
    }
  }
  return claimed;
}

export async function choosePortBase(name: string, requested?: number, previous?: number): Promise<number> {
  if (requested !== undefined) return requested;
  if (previous !== undefined) return previous;
  if (name === DEFAULT_CLUSTER) return DEFAULT_CLUSTER_PORT_BASE;
  const claimed = claimedPortBases(name);
  for (let base = DEFAULT_CLUSTER_PORT_BASE + 100; base < 39000; base += 100) {
    if (claimed.has(base)) continue;
    // Room for a split cluster's three controllers after the three brokers.
    const ports = Array.from({ length: 2 * CLUSTER_SIZE }, (_, i) => Object.values(nodePorts(base, i + 1))).flat();
    if ((await Promise.all(ports.map((port) => portIsFree(port)))).every(Boolean)) return base;
  }
  throw new Error('No free port range found between 29192 and 39000 for another local cluster: pass --port-base.');
}

/** Writes the cluster's connection file with each node's current pid (null when it is not running). */
export function writeClusterConnection(layout: ClusterLayout, state: ClusterState, certs: CertificatePaths) {
  const brokers = brokerIds(state);
  const describe = (id: number) => {
    const node = layout.node(id);
    return {
      id,
      pid: runningPid(node) ?? null,
      ports: nodePorts(state.portBase, id),
      serverLog: node.serverLog,
      dataDir: node.dataDir,
    };
  };
  const connection: ClusterConnection = {
    cluster: layout.name,
    clusterId: state.clusterId,
    topology: topologyOf(state),
    listeners: listenerConnections(
      brokers.map((id) => nodePorts(state.portBase, id)),
      certs,
      state,
    ),
    nodes: brokers.map(describe),
    controllers: nodeIds(state)
      .filter((id) => !brokers.includes(id))
      .map(describe),
  };
  writeFileSync(layout.connectionFile, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
  return connection;
}

export interface ClusterStatus {
  name: string;
  nodes: { id: number; pid: number | undefined; ports: BrokerPorts }[];
}

export function listClusters(): ClusterStatus[] {
  if (!existsSync(BROKERS_DIR)) return [];
  return readdirSync(BROKERS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const layout = clusterLayout(entry.name);
      const state = readClusterState(layout);
      if (!state) return [];
      const nodes = nodeIds(state).map((id) => ({
        id,
        pid: runningPid(layout.node(id)),
        ports: nodePorts(state.portBase, id),
      }));
      return [{ name: entry.name, nodes }];
    });
}
