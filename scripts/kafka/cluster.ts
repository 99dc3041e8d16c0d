/**
 * A real three-broker Apache Kafka KRaft cluster on one machine, for tests that stop, kill and
 * restart brokers under a client. `combined`: every node is broker and controller; `split` (MSK's
 * shape): three brokers and three dedicated controllers. Every node has its own ports, data dir, logs
 * and pid file; the cluster shares one id, one SCRAM user and the test certificates.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CertificatePaths, certificatePaths, ensureCertificates } from './certs.js';
import {
  brokerIds,
  CLUSTER_SIZE,
  type ClusterState,
  controllerIds,
  isController,
  nodeIds,
  nodePorts,
  nodeProperties,
  type Topology,
  topologyOf,
} from './cluster-config.js';
import { clusterMetadata, poll } from './cluster-metadata.js';
import {
  choosePortBase,
  readClusterState,
  requireNode,
  requireState,
  writeClusterConnection,
} from './cluster-state.js';
import type { ClusterConnection } from './connection.js';
import { ensureJars } from './jars.js';
import {
  type BrokerLayout,
  brokerLayout,
  CERTS_DIR,
  type ClusterLayout,
  clusterLayout,
  DEFAULT_BROKER,
  DEFAULT_CLUSTER,
  LOCKS_DIR,
} from './layout.js';
import { withLock } from './lock.js';
import { probeBrokerListeners } from './probe.js';
import { launchBroker, logTails, portIsFree, runningPid, terminateBroker } from './process.js';
import { formatStorage, LOG4J2, newClusterId, SCRAM_MECHANISM, serialize } from './server-config.js';

// One import for tests: the lifecycle here, the connection file and the metadata helpers beside it.
export {
  clusterMetadata,
  groupCoordinator,
  partitionLeader,
  topicPartitions,
  waitForIsr,
  waitForNewLeader,
} from './cluster-metadata.js';
export { listClusters } from './cluster-state.js';
export { clusterConnection } from './connection.js';

export interface ClusterStartOptions {
  /** Default `cluster`. */
  name?: string;
  /** Node i uses the four ports from portBase + 10·(i−1): PLAINTEXT, SSL, SASL_SSL, CONTROLLER. */
  portBase?: number;
  /** Extra or overriding server properties for every node. */
  props?: Record<string, string>;
  /** Wipe every node's data first (new cluster id, no topics, no consumer offsets). */
  fresh?: boolean;
  /**
   * `combined`: three broker+controller nodes; `split`: three brokers and three dedicated controllers.
   * Default: what the cluster had (combined for a new one); another one than it had wipes its data.
   */
  topology?: Topology;
  host?: string;
  /** Three JVMs starting on two cores take a while: be generous. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface NodeOptions {
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** A node is up when its three client listeners serve requests and its own metadata lists `expected` as brokers. */
async function nodeIsUp(state: ClusterState, certs: CertificatePaths, id: number, expected: number[]) {
  const host = state.host ?? '127.0.0.1';
  const ports = nodePorts(state.portBase, id);
  await probeBrokerListeners(host, ports, certs);
  const metadata = await clusterMetadata(`${host}:${ports.PLAINTEXT}`, undefined, 5000);
  const visible = metadata.brokers.map((broker) => broker.id);
  const missing = expected.filter((other) => !visible.includes(other));
  if (missing.length > 0) throw new Error(`node ${id} does not yet see node(s) ${missing.join(', ')} as brokers`);
}

/** A dedicated controller is up when its CONTROLLER listener accepts connections (the brokers' readiness needs its quorum). */
async function controllerIsUp(state: ClusterState, id: number) {
  const port = nodePorts(state.portBase, id).CONTROLLER;
  if (await portIsFree(port, state.host ?? '127.0.0.1'))
    throw new Error(`controller ${id} does not listen on ${port} yet`);
}

/**
 * Waits until every node in `ids` is up (a broker: serves requests and sees `expected`; a dedicated
 * controller: listens); a node whose JVM exits fails the wait at once.
 */
