/**
 * npm run kafka:start [-- --name N] [--port-base P] [--prop key=value ...] [--fresh] [--host 127.0.0.x]
 * npm run kafka:start -- --cluster 3 [--name N]    (a three-node cluster, default name "cluster")
 * npm run kafka:start -- --cluster 3 --controllers 3 [--name N]
 *                                                   (MSK's shape: three brokers, three dedicated controllers 101..103)
 * npm run kafka:start -- [--name N] --node I       (node I of a cluster again, on its data)
 * npm run kafka:stop  [-- --name N] [--node I]     (no name: every broker and cluster this tooling started)
 * npm run kafka:kill  -- [--name N] --node I       (SIGKILL one node of a cluster)
 * npm run kafka:status
 */
import { parseArgs } from 'node:util';
import { listBrokers, startBroker, stopBroker } from './broker.js';
import { killNode, listClusters, startCluster, startNode, stopCluster, stopNode } from './cluster.js';
import { CLUSTER_SIZE, CONTROLLER_ID_BASE } from './cluster-config.js';
import type { BrokerPorts, ClusterConnection } from './connection.js';
import { DEFAULT_CLUSTER, isCluster } from './layout.js';

const usage = `usage:
  kafka:start [--name N] [--port-base P] [--prop key=value ...] [--fresh] [--host 127.0.0.x]
  kafka:start --cluster ${CLUSTER_SIZE} [--controllers ${CLUSTER_SIZE}] [--name N] [--port-base P] [--prop key=value ...] [--fresh]
  kafka:start [--name N] --node I
  kafka:stop [--name N] [--node I]
  kafka:kill [--name N] --node I
  kafka:status`;

function parseProps(values: string[]): Record<string, string> {
  const props: Record<string, string> = {};
  for (const item of values) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`--prop expects key=value, got "${item}"`);
    props[item.slice(0, at)] = item.slice(at + 1);
  }
  return props;
}

function parseInteger(option: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(Number.isInteger(number) && number >= min && number <= max)) {
    throw new Error(`--${option} must be a whole number between ${min} and ${max}, got "${value}"`);
  }
  return number;
}

function formatPorts(ports: BrokerPorts): string {
  return Object.entries(ports)
    .map(([listener, port]) => `${listener}=${port}`)
    .join(' ');
}

