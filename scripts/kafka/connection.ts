/** Shape of `.kafka/connection.json`: how a client reaches each listener of a local broker. */
import { readFileSync } from 'node:fs';
import type { CertificatePaths } from './certs.js';
import { brokerLayout, CONNECTION_FILE, clusterLayout, DEFAULT_BROKER, DEFAULT_CLUSTER } from './layout.js';
import type { BrokerState } from './server-config.js';

export type ClientListener = 'PLAINTEXT' | 'SSL' | 'SASL_SSL';
export const CLIENT_LISTENERS: readonly ClientListener[] = ['PLAINTEXT', 'SSL', 'SASL_SSL'];

export interface ListenerConnection {
  bootstrapServers: string;
  securityProtocol: ClientListener;
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  saslMechanism: string | null;
  username: string | null;
  password: string | null;
}

export interface BrokerConnection {
  broker: string;
  clusterId: string;
  pid: number;
  ports: BrokerPorts;
  listeners: Record<ClientListener, ListenerConnection>;
  serverLog: string;
}

/** Shape of `.kafka/brokers/<cluster>/connection.json`: the listeners name every node as a bootstrap server. */
export interface ClusterConnection {
  cluster: string;
  clusterId: string;
  /** `combined`: every node is broker and controller; `split`: `controllers` apart from the brokers (MSK's shape). */
  topology: 'combined' | 'split';
  listeners: Record<ClientListener, ListenerConnection>;
  /** The brokers (in a `combined` cluster also its controllers). */
  nodes: ClusterNode[];
  /** A `split` cluster's dedicated controllers (ids 101..103, CONTROLLER port only); empty when `combined`. */
  controllers: ClusterNode[];
}

export interface ClusterNode {
  /** The node's Kafka node.id (broker id; controller id too when `combined`). */
  id: number;
  /** The node's JVM when it was last started or stopped by this tooling; null once stopped or killed. */
  pid: number | null;
  ports: BrokerPorts;
  serverLog: string;
  dataDir: string;
}

export interface BrokerPorts {
  PLAINTEXT: number;
  SSL: number;
  SASL_SSL: number;
  CONTROLLER: number;
}

export function portsFrom(base: number): BrokerPorts {
  return { PLAINTEXT: base, SSL: base + 1, SASL_SSL: base + 2, CONTROLLER: base + 3 };
}

/** How a client reaches each listener; `nodes` holds the ports of every node, all of them named in the bootstrap list. */
export function listenerConnections(
  nodes: BrokerPorts[],
  certs: CertificatePaths,
  state: BrokerState,
): Record<ClientListener, ListenerConnection> {
  const host = state.host ?? '127.0.0.1';
  const bootstrap = (listener: ClientListener) => nodes.map((ports) => `${host}:${ports[listener]}`).join(',');
  const none = { caFile: null, certFile: null, keyFile: null, saslMechanism: null, username: null, password: null };
  return {
    PLAINTEXT: { bootstrapServers: bootstrap('PLAINTEXT'), securityProtocol: 'PLAINTEXT', ...none },
    SSL: {
      ...none,
      bootstrapServers: bootstrap('SSL'),
      securityProtocol: 'SSL',
      caFile: certs.caFile,
      certFile: certs.clientCertFile,
      keyFile: certs.clientKeyFile,
    },
    SASL_SSL: {
      ...none,
      bootstrapServers: bootstrap('SASL_SSL'),
      securityProtocol: 'SASL_SSL',
      caFile: certs.caFile,
      saslMechanism: state.scram.mechanism,
      username: state.scram.username,
      password: state.scram.password,
    },
  };
}

/** Reads the connection file the last `kafka:start` of broker `name` wrote. */
export function readConnection(name = DEFAULT_BROKER): BrokerConnection {
  const file = name === DEFAULT_BROKER ? CONNECTION_FILE : brokerLayout(name).connectionFile;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BrokerConnection;
  } catch (error) {
    throw new Error(`No connection details for local broker "${name}" at ${file}: run \`npm run kafka:start\` first.`, {
      cause: error,
    });
  }
}

/** Reads the connection file the last start, stop or kill of a node of cluster `name` wrote. */
export function clusterConnection(name = DEFAULT_CLUSTER): ClusterConnection {
  const file = clusterLayout(name).connectionFile;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterConnection;
  } catch (error) {
    throw new Error(
      `No connection details for local cluster "${name}" at ${file}: run \`npm run kafka:start -- --cluster 3 --name ${name}\` first.`,
      { cause: error },
    );
  }
}

/** The library's environment variables (KAFKA_*) for reaching one listener, as a deployment would set them. */
export function listenerEnvironment(listener: ListenerConnection): Record<string, string> {
  const env: Record<string, string> = { KAFKA_BOOTSTRAP_SERVERS: listener.bootstrapServers };
  if (listener.securityProtocol !== 'PLAINTEXT') env.KAFKA_USE_SSL = 'true';
  if (listener.caFile) env.KAFKA_SSL_CAFILE = listener.caFile;
  if (listener.certFile) env.KAFKA_SSL_CERTFILE = listener.certFile;
  if (listener.keyFile) env.KAFKA_SSL_KEYFILE = listener.keyFile;
  if (listener.saslMechanism) env.KAFKA_SASL_MECHANISM = listener.saslMechanism;
  if (listener.username) env.KAFKA_SASL_USERNAME = listener.username;
  if (listener.password) env.KAFKA_SASL_PASSWORD = listener.password;
  return env;
}