async function waitForNodes(
  layout: ClusterLayout,
  state: ClusterState,
  certs: CertificatePaths,
  ids: number[],
  expected: number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ids);
  let lastError = 'not probed yet';
  while (pending.size > 0) {
    for (const id of pending) {
      const node = layout.node(id);
      if (!runningPid(node)) {
        throw new Error(`Node ${id} of local cluster "${layout.name}" exited while starting.\n${logTails(node)}`);
      }
      try {
        if (topologyOf(state) === 'split' && isController(state, id)) await controllerIsUp(state, id);
        else await nodeIsUp(state, certs, id, expected);
        pending.delete(id);
      } catch (error) {
        lastError = `node ${id}: ${(error as Error).message}`;
      }
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const first = layout.node([...pending][0] as number);
      throw new Error(
        `Local cluster "${layout.name}" did not become ready in ${timeoutMs} ms (${lastError}).\n${logTails(first)}`,
      );
    }
    await sleep(500);
  }
}

/** The server.log of the node's previous run. */
export function previousLog(node: BrokerLayout): string {
  return join(node.logsDir, 'server.previous.log');
}

async function launchNode(layout: ClusterLayout, state: ClusterState, certs: CertificatePaths, id: number) {
  const node = layout.node(id);
  const host = state.host ?? '127.0.0.1';
  for (const [listener, port] of Object.entries(nodePorts(state.portBase, id))) {
    if (!(await portIsFree(port, host))) {
      throw new Error(
        `Port ${port} (${listener} listener of node ${id} of local cluster "${layout.name}") is already in use: stop what holds it or pass --port-base.`,
      );
    }
  }
  mkdirSync(node.logsDir, { recursive: true });
  writeFileSync(node.propertiesFile, serialize(nodeProperties(node, state, certs, id)));
  writeFileSync(node.log4jFile, LOG4J2(node.serverLog));
  // A node is restarted after a kill or a stop: keep what it logged before, which is what one wants to read then.
  if (existsSync(node.serverLog)) renameSync(node.serverLog, previousLog(node));
  const dedicatedController = topologyOf(state) === 'split' && isController(state, id);
  return launchBroker(node, dedicatedController ? '256m' : undefined);
}

/**
 * Starts every node of cluster `name` (idempotent: running nodes with the same settings are kept, missing
 * ones started; different settings restart all) and resolves once every node serves requests and sees all three.
 */
export async function startCluster(options: ClusterStartOptions = {}): Promise<ClusterConnection> {
  const name = options.name ?? DEFAULT_CLUSTER;
  const layout = clusterLayout(name);
  if (name === DEFAULT_BROKER || existsSync(brokerLayout(name).stateFile)) {
    throw new Error(`"${name}" is the name of a single local broker: give the cluster another --name.`);
  }
  mkdirSync(layout.dir, { recursive: true });
  mkdirSync(LOCKS_DIR, { recursive: true });
  return withLock(join(LOCKS_DIR, `${name}.lock`), () => startClusterLocked(layout, options));
}