function printCluster(connection: ClusterConnection): void {
  console.log(`Local cluster "${connection.cluster}" (cluster ${connection.clusterId}):`);
  for (const listener of Object.values(connection.listeners)) {
    console.log(`  ${listener.securityProtocol.padEnd(9)} ${listener.bootstrapServers}`);
  }
  for (const node of connection.nodes) {
    console.log(`  node ${node.id}: ${node.pid ? `pid ${node.pid}` : 'not running'}, ${formatPorts(node.ports)}`);
  }
  for (const node of connection.controllers) {
    console.log(
      `  controller ${node.id}: ${node.pid ? `pid ${node.pid}` : 'not running'}, CONTROLLER=${node.ports.CONTROLLER}`,
    );
  }
  console.log(`Connection details: .kafka/brokers/${connection.cluster}/connection.json`);
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'port-base': { type: 'string' },
      prop: { type: 'string', multiple: true },
      fresh: { type: 'boolean' },
      host: { type: 'string' },
      cluster: { type: 'string' },
      controllers: { type: 'string' },
      node: { type: 'string' },
    },
  });
  const log = (line: string) => console.log(line);
  // Brokers 1..3; a split cluster's controllers 101..103 (the cluster's state says which it has).
  const node = parseInteger('node', values.node, 1, CONTROLLER_ID_BASE + CLUSTER_SIZE);
  if (values.controllers !== undefined && ![0, CLUSTER_SIZE].includes(Number(values.controllers))) {
    throw new Error(
      `--controllers takes the number of dedicated controllers: ${CLUSTER_SIZE} (MSK's shape), or 0 for nodes that are broker and controller, got "${values.controllers}"`,
    );
  }
  // Absent: the cluster keeps the topology it has (combined for a new one).
  const topology =
    values.controllers === undefined ? undefined : Number(values.controllers) === 0 ? 'combined' : 'split';
  if (values.cluster !== undefined && Number(values.cluster) !== CLUSTER_SIZE) {
    throw new Error(
      `--cluster takes the number of nodes, and only ${CLUSTER_SIZE} is supported, got "${values.cluster}"`,
    );
  }
  const size = values.cluster === undefined ? undefined : CLUSTER_SIZE;
  const clusterName = values.name ?? DEFAULT_CLUSTER;
  switch (command) {
    case 'start': {
      const portBase = parseInteger('port-base', values['port-base'], 1025, 65529);
      const props = parseProps(values.prop ?? []);
      if (node !== undefined) {
        if (values.fresh || values.prop || portBase !== undefined || size !== undefined || values.controllers) {
          throw new Error(
            '--node starts one node on its existing data and settings: drop --fresh, --prop, --port-base, --cluster, --controllers.',
          );
        }
        printCluster(await startNode(clusterName, node, { log }));
        return 0;
      }
      if (size !== undefined || topology !== undefined || (values.name !== undefined && isCluster(values.name))) {
        const connection = await startCluster({
          name: clusterName,
          portBase,
          props,
          fresh: values.fresh,
          host: values.host,
          topology,
          log,
        });
        printCluster(connection);
        return 0;
      }
      const connection = await startBroker({
        name: values.name,
        portBase,
        props,
        fresh: values.fresh,
        host: values.host,
        log,
      });
      console.log(
        `Local broker "${connection.broker}" ready (pid ${connection.pid}, cluster ${connection.clusterId}):`,
      );
      for (const listener of Object.values(connection.listeners)) {
        console.log(`  ${listener.securityProtocol.padEnd(9)} ${listener.bootstrapServers}`);
      }
      console.log(
        `Connection details: .kafka/${connection.broker === 'default' ? '' : `brokers/${connection.broker}/`}connection.json`,
      );
      return 0;
    }
    case 'stop': {
      if (node !== undefined) {
        const stopped = await stopNode(clusterName, node);
        console.log(`Node ${node} of local cluster "${clusterName}" ${stopped ? 'stopped' : 'was not running'}.`);
        return 0;
      }
      const clusters = values.name ? [values.name].filter(isCluster) : listClusters().map((cluster) => cluster.name);
      const brokers = values.name ? [values.name].filter((name) => !isCluster(name)) : listBrokers().map((b) => b.name);
      for (const name of clusters) {
        const stopped = await stopCluster(name);
        console.log(
          stopped.length > 0
            ? `Stopped local cluster "${name}" (nodes ${stopped.join(', ')}).`
            : `Local cluster "${name}" was not running.`,
        );
      }
      for (const name of brokers) {
        const stopped = await stopBroker(name);
        console.log(stopped ? `Stopped local broker "${name}".` : `Local broker "${name}" was not running.`);
      }
      return 0;
    }
    case 'kill': {
      if (node === undefined) {
        throw new Error(
          `kafka:kill needs --node 1..${CLUSTER_SIZE}, or ${CONTROLLER_ID_BASE + 1}..${CONTROLLER_ID_BASE + CLUSTER_SIZE} for a dedicated controller (and --name of the cluster)`,
        );
      }
      const killed = await killNode(clusterName, node);
      console.log(`Node ${node} of local cluster "${clusterName}" ${killed ? 'killed (SIGKILL)' : 'was not running'}.`);
      return 0;
    }
    case 'status': {
      const brokers = listBrokers();
      const clusters = listClusters();
      if (brokers.length === 0 && clusters.length === 0) console.log('No local broker has been started yet.');
      for (const broker of brokers) {
        const ports = broker.ports ? formatPorts(broker.ports) : '';
        console.log(`${broker.name}: ${broker.pid ? `running (pid ${broker.pid})` : 'stopped'} ${ports}`);
      }
      for (const cluster of clusters) {
        const running = cluster.nodes.filter((entry) => entry.pid).length;
        console.log(`${cluster.name}: cluster, ${running} of ${cluster.nodes.length} nodes running`);
        for (const entry of cluster.nodes) {
          console.log(
            `  node ${entry.id}: ${entry.pid ? `running (pid ${entry.pid})` : 'stopped'} ${formatPorts(entry.ports)}`,
          );
        }
      }
      const anyRunning = brokers.some((broker) => broker.pid) || clusters.some((c) => c.nodes.some((n) => n.pid));
      return anyRunning ? 0 : 3;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
