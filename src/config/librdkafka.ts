/**
 * KafkaConfig → librdkafka properties, per client type. The seed's consumer timeouts carry
 * Java client names; here is where each meets its librdkafka name
 * (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md):
 *
 *   session_timeout_ms       → session.timeout.ms                  consumer only
 *   heartbeat_interval_ms    → heartbeat.interval.ms               consumer only
 *   request_timeout_ms       → socket.timeout.ms                   consumer (librdkafka's request.timeout.ms
 *                                                                  is a producer ack timeout, a different thing)
 *   connections_max_idle_ms  → connections.max.idle.ms             consumer
 *   metadata_max_age_ms      → topic.metadata.refresh.interval.ms  consumer (librdkafka's metadata.max.age.ms
 *                                                                  is the cache expiry, 3× the refresh by default)
 *
 * Producer and admin clients get only the connection and security settings here; the
 * initializer adds what each stage needs.
 */
import type { KafkaConfig, PemSource } from './load.js';
import { type MskIamTokens, mskIamTokens } from './msk-iam.js';

export type ClientType = 'producer' | 'consumer' | 'admin';

/** What the binding accepts: librdkafka properties, plus the OAUTHBEARER refresh callback. */
export type RdKafkaProperties = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

function pemProperties(source: PemSource | undefined, location: string, pem: string): RdKafkaProperties {
  if (!source) return {};
  return source.kind === 'file' ? { [location]: source.path } : { [pem]: source.pem.reveal() };
}

/** Connection, TLS and SASL settings shared by every client type. */
function connectionProperties(config: KafkaConfig): RdKafkaProperties {
  if (!config.referencesResolved) {
    throw new Error(
      `a client was configured before ${config.references.join(', ')} was fetched (resolveReferences() comes first)`,
    );
  }
  const props: RdKafkaProperties = {
    'bootstrap.servers': config.bootstrapServers.join(','),
    'client.id': config.clientId,
    'security.protocol': config.securityProtocol.toLowerCase(),
  };
  if (config.ssl.enabled) {
    Object.assign(
      props,
      // Without a CA of its own, trust the system store — found by probing the usual places, because
      // the OpenSSL linked into a self-contained binding looks for it where its build machine kept it
      // (Debian's /usr/lib/ssl), not where Amazon Linux does (/etc/pki/tls/certs/ca-bundle.crt).
      config.ssl.ca ? pemProperties(config.ssl.ca, 'ssl.ca.location', 'ssl.ca.pem') : { 'ssl.ca.location': 'probe' },
      pemProperties(config.ssl.certificate, 'ssl.certificate.location', 'ssl.certificate.pem'),
      pemProperties(config.ssl.key, 'ssl.key.location', 'ssl.key.pem'),
    );
    if (config.ssl.keyPassword) props['ssl.key.password'] = config.ssl.keyPassword.reveal();
  }
  const sasl = config.sasl;
  if (sasl?.mechanism === 'AWS_MSK_IAM') {
    props['sasl.mechanisms'] = 'OAUTHBEARER';
    props.oauthbearer_token_refresh_cb = mskIamTokens(sasl.region as string, sasl.tokenLifetimeMs).refresh;
  } else if (sasl) {
    props['sasl.mechanisms'] = sasl.mechanism;
    props['sasl.username'] = sasl.username as string;
    props['sasl.password'] = sasl.password?.reveal() as string;
  }
  return props;
}

/** librdkafka properties for one client type. The result holds secrets: hand it to the binding, never to a log. */
export function librdkafkaProperties(config: KafkaConfig, client: ClientType): RdKafkaProperties {
  const props = connectionProperties(config);
  if (client === 'consumer') {
    const consumer = config.consumer;
    if (consumer.groupId) props['group.id'] = consumer.groupId;
    props['session.timeout.ms'] = consumer.sessionTimeoutMs;
    props['heartbeat.interval.ms'] = consumer.heartbeatIntervalMs;
    props['socket.timeout.ms'] = consumer.requestTimeoutMs;
    props['connections.max.idle.ms'] = consumer.connectionsMaxIdleMs;
    props['topic.metadata.refresh.interval.ms'] = consumer.metadataMaxAgeMs;
  }
  return props;
}

/** Which librdkafka property each seed variable sets, per client type (the table in docs/configuration.md is checked against it). */
export const PROPERTY_MAP: Readonly<Record<string, Readonly<Record<ClientType, string | null>>>> = {
  KAFKA_CONSUMER_SESSION_TIMEOUT_MS: { producer: null, consumer: 'session.timeout.ms', admin: null },
  KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: { producer: null, consumer: 'heartbeat.interval.ms', admin: null },
  KAFKA_CONSUMER_REQUEST_TIMEOUT_MS: { producer: null, consumer: 'socket.timeout.ms', admin: null },
  KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS: { producer: null, consumer: 'connections.max.idle.ms', admin: null },
  KAFKA_CONSUMER_METADATA_MAX_AGE_MS: { producer: null, consumer: 'topic.metadata.refresh.interval.ms', admin: null },
};

/** The AWS_MSK_IAM token source of clients built from `config`, if it uses one. */
export function tokenSourceOf(config: KafkaConfig): MskIamTokens | undefined {
  const sasl = config.sasl;
  return sasl?.mechanism === 'AWS_MSK_IAM' ? mskIamTokens(sasl.region as string, sasl.tokenLifetimeMs) : undefined;
}

/** Registers a client built from `config` with its token source, which hands it new tokens after a freeze. */
export function trackTokenClient(config: KafkaConfig, client: object): void {
  tokenSourceOf(config)?.track(client);
}
