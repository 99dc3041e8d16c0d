/** Where the local broker tooling keeps its cache: `.kafka/` at the repository root, ignored by git. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KAFKA_DIR = process.env.LAMBDA_KAFKA_LOCAL_DIR ?? join(REPO_ROOT, '.kafka');
export const POM_FILE = join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml');
export const LIB_DIR = join(KAFKA_DIR, 'lib');
export const CERTS_DIR = join(KAFKA_DIR, 'certs');
export const BROKERS_DIR = join(KAFKA_DIR, 'brokers');
export const LOCKS_DIR = join(KAFKA_DIR, 'locks');
/** The default broker's connection details, read by tests, the demo and users. */
export const CONNECTION_FILE = join(KAFKA_DIR, 'connection.json');

export const DEFAULT_BROKER = 'default';
export const DEFAULT_PORT_BASE = 19092;

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

export function brokerLayout(name: string): BrokerLayout {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) {
    throw new Error(`Invalid broker name "${name}": use lower-case letters, digits and dashes.`);
  }
  const dir = join(BROKERS_DIR, name);
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
