/**
 * Every environment variable the library reads: its schema, its default and what it is for.
 * The names and defaults of the seed design are kept exactly; the rest are what a Lambda needs.
 * This table is the reference the table in docs/configuration.md is checked against.
 */
import type * as v from 'valibot';
import {
  boolean,
  bootstrapServers,
  inlinePem,
  nonEmptyText,
  saslMechanism,
  secondsAsMs,
  topicList,
  topicName,
  wholeNumber,
} from './schemas.js';

interface Variable {
  // biome-ignore lint/suspicious/noExplicitAny: each variable has its own output type.
  schema: v.GenericSchema<string, any>;
  /** Used when the variable is unset or blank; `undefined` means optional without default. */
  default?: string;
  /** Never echoed in error messages, logs or health output. */
  secret?: boolean;
  description: string;
}

const HOUR_MS = 3_600_000;

export const VARIABLES = {
  KAFKA_BOOTSTRAP_SERVERS: {
    schema: bootstrapServers,
    description: 'Brokers to bootstrap from, host:port comma-separated. Required.',
  },
  KAFKA_CLIENT_ID: {
    schema: nonEmptyText,
    description: 'client.id sent to the brokers. Default: the Lambda function name, else "lambda-kafka".',
  },
  KAFKA_USE_SSL: { schema: boolean, default: 'false', description: 'Connect with TLS.' },
  KAFKA_SSL_CAFILE: { schema: nonEmptyText, description: 'CA certificate(s) file (PEM). Unset: system CAs.' },
  KAFKA_SSL_CERTFILE: { schema: nonEmptyText, description: 'Client certificate file (PEM), for mutual TLS.' },
  KAFKA_SSL_KEYFILE: { schema: nonEmptyText, description: 'Client private key file (PEM), for mutual TLS.' },
  KAFKA_SSL_CA_PEM: { schema: inlinePem('CERTIFICATE'), description: 'CA certificate(s) inline.' },
  KAFKA_SSL_CERT_PEM: { schema: inlinePem('CERTIFICATE'), description: 'Client certificate inline.' },
  KAFKA_SSL_KEY_PEM: { schema: inlinePem('PRIVATE KEY'), secret: true, description: 'Client private key inline.' },
  KAFKA_SSL_KEY_PASSWORD: { schema: nonEmptyText, secret: true, description: 'Password of an encrypted key.' },
  KAFKA_SSL_VERIFY_CERTIFICATES: {
    schema: boolean,
    default: 'true',
    description: 'Check the certificate files before connecting (exists, PEM, dates, key match, chain).',
  },
  KAFKA_SSL_EXPIRY_WARNING_DAYS: {
    schema: wholeNumber(0, 3650),
    default: '30',
    description: 'Warn when a certificate expires within this many days.',
  },
  KAFKA_SASL_MECHANISM: {
    schema: saslMechanism,
    description: 'PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM. With KAFKA_USE_SSL: SASL_SSL.',
  },
  KAFKA_MSK_IAM_TOKEN_LIFETIME: {
    schema: secondsAsMs(10, 900),
    default: '900',
    description:
      "AWS_MSK_IAM: seconds a signed token is valid (at most 900, the signer's and MSK's). The token is renewed before it expires, and at the first invocation after a freeze that outlived most of it. Shorter only when credentials come from the environment (Lambda's); mostly for tests.",
  },
  KAFKA_SASL_USERNAME: { schema: nonEmptyText, description: 'SASL user (PLAIN / SCRAM).' },
  KAFKA_SASL_PASSWORD: { schema: nonEmptyText, secret: true, description: 'SASL password (PLAIN / SCRAM).' },
  KAFKA_SASL_PASSWORD_SECRET: {
    schema: nonEmptyText,
    description:
      'Secrets Manager secret (ARN or name) holding the SASL password, fetched at run time: a JSON secret gives its "password" (and "username" when KAFKA_SASL_USERNAME is unset), any other its whole text. Instead of KAFKA_SASL_PASSWORD.',
  },
  KAFKA_SASL_PASSWORD_SECRET_KEY: {
    schema: nonEmptyText,
    description: 'The key of a JSON secret that holds the password, when it is not "password".',
  },
  KAFKA_SASL_PASSWORD_PARAMETER: {
    schema: nonEmptyText,
    description: 'SSM SecureString parameter name holding the SASL password. Instead of KAFKA_SASL_PASSWORD.',
  },
  KAFKA_SSL_KEY_PEM_PARAMETER: {
    schema: nonEmptyText,
    description: 'SSM SecureString parameter name holding the client private key (PEM). Instead of KAFKA_SSL_KEY_PEM.',
  },
  KAFKA_SSL_KEY_PASSWORD_PARAMETER: {
    schema: nonEmptyText,
    description: 'SSM SecureString parameter name holding the key password. Instead of KAFKA_SSL_KEY_PASSWORD.',
  },
  KAFKA_SECRETS_MAX_AGE: {
    schema: wholeNumber(0, 86_400),
    default: '300',
    description:
      'Seconds a fetched secret or parameter is reused before new clients fetch it again; an authentication failure fetches at once.',
  },
  KAFKA_CONSUMER_GROUP_ID: { schema: nonEmptyText, description: 'Consumer group of the consuming functions.' },
  KAFKA_TOPICS: {
    schema: topicList,
    description: 'Topics to verify at start-up, comma-separated; the first is the default topic.',
  },
  KAFKA_FORWARD_TOPIC: {
    schema: topicName,
    description:
      'Topic the forward function (fed by an event source mapping) produces its transformed records to. Required by that function only.',
  },
  KAFKA_CREATE_TOPICS: { schema: boolean, default: 'false', description: 'Create missing KAFKA_TOPICS.' },
  KAFKA_TRACING: {
    schema: boolean,
    default: 'true',
    description:
      'OpenTelemetry spans for sends and consumed batches, when an OpenTelemetry SDK is registered (the ADOT layer, or your own); with none, nothing is done. false: never.',
  },
  KAFKA_TRACE_HEADERS: {
    schema: boolean,
    default: 'true',
    description:
      "While tracing: each sent message carries the send's W3C traceparent (and tracestate) and the invocation's X-Ray id (x-amzn-trace-id) in its headers. false for consumers that refuse unknown headers.",
  },
  KAFKA_TOPIC_PARTITIONS: {
    schema: wholeNumber(1, 10_000),
    description: 'Partitions of created topics. Unset: the broker default (num.partitions).',
  },
  KAFKA_TOPIC_REPLICATION_FACTOR: {
    schema: wholeNumber(1, 32),
    description: 'Replication factor of created topics. Unset: the broker default.',
  },
  KAFKA_MIN_INSYNC_REPLICAS: {
    schema: wholeNumber(1, 32),
    default: '1',
    description:
      "The brokers' min.insync.replicas: health judges a configured topic's partitions by it (this binding cannot read topic configs).",
  },
  KAFKA_CONSUMER_INIT_RETRIES: {
    schema: wholeNumber(0, 100),
    default: '5',
    description: 'Retries after the first consumer-init attempt; 0 fails fast (one attempt).',
  },
  KAFKA_CONSUMER_INIT_DELAY: {
    schema: secondsAsMs(0.01, 300),
    default: '2',
    description: 'First retry delay, seconds; doubles per retry, with jitter.',
  },
  KAFKA_CONSUMER_INIT_MAX_DELAY: {
    schema: secondsAsMs(0.01, 900),
    default: '30',
    description: 'Longest retry delay, seconds.',
  },
  KAFKA_STARTUP_HEALTH_CHECK: {
    schema: boolean,
    default: 'true',
    description: 'Check broker connectivity and metadata before creating clients.',
  },
  KAFKA_COORDINATOR_WAIT_TIMEOUT: {
    schema: secondsAsMs(1, 900),
    default: '60',
    description: 'Longest wait for the broker health check and for the consumer to join its group, seconds.',
  },
  KAFKA_CONSUMER_SESSION_TIMEOUT_MS: {
    schema: wholeNumber(1, HOUR_MS),
    default: '30000',
    description: 'Consumer group session timeout (room for TLS handshakes).',
  },
  KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: {
    schema: wholeNumber(1, HOUR_MS),
    default: '10000',
    description: 'Consumer heartbeat interval; must be below the session timeout.',
  },
  KAFKA_CONSUMER_REQUEST_TIMEOUT_MS: {
    schema: wholeNumber(1500, 300_000),
    default: '40000',
    description: 'Consumer network request timeout.',
  },
  KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS: {
    schema: wholeNumber(0, 2_147_483_647),
    default: '600000',
    description: 'Consumer connections idle this long are closed; 0 never closes them.',
  },
  KAFKA_CONSUMER_METADATA_MAX_AGE_MS: {
    schema: wholeNumber(1000, HOUR_MS),
    default: '60000',
    description: 'How often the consumer refreshes cluster metadata.',
  },
  KAFKA_DEADLINE_MARGIN_MS: {
    schema: wholeNumber(0, 60_000),
    default: '1000',
    description: 'Time kept free before the Lambda deadline: retries and waits stop this much earlier.',
  },
  KAFKA_PRODUCE_BROKERS_DOWN_TIMEOUT_MS: {
    schema: wholeNumber(0, HOUR_MS),
    description:
      'How long a send waits once every broker connection is down before failing its messages with that cause. Unset: while the invocation has time.',
  },
  KAFKA_PRODUCE_LINGER_MS: {
    schema: wholeNumber(0, 1000),
    default: '0',
    description:
      "librdkafka's linger.ms for the producer. 0: each message goes out at once, best for one message per invocation. More (e.g. 5) for functions that send batches: each send then flushes what it queued, so an invocation's messages go out together in as few requests as the broker takes.",
  },
  KAFKA_HTTP_MAX_BODY_BYTES: {
    // Lambda takes at most 6 MiB in a synchronous invocation: a larger limit could never be reached.
    schema: wholeNumber(1, 6_291_456),
    default: '1048576',
    description:
      'Largest HTTP request body the produce function accepts, in bytes (after base64 decoding); a larger one is answered 413 before it is parsed.',
  },
  KAFKA_CLIENT_MEMORY_MB: {
    schema: wholeNumber(8, 10_240),
    description:
      "Memory the Kafka clients may hold, in MB: the producer's queue, half of it for the consumer's prefetch, a quarter for one batch of a drain. Unset: a quarter of the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); outside Lambda, librdkafka's own limits.",
  },
  KAFKA_CIRCUIT_BREAKER_THRESHOLD: {
    schema: wholeNumber(0, 1000),
    default: '3',
    description: 'Consecutive failed initialisations that open the circuit breaker; 0 disables it.',
  },
  KAFKA_CIRCUIT_BREAKER_COOLDOWN_MS: {
    schema: wholeNumber(0, HOUR_MS),
    default: '30000',
    description: 'How long an open breaker fails fast before letting one probe through.',
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Parsed value of each variable (defaults applied; absent when optional and unset). */
export type ParsedVariables = {
  -readonly [K in VariableName]?: v.InferOutput<(typeof VARIABLES)[K]['schema']>;
};

export const SECRET_VARIABLES: readonly VariableName[] = (Object.keys(VARIABLES) as VariableName[]).filter(
  (name) => (VARIABLES[name] as Variable).secret === true,
);
