/** Where the local broker tooling keeps its cache: `.kafka/` at the repository root, ignored by git. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KAFKA_DIR = process.env.LAMBDA_KAFKA_LOCAL_DIR ?? join(REPO_ROOT, '.kafka');
export const POM_FILE = join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml');
export const LIB_DIR = join(KAFKA_DIR, 'lib');
export const CERTS_DIR = join(KAFKA_DIR, 'certs');
export const BROKERS_DIR = join(KAFKA_DIR, 'brokers');
export const LOCKS_DIR = join(KAFKA_DIR, 'locks');
/**
 * The SASL_SSL listeners also take OAUTHBEARER tokens checked as MSK's IAM listener checks them
 * (iam/MskIamTokenValidator.java): signed for this region by one of the access keys in this file
 * (accessKeyId=secretAccessKey lines, read at each check; tests add keys with iam.ts).
 */
export const MSK_IAM_REGION = 'us-east-1';
export const MSK_IAM_CREDENTIALS_FILE = join(KAFKA_DIR, 'msk-iam', 'credentials.properties');
/** The default broker's connection details, read by tests, the demo and users. */
export const CONNECTION_FILE = join(KAFKA_DIR, 'connection.json');

export const DEFAULT_BROKER = 'default';
export const DEFAULT_PORT_BASE = 19092;
/** The local three-node cluster's default name and ports: above the range single brokers are given automatically. */
export const DEFAULT_CLUSTER = 'cluster';
export const DEFAULT_CLUSTER_PORT_BASE = 29092;

export interface BrokerLayout {
  name: string;
  dir: string;
  dataDir: string;
  logsDir: string;
  serverLog: string;
  stdoutLog: string;
  propertiesFile: string;
  log4jFile: string;
  pidFile: string;
  stateFile: string;
  connectionFile: string;
}

function checkName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) {
    throw new Error(`Invalid broker name "${name}": use lower-case letters, digits and dashes.`);
  }
}

export function brokerLayout(name: string): BrokerLayout {
  checkName(name);
  return layoutIn(join(BROKERS_DIR, name), name);
}

function layoutIn(dir: string, name: string): BrokerLayout {
  const logsDir = join(dir, 'logs');
  return {
    name,
    dir,
    dataDir: join(dir, 'data'),
    logsDir,
    serverLog: join(logsDir, 'server.log'),
    stdoutLog: join(logsDir, 'stdout.log'),
    propertiesFile: join(dir, 'server.properties'),
    log4jFile: join(dir, 'log4j2.properties'),
    pidFile: join(dir, 'broker.pid'),
    stateFile: join(dir, 'state.json'),
    connectionFile: join(dir, 'connection.json'),
  };
}

/** A local cluster lives where a broker of the same name would, one sub-directory per node. */
export interface ClusterLayout {
  name: string;
  dir: string;
  stateFile: string;
  connectionFile: string;
  /** Node `id` (1-based, its Kafka node.id) as a broker layout of its own: data, logs, pid, properties. */
  node: (id: number) => BrokerLayout;
}

export function clusterLayout(name: string): ClusterLayout {
  checkName(name);
  const dir = join(BROKERS_DIR, name);
  return {
    name,
    dir,
    stateFile: join(dir, 'cluster.json'),
    connectionFile: join(dir, 'connection.json'),
    node: (id) => layoutIn(join(dir, `node-${id}`), `${name} node ${id}`),
  };
}

/** Whether `name` was created as a cluster (its state file exists), so broker commands must not treat it as one broker. */
export function isCluster(name: string): boolean {
  return existsSync(clusterLayout(name).stateFile);
}
