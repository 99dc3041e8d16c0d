/**
 * A real single-node Apache Kafka (KRaft, combined broker+controller) on 127.0.0.1,
 * for tests, benchmarks and the demo. Several named brokers can run side by side,
 * each with its own ports, data dir and extra properties.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CertificatePaths, ensureCertificates } from './certs.js';
import { type BrokerConnection, type BrokerPorts, listenerConnections, portsFrom } from './connection.js';
import { ensureJars } from './jars.js';
import {
  BROKERS_DIR,
  type BrokerLayout,
  brokerLayout,
  CERTS_DIR,
  CONNECTION_FILE,
  DEFAULT_BROKER,
  DEFAULT_PORT_BASE,
  isCluster,
  LOCKS_DIR,
} from './layout.js';
import { withLock } from './lock.js';
import { probeBrokerListeners } from './probe.js';
import { launchBroker, logTails, portIsFree, runningPid, terminateBroker } from './process.js';
import {
  type BrokerState,
  brokerProperties,
  formatStorage,
  LOG4J2,
  newClusterId,
  SCRAM_MECHANISM,
  serialize,
} from './server-config.js';

export { runningPid, SCRAM_MECHANISM };

export interface StartOptions {
  name?: string;
  /** First of four consecutive ports: PLAINTEXT, SSL, SASL_SSL, CONTROLLER. */
  portBase?: number;
  /** Extra or overriding server properties, e.g. `offsets.topic.replication.factor=2`. */
  props?: Record<string, string>;
  /** Wipe the data directory first (new cluster id, no topics, no consumer offsets). */
  fresh?: boolean;
  /** Loopback address to bind and advertise (default 127.0.0.1; e.g. 127.0.0.2, which the test certificate does not cover). */
  host?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

function readState(layout: BrokerLayout): BrokerState | undefined {
  if (!existsSync(layout.stateFile)) return undefined;
  return JSON.parse(readFileSync(layout.stateFile, 'utf8')) as BrokerState;
}

