/** The broker's server.properties, log4j2 configuration, storage format and JVM arguments. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { CertificatePaths } from './certs.js';
import type { BrokerPorts } from './connection.js';
import { javaCommand, LIB_CLASSPATH, VALIDATOR_CLASS } from './jars.js';
import { type BrokerLayout, MSK_IAM_CREDENTIALS_FILE, MSK_IAM_REGION } from './layout.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-512';
/** How long an AWS_MSK_IAM connection lasts before it must re-authenticate: short, for the tests. */
export const MSK_IAM_REAUTH_MS = 20_000;

export interface BrokerState {
  clusterId: string;
  portBase: number;
  props: Record<string, string>;
  scram: { mechanism: 'SCRAM-SHA-512'; username: string; password: string };
  /** Loopback address every listener binds to and advertises. */
  host: string;
}

export function brokerProperties(
  layout: BrokerLayout,
  ports: BrokerPorts,
  certs: CertificatePaths,
  extra: Record<string, string>,
  host: string,
) {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${ports.CONTROLLER}`,
    listeners: `PLAINTEXT://${host}:${ports.PLAINTEXT},SSL://${host}:${ports.SSL},SASL_SSL://${host}:${ports.SASL_SSL},CONTROLLER://${host}:${ports.CONTROLLER}`,
    'advertised.listeners': `PLAINTEXT://${host}:${ports.PLAINTEXT},SSL://${host}:${ports.SSL},SASL_SSL://${host}:${ports.SASL_SSL}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': layout.dataDir,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerKeystoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certs.caFile,
    'listener.name.ssl.ssl.client.auth': 'required',
    'listener.name.sasl_ssl.ssl.client.auth': 'none',
    'sasl.enabled.mechanisms': `${SCRAM_MECHANISM},OAUTHBEARER`,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // AWS_MSK_IAM's tokens, checked as MSK checks them (layout.ts); a connection re-authenticates
    // (KIP-368) when its token expires, or after this long, whichever comes first.
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config': `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker" credentialsFile="${MSK_IAM_CREDENTIALS_FILE}" region="${MSK_IAM_REGION}";`,
    'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class': VALIDATOR_CLASS,
    'listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms': String(MSK_IAM_REAUTH_MS),
    // One node: every internal topic must live with replication factor 1.
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'num.partitions': '1',
    // Topics exist because someone created them, as on MSK and Confluent Cloud.
    'auto.create.topics.enable': 'false',
    'log.segment.bytes': String(16 * 1024 * 1024),
  };
  return { ...props, ...extra };
}

export const LOG4J2 = (serverLog: string) =>
  [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${serverLog}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = file',
    '',
  ].join('\n');

export function serialize(props: Record<string, string>): string {
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

export function formatStorage(layout: BrokerLayout, state: BrokerState): void {
  const scram = `${state.scram.mechanism}=[name="${state.scram.username}",password="${state.scram.password}"]`;
  const args = [
    ...javaArgs(layout, '256m'),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    state.clusterId,
    '--config',
    layout.propertiesFile,
    '--add-scram',
    scram,
  ];
  try {
    execFileSync(javaCommand(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const output = `${(error as { stdout?: Buffer }).stdout ?? ''}${(error as { stderr?: Buffer }).stderr ?? ''}`;
    throw new Error(
      `Formatting the storage of local broker "${layout.name}" failed:\n${output.replaceAll(state.scram.password, '***')}`,
    );
  }
}

export function javaArgs(layout: BrokerLayout, heap: string): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms128m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${layout.log4jFile}`,
    `-Dkafka.logs.dir=${layout.logsDir}`,
    '-cp',
    LIB_CLASSPATH,
  ];
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (as `kafka-storage random-uuid`). */
export function newClusterId(): string {
  // Like Kafka's Uuid.randomUuid(): an id starting with "-" would read as an option on a command line.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