async function startClusterLocked(layout: ClusterLayout, options: ClusterStartOptions): Promise<ClusterConnection> {
  const log = options.log ?? (() => {});
  await ensureJars(log);
  const certs = ensureCertificates(CERTS_DIR);
  const previous = readClusterState(layout);
  const portBase = await choosePortBase(layout.name, options.portBase, previous?.portBase);
  const props = options.props ?? {};
  const host = options.host ?? '127.0.0.1';
  const topology = options.topology ?? (previous ? topologyOf(previous) : 'combined');
  const ids = nodeIds({ nodes: CLUSTER_SIZE, topology });

  const formatted = ids.every((id) => existsSync(join(layout.node(id).dataDir, 'meta.properties')));
  // Another topology is another cluster: its nodes' storage is formatted for other roles and quorum.
  const wipe = options.fresh || !previous || !formatted || topologyOf(previous) !== topology;
  const sameSettings =
    previous &&
    previous.portBase === portBase &&
    (previous.host ?? '127.0.0.1') === host &&
    topologyOf(previous) === topology &&
    JSON.stringify(previous.props) === JSON.stringify(props);
  if (wipe || !sameSettings) {
    const running = previous ? nodeIds(previous) : ids;
    const stopped = await Promise.all(running.map((id) => terminateBroker(layout.node(id), 'SIGTERM', 60_000)));
    if (stopped.some(Boolean)) log(`Stopped the running nodes of local cluster "${layout.name}" to restart it.`);
  }

  const state: ClusterState = {
    clusterId: wipe ? newClusterId() : previous.clusterId,
    portBase,
    props,
    scram: wipe
      ? { mechanism: SCRAM_MECHANISM, username: 'lambda-kafka', password: randomBytes(18).toString('base64url') }
      : previous.scram,
    host,
    nodes: CLUSTER_SIZE,
    topology,
  };
  writeFileSync(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  if (wipe) {
    log(
      `Formatting storage of the ${ids.length} nodes of local cluster "${layout.name}" (cluster ${state.clusterId}).`,
    );
    for (const id of ids) {
      const node = layout.node(id);
      rmSync(node.dataDir, { recursive: true, force: true });
      mkdirSync(node.logsDir, { recursive: true });
      // The storage tool reads node.id, log.dirs and the quorum from the node's own properties.
      writeFileSync(node.propertiesFile, serialize(nodeProperties(node, state, certs, id)));
      writeFileSync(node.log4jFile, LOG4J2(node.serverLog));
      formatStorage(node, state);
    }
  }

  const toStart = ids.filter((id) => !runningPid(layout.node(id)));
  try {
    for (const id of toStart) {
      const pid = await launchNode(layout, state, certs, id);
      log(`Started node ${id} of local cluster "${layout.name}" (pid ${pid}).`);
    }
    if (toStart.length > 0) log(`Waiting for the nodes of "${layout.name}" to serve requests and see each other.`);
    await waitForNodes(layout, state, certs, ids, brokerIds(state), options.timeoutMs ?? 240_000);
  } catch (error) {
    // Leave nothing half-started behind: a later start begins from a clean slate.
    await Promise.all(toStart.map((id) => terminateBroker(layout.node(id), 'SIGKILL')));
    writeClusterConnection(layout, state, certs);
    throw error;
  }
  return writeClusterConnection(layout, state, certs);
}

/**
 * Starts node `id` again on its existing data; resolves once it serves requests and is a broker of the
 * cluster again (a dedicated controller: once it listens).
 */
export async function startNode(name: string, id: number, options: NodeOptions = {}): Promise<ClusterConnection> {
  const layout = clusterLayout(name);
  const state = requireState(layout);
  requireNode(state, layout, id);
  mkdirSync(LOCKS_DIR, { recursive: true });
  return withLock(join(LOCKS_DIR, `${name}.lock`), async () => {
    const certs = ensureCertificates(CERTS_DIR);
    const node = layout.node(id);
    if (!existsSync(join(node.dataDir, 'meta.properties'))) {
      throw new Error(
        `Node ${id} of local cluster "${name}" has no formatted storage in ${node.dataDir}: restart the whole cluster with \`npm run kafka:start -- --cluster ${CLUSTER_SIZE} --name ${name} --fresh\`.`,
      );
    }
    const log = options.log ?? (() => {});
    const launched = !runningPid(node);
    if (launched) {
      const pid = await launchNode(layout, state, certs, id);
      log(`Started node ${id} of local cluster "${name}" (pid ${pid}), waiting for it to rejoin.`);
    }
    try {
      await waitForNodes(layout, state, certs, [id], [id], options.timeoutMs ?? 180_000);
    } catch (error) {
      if (launched) await terminateBroker(node, 'SIGKILL');
      writeClusterConnection(layout, state, certs);
      throw error;
    }
    return writeClusterConnection(layout, state, certs);
  });
}

async function signalNode(name: string, id: number, signal: 'SIGTERM' | 'SIGKILL', timeoutMs: number) {
  const layout = clusterLayout(name);
  const state = requireState(layout);
  requireNode(state, layout, id);
  const stopped = await terminateBroker(layout.node(id), signal, timeoutMs);
  writeClusterConnection(layout, state, certificatePaths(CERTS_DIR));
  if (stopped) await waitForPortsClosed(state, id, timeoutMs);
  return stopped;
}

/**
 * Resolves once nothing listens on node `id`'s ports: the kernel completes TCP handshakes on a
 * listening socket by itself, so a node whose process is ending may still accept connections, and a
 * test that finds it up then was not testing a node that is down.
 */
async function waitForPortsClosed(state: ClusterState, id: number, timeoutMs: number): Promise<void> {
  const host = state.host ?? '127.0.0.1';
  const ports = Object.values(nodePorts(state.portBase, id));
  let open = ports;
  await poll(
    `node ${id}'s ports closing after it stopped`,
    timeoutMs,
    async () => {
      const free = await Promise.all(ports.map((port) => portIsFree(port, host)));
      open = ports.filter((_, index) => !free[index]);
      return open.length === 0 ? true : undefined;
    },
    () => `${host}:${open.join(', ')} still accepting connections`,
  );
}

/**
 * Pauses (SIGSTOP) or resumes (SIGCONT) node `id`: a paused broker accepts connections and answers
 * nothing, as one stalled by a long GC or a frozen host. False if it was not running.
 */
export function pauseNode(name: string, id: number, paused: boolean): boolean {
  const layout = clusterLayout(name);
  const state = requireState(layout);
  requireNode(state, layout, id);
  const pid = runningPid(layout.node(id));
  if (!pid) return false;
  process.kill(pid, paused ? 'SIGSTOP' : 'SIGCONT');
  return true;
}

/**
 * The active controller of the quorum, as the controllers last wrote it (`quorum-state` of the
 * metadata log: the leader of the highest epoch); undefined before the first election.
 */
export function activeController(name: string): number | undefined {
  const layout = clusterLayout(name);
  const state = requireState(layout);
  let best: { epoch: number; leader: number } | undefined;
  for (const id of controllerIds(state)) {
    const file = join(layout.node(id).dataDir, '__cluster_metadata-0', 'quorum-state');
    if (!existsSync(file)) continue;
    try {
      const quorum = JSON.parse(readFileSync(file, 'utf8')) as { leaderId?: number; leaderEpoch?: number };
      const leader = quorum.leaderId ?? -1;
      const epoch = quorum.leaderEpoch ?? -1;
      if (leader >= 0 && (!best || epoch > best.epoch)) best = { epoch, leader };
    } catch {
      // Being rewritten: the other controllers say it.
    }
  }
  return best?.leader;
}

/** SIGTERM: node `id` shuts down in a controlled way (its leaderships move first). False if it was not running. */
export function stopNode(name: string, id: number, timeoutMs = 60_000): Promise<boolean> {
  return signalNode(name, id, 'SIGTERM', timeoutMs);
}

/** SIGKILL: node `id` dies at once, as in a crash; the controller notices when its broker session expires. */
export function killNode(name: string, id: number): Promise<boolean> {
  return signalNode(name, id, 'SIGKILL', 10_000);
}

/** Stops every node of cluster `name` (SIGTERM, all at once); resolves with the ids of those that were running. */
export async function stopCluster(name = DEFAULT_CLUSTER, timeoutMs = 60_000): Promise<number[]> {
  const layout = clusterLayout(name);
  const state = readClusterState(layout);
  if (!state) return [];
  // Brokers first: their controlled shutdown needs the controllers.
  const brokers = brokerIds(state);
  const controllers = nodeIds(state).filter((id) => !brokers.includes(id));
  const stopped: number[] = [];
  for (const group of [brokers, controllers]) {
    const results = await Promise.all(group.map((id) => terminateBroker(layout.node(id), 'SIGTERM', timeoutMs)));
    stopped.push(...group.filter((_, index) => results[index]));
  }
  writeClusterConnection(layout, state, certificatePaths(CERTS_DIR));
  return stopped;
}