async function choosePortBase(name: string, requested: number | undefined, previous: number | undefined) {
  if (requested !== undefined) return requested;
  if (previous !== undefined) return previous;
  if (name === DEFAULT_BROKER) return DEFAULT_PORT_BASE;
  const taken = new Set<number>();
  if (existsSync(BROKERS_DIR)) {
    for (const other of readdirNames(BROKERS_DIR)) {
      const state = readState(brokerLayout(other));
      if (state) taken.add(state.portBase);
    }
  }
  for (let base = DEFAULT_PORT_BASE + 100; base < 29000; base += 100) {
    if (taken.has(base)) continue;
    const free = await Promise.all(Object.values(portsFrom(base)).map((port) => portIsFree(port)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('No free port range found between 19192 and 29000 for another local broker.');
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

function writeConnection(layout: BrokerLayout, connection: BrokerConnection): void {
  const json = `${JSON.stringify(connection, null, 2)}\n`;
  writeFileSync(layout.connectionFile, json, { mode: 0o600 });
  if (layout.name === DEFAULT_BROKER) writeFileSync(CONNECTION_FILE, json, { mode: 0o600 });
}

/**
 * Starts broker `name` (idempotent: a running broker with the same settings is reused;
 * different settings restart it) and resolves once every listener serves requests.
 */
export async function startBroker(options: StartOptions = {}): Promise<BrokerConnection> {
  const name = options.name ?? DEFAULT_BROKER;
  const layout = brokerLayout(name);
  if (isCluster(name)) {
    throw new Error(`"${name}" is a local cluster, not a single broker: start it with startCluster or --cluster.`);
  }
  mkdirSync(layout.dir, { recursive: true });
  mkdirSync(LOCKS_DIR, { recursive: true });
  return withLock(join(LOCKS_DIR, `${name}.lock`), () => startLocked(layout, options));
}

async function startLocked(layout: BrokerLayout, options: StartOptions): Promise<BrokerConnection> {
  const log = options.log ?? (() => {});
  await ensureJars(log);
  const certs = ensureCertificates(CERTS_DIR);
  const previous = readState(layout);
  const portBase = await choosePortBase(layout.name, options.portBase, previous?.portBase);
  const ports = portsFrom(portBase);
  const props = options.props ?? {};
  const host = options.host ?? '127.0.0.1';

  const running = runningPid(layout);
  const sameSettings =
    previous &&
    previous.portBase === portBase &&
    (previous.host ?? '127.0.0.1') === host &&
    JSON.stringify(previous.props) === JSON.stringify(props);
  if (running && sameSettings && !options.fresh) {
    await probeBrokerListeners(host, ports, certs);
    const connection = describe(layout, running, ports, certs, previous);
    writeConnection(layout, connection);
    log(`Local broker "${layout.name}" already running (pid ${running}).`);
    return connection;
  }
  if (running) {
    log(`Restarting local broker "${layout.name}" with new settings.`);
    await stopBroker(layout.name);
  }

  const formatted = existsSync(`${layout.dataDir}/meta.properties`);
  const wipe = options.fresh || !previous || !formatted;
  const state: BrokerState = {
    clusterId: wipe ? newClusterId() : previous.clusterId,
    portBase,
    props,
    scram: wipe
      ? { mechanism: SCRAM_MECHANISM, username: 'lambda-kafka', password: randomBytes(18).toString('base64url') }
      : previous.scram,
    host,
  };
  for (const [listener, port] of Object.entries(ports)) {
    if (!(await portIsFree(port, host))) {
      throw new Error(
        `Port ${port} (${listener} listener of local broker "${layout.name}") is already in use: stop what holds it or pass --port-base.`,
      );
    }
  }

  mkdirSync(layout.logsDir, { recursive: true });
  writeFileSync(layout.propertiesFile, serialize(brokerProperties(layout, ports, certs, props, host)));
  writeFileSync(layout.log4jFile, LOG4J2(layout.serverLog));
  writeFileSync(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  if (wipe) {
    rmSync(layout.dataDir, { recursive: true, force: true });
    log(`Formatting storage of local broker "${layout.name}" (cluster ${state.clusterId}).`);
    formatStorage(layout, state);
  }

  const pid = launchBroker(layout);
  log(
    `Started local broker "${layout.name}" (pid ${pid}), waiting for its listeners ${Object.values(ports).join(', ')}.`,
  );

  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!runningPid(layout)) {
      lastError = new Error('the broker process exited');
      break;
    }
    try {
      await probeBrokerListeners(host, ports, certs);
      const connection = describe(layout, pid, ports, certs, state);
      writeConnection(layout, connection);
      return connection;
    } catch (error) {
      lastError = error;
      await sleep(250);
    }
  }
  await stopBroker(layout.name).catch(() => {});
  throw new Error(
    `Local broker "${layout.name}" did not become ready: ${(lastError as Error)?.message}.\n${logTails(layout)}`,
  );
}

function describe(
  layout: BrokerLayout,
  pid: number,
  ports: BrokerPorts,
  certs: CertificatePaths,
  state: BrokerState,
): BrokerConnection {
  return {
    broker: layout.name,
    clusterId: state.clusterId,
    pid,
    ports,
    listeners: listenerConnections([ports], certs, state),
    serverLog: layout.serverLog,
  };
}

/** Stops broker `name` if this tooling started it (by pid file); resolves once the JVM is gone. */
export function stopBroker(name = DEFAULT_BROKER, timeoutMs = 30_000): Promise<boolean> {
  return terminateBroker(brokerLayout(name), 'SIGTERM', timeoutMs);
}

export function listBrokers(): { name: string; pid: number | undefined; ports: BrokerPorts | undefined }[] {
  if (!existsSync(BROKERS_DIR)) return [];
  // A cluster's directory sits beside the brokers'; listClusters reports it.
  return readdirNames(BROKERS_DIR)
    .filter((name) => !isCluster(name))
    .map((name) => {
      const layout = brokerLayout(name);
      const state = readState(layout);
      return { name, pid: runningPid(layout), ports: state ? portsFrom(state.portBase) : undefined };
    });
}
