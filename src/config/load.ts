/**
 * Reads the environment into a validated KafkaConfig. Every variable is parsed on its own, then
 * the rules between variables run on whatever parsed, so one pass reports every problem at once.
 */
import * as v from 'valibot';
import { ConfigError, type ConfigProblem } from '../errors/errors.js';
import { REFERENCES, type ReferenceName, referencesIn } from './references.js';
import type { SaslMechanism } from './schemas.js';
import { Secret } from './secret.js';
import { type ParsedVariables, VARIABLES, type VariableName } from './variables.js';

/**
 * The protocol spoken to the brokers, derived from KAFKA_USE_SSL and KAFKA_SASL_MECHANISM.
 * @inline
 */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** Where a certificate or key comes from. Inline PEM is wrapped so it never prints. */
export type PemSource =
  | {
      /** A file: KAFKA_SSL_CAFILE, KAFKA_SSL_CERTFILE or KAFKA_SSL_KEYFILE. */
      kind: 'file';
      /** The variable it was read from. */
      variable: VariableName;
      /** The file's path, as given. */
      path: string;
    }
  | {
      /** PEM text in the environment (KAFKA_SSL_*_PEM), or fetched from a reference. */
      kind: 'inline';
      /** The variable it was read from. */
      variable: VariableName;
      /** The PEM text: prints as `***`; `reveal()` gives it. */
      pem: Secret;
    };

/**
 * TLS to the brokers, and the certificates checked before connecting.
 * @inline
 */
export interface SslSettings {
  /** KAFKA_USE_SSL. */
  enabled: boolean;
  /** KAFKA_SSL_VERIFY_CERTIFICATES: check the certificate files before connecting (PEM, dates, key, chain). */
  verifyCertificates: boolean;
  /** KAFKA_SSL_EXPIRY_WARNING_DAYS: a certificate that expires within this many days gets a warning. */
  expiryWarningDays: number;
  /**
   * The CA certificate(s) the brokers' certificates are checked against: a file (`{ kind: 'file',
   * path }`) or PEM text (`{ kind: 'inline', pem }`), with the `variable` it came from. Unset: the system's CAs.
   */
  ca?: PemSource;
  /** The client certificate, for mutual TLS: a file or PEM text, as `ca`. */
  certificate?: PemSource;
  /** The client certificate's private key: a file or PEM text, as `ca` (the PEM prints as `***`). */
  key?: PemSource;
  /** KAFKA_SSL_KEY_PASSWORD: decrypts `key`. Prints as `***`; `reveal()` gives it. */
  keyPassword?: Secret;
}

/**
 * SASL authentication, when KAFKA_SASL_MECHANISM is set.
 * @inline
 */
export interface SaslSettings {
  /** KAFKA_SASL_MECHANISM. */
  mechanism: SaslMechanism;
  /** KAFKA_SASL_USERNAME (or the secret's `username`); unset with AWS_MSK_IAM. */
  username?: string;
  /**
   * KAFKA_SASL_PASSWORD, or what KAFKA_SASL_PASSWORD_SECRET / _PARAMETER gave; unset with
   * AWS_MSK_IAM. Prints as `***`; `reveal()` gives it.
   */
  password?: Secret;
  /** AWS_MSK_IAM only: the region the token is signed for (AWS_REGION). */
  region?: string;
  /** AWS_MSK_IAM only: KAFKA_MSK_IAM_TOKEN_LIFETIME. */
  tokenLifetimeMs?: number;
}

/**
 * The consumer's group and librdkafka timings (KAFKA_CONSUMER_*).
 * @inline
 */
export interface ConsumerSettings {
  /** KAFKA_CONSUMER_GROUP_ID: required to consume. */
  groupId?: string;
  /** KAFKA_CONSUMER_SESSION_TIMEOUT_MS: librdkafka's session.timeout.ms. */
  sessionTimeoutMs: number;
  /** KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: librdkafka's heartbeat.interval.ms. */
  heartbeatIntervalMs: number;
  /** KAFKA_CONSUMER_REQUEST_TIMEOUT_MS: the consumer's request timeout (librdkafka's socket.timeout.ms). */
  requestTimeoutMs: number;
  /** KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS: librdkafka's connections.max.idle.ms. */
  connectionsMaxIdleMs: number;
  /**
   * KAFKA_CONSUMER_METADATA_MAX_AGE_MS: how often the consumer refreshes cluster metadata (librdkafka's
   * topic.metadata.refresh.interval.ms).
   */
  metadataMaxAgeMs: number;
}

/**
 * How the initializer retries, and how much of the invocation it keeps free.
 * @inline
 */
export interface InitSettings {
  /** KAFKA_CONSUMER_INIT_RETRIES: retries after an initialisation's first attempt; 0 means exactly one attempt. */
  retries: number;
  /** KAFKA_CONSUMER_INIT_DELAY: the first retry's delay, ms; it doubles per retry, with jitter. */
  initialDelayMs: number;
  /** KAFKA_CONSUMER_INIT_MAX_DELAY: the longest delay between retries, ms. */
  maxDelayMs: number;
  /** KAFKA_STARTUP_HEALTH_CHECK: check broker connectivity and metadata before creating the clients. */
  startupHealthCheck: boolean;
  /**
   * KAFKA_COORDINATOR_WAIT_TIMEOUT: the longest wait for the broker health check and for the consumer
   * to join its group, ms.
   */
  coordinatorWaitTimeoutMs: number;
  /** KAFKA_DEADLINE_MARGIN_MS: what an invocation's deadline keeps free before Lambda's own. */
  deadlineMarginMs: number;
  /** KAFKA_CIRCUIT_BREAKER_THRESHOLD: consecutive failed initialisations that open the breaker; 0 disables it. */
  breakerThreshold: number;
  /** KAFKA_CIRCUIT_BREAKER_COOLDOWN_MS: how long an open breaker fails fast before letting one attempt through. */
  breakerCooldownMs: number;
}

/**
 * The topics the function uses (KAFKA_TOPICS), checked or created at initialisation.
 * @inline
 */
export interface TopicSettings {
  /**
   * KAFKA_TOPICS: verified at start-up. When set, produce() sends only to these; the first is where a
   * message that names no topic goes.
   */
  names: readonly string[];
  /** KAFKA_CREATE_TOPICS: create the topics that do not exist. */
  create: boolean;
  /** The brokers' min.insync.replicas (KAFKA_MIN_INSYNC_REPLICAS), which health judges partitions by. */
  minInsyncReplicas: number;
  /** KAFKA_TOPIC_PARTITIONS, for created topics; unset: the broker's default. */
  partitions?: number;
  /** KAFKA_TOPIC_REPLICATION_FACTOR, for created topics; unset: the broker's default. */
  replicationFactor?: number;
}

/**
 * How sends behave (KAFKA_PRODUCE_*, KAFKA_HTTP_MAX_BODY_BYTES).
 * @inline
 */
export interface ProduceSettings {
  /**
   * KAFKA_PRODUCE_BROKERS_DOWN_TIMEOUT_MS: how long a send keeps waiting once every broker
   * connection is down. Undefined: a send waits for a broker while the invocation has time.
   */
  brokersDownTimeoutMs?: number;
  /** KAFKA_HTTP_MAX_BODY_BYTES: a larger HTTP request body is refused (413) before it is parsed. */
  httpMaxBodyBytes: number;
  /** KAFKA_PRODUCE_LINGER_MS: librdkafka's linger.ms; above 0, each send flushes what it queued. */
  lingerMs: number;
}

/**
 * The memory librdkafka may use for its queues and buffers.
 * @inline
 */
export interface MemorySettings {
  /**
   * KAFKA_CLIENT_MEMORY_MB, else a quarter of the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
   * undefined outside Lambda, where librdkafka's own limits apply (src/clients/memory.ts).
   */
  clientMemoryMb?: number;
}

/**
 * OpenTelemetry tracing of sends and consumed batches.
 * @inline
 */
export interface TracingSettings {
  /** KAFKA_TRACING: spans when an OpenTelemetry SDK is registered. */
  enabled: boolean;
  /** KAFKA_TRACE_HEADERS: trace context in each sent message's headers, while tracing. */
  headers: boolean;
}

/**
 * The forward function's destination.
 * @inline
 */
export interface ForwardSettings {
  /** KAFKA_FORWARD_TOPIC: where the forward function produces; unset in the functions that do not forward. */
  topic?: string;
}

/**
 * The validated configuration, read from KAFKA_* (and a few AWS_*) variables by loadConfig().
 * Secrets in it (passwords, an inline key) are wrapped so that they print as `***`.
 */
export interface KafkaConfig {
  /** KAFKA_BOOTSTRAP_SERVERS, as `host:port` entries. */
  bootstrapServers: readonly string[];
  /** KAFKA_CLIENT_ID, else the function's name (AWS_LAMBDA_FUNCTION_NAME), else "lambda-kafka". */
  clientId: string;
  /** Derived from KAFKA_USE_SSL and KAFKA_SASL_MECHANISM. */
  securityProtocol: SecurityProtocol;
  /** TLS, and the certificates and key. */
  ssl: SslSettings;
  /** SASL authentication; unset without KAFKA_SASL_MECHANISM. */
  sasl?: SaslSettings;
  /** The consumer group and its timings. */
  consumer: ConsumerSettings;
  /** The topics, and whether to create them. */
  topics: TopicSettings;
  /** Retries, deadline margin and circuit breaker of the initialisation. */
  init: InitSettings;
  /** How sends wait, linger and limit HTTP bodies. */
  produce: ProduceSettings;
  /** librdkafka's memory budget. */
  memory: MemorySettings;
  /** The forward function's topic. */
  forward: ForwardSettings;
  /** OpenTelemetry tracing. */
  tracing: TracingSettings;
  /** The secrets given by reference (src/config/references.ts), e.g. KAFKA_SASL_PASSWORD_SECRET. */
  references: readonly ReferenceName[];
  /**
   * False until the referenced values are fetched: the settings they give (the SASL password, the
   * key PEM, its password) are then still unset, and no client may be built from this config.
   */
  referencesResolved: boolean;
  /** Settings that work but are probably not what was meant. */
  warnings: readonly string[];
  /**
   * Secrets set where they should not be (a password in a Lambda function's environment): logged at
   * every cold start, but not a health problem, since Kafka works all the same.
   */
  securityWarnings: readonly string[];
}

/** Environment variables by name, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

function parseVariables(env: Environment, problems: ConfigProblem[]): ParsedVariables {
  const parsed: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, (typeof VARIABLES)[VariableName]][]) {
    const raw = env[name];
    const text = raw === undefined || raw.trim() === '' ? ('default' in variable ? variable.default : undefined) : raw;
    if (text === undefined) continue;
    const result = v.safeParse(variable.schema, text, { abortPipeEarly: true });
    if (result.success) {
      parsed[name] = result.output;
      continue;
    }
    const secret = 'secret' in variable && variable.secret;
    const shown = raw ?? text;
    const got = secret ? ' (value hidden)' : `, got "${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}"`;
    const messages = [...new Set(result.issues.map((issue) => issue.message))];
    problems.push({ variables: [name], message: `${name}: ${messages.join('; ')}${got}` });
  }
  return parsed as ParsedVariables;
}

/** A quarter of the memory Lambda gives the function (it sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB). */
function quarterOfFunctionMemory(env: Environment): number | undefined {
  const size = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isInteger(size) && size >= 128 ? Math.floor(size / 4) : undefined;
}

function pemSource(
  fileVariable: VariableName,
  path: string | undefined,
  inlineVariable: VariableName,
  pem: string | undefined,
): PemSource | undefined {
  if (path !== undefined) return { kind: 'file', variable: fileVariable, path };
  if (pem !== undefined) return { kind: 'inline', variable: inlineVariable, pem: new Secret(pem) };
  return undefined;
}

/** Rules between variables; each runs only when the variables it reads parsed. */
function checkCombinations(p: ParsedVariables, env: Environment, problems: ConfigProblem[], warnings: string[]) {
  const problem = (variables: string[], message: string) => problems.push({ variables, message });
  const session = p.KAFKA_CONSUMER_SESSION_TIMEOUT_MS;
  const heartbeat = p.KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS;
  if (session !== undefined && heartbeat !== undefined) {
    if (heartbeat >= session) {
      problem(
        ['KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS', 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS'],
        `KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS (${heartbeat}) must be lower than KAFKA_CONSUMER_SESSION_TIMEOUT_MS (${session}); at most a third of it is usual`,
      );
    } else if (heartbeat * 3 > session) {
      warnings.push(
        `KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS (${heartbeat}) is more than a third of KAFKA_CONSUMER_SESSION_TIMEOUT_MS (${session}): one lost heartbeat can cost the group membership`,
      );
    }
  }
  if (session !== undefined && (session < 6000 || session > 1_800_000)) {
    warnings.push(
      `KAFKA_CONSUMER_SESSION_TIMEOUT_MS (${session}) is outside the broker's default group.min/max.session.timeout.ms (6000..1800000): the broker may refuse the join`,
    );
  }
  const delay = p.KAFKA_CONSUMER_INIT_DELAY;
  const maxDelay = p.KAFKA_CONSUMER_INIT_MAX_DELAY;
  if (delay !== undefined && maxDelay !== undefined && delay > maxDelay) {
    problem(
      ['KAFKA_CONSUMER_INIT_DELAY', 'KAFKA_CONSUMER_INIT_MAX_DELAY'],
      `KAFKA_CONSUMER_INIT_DELAY (${delay / 1000} s) must not exceed KAFKA_CONSUMER_INIT_MAX_DELAY (${maxDelay / 1000} s)`,
    );
  }

  const pairs: [VariableName, VariableName, string][] = [
    ['KAFKA_SSL_CAFILE', 'KAFKA_SSL_CA_PEM', 'CA certificate'],
    ['KAFKA_SSL_CERTFILE', 'KAFKA_SSL_CERT_PEM', 'client certificate'],
    ['KAFKA_SSL_KEYFILE', 'KAFKA_SSL_KEY_PEM', 'private key'],
  ];
  for (const [file, inline, what] of pairs) {
    if (env[file]?.trim() && env[inline]?.trim()) {
      problem([file, inline], `${file} and ${inline} are both set: give the ${what} one way only`);
    }
  }
  const hasCert = Boolean(env.KAFKA_SSL_CERTFILE?.trim() || env.KAFKA_SSL_CERT_PEM?.trim());
  const hasKey = Boolean(
    env.KAFKA_SSL_KEYFILE?.trim() || env.KAFKA_SSL_KEY_PEM?.trim() || env.KAFKA_SSL_KEY_PEM_PARAMETER?.trim(),
  );
  if (hasCert && !hasKey) {
    problem(
      ['KAFKA_SSL_KEYFILE', 'KAFKA_SSL_KEY_PEM'],
      'KAFKA_SSL_KEYFILE (or KAFKA_SSL_KEY_PEM): required with a client certificate, which is useless without its key',
    );
  }
  if (hasKey && !hasCert) {
    problem(
      ['KAFKA_SSL_CERTFILE', 'KAFKA_SSL_CERT_PEM'],
      'KAFKA_SSL_CERTFILE (or KAFKA_SSL_CERT_PEM): required with a private key, which is useless without its certificate',
    );
  }
  if ((p.KAFKA_SSL_KEY_PASSWORD !== undefined || env.KAFKA_SSL_KEY_PASSWORD_PARAMETER?.trim()) && !hasKey) {
    problem(['KAFKA_SSL_KEY_PASSWORD'], 'KAFKA_SSL_KEY_PASSWORD: set, but there is no private key to decrypt');
  }
  const sslMaterial = pairs.flatMap((pair) => pair.slice(0, 2)).filter((name) => env[name]?.trim());
  if (p.KAFKA_USE_SSL === false && sslMaterial.length > 0) {
    warnings.push(`${sslMaterial.join(', ')} set but KAFKA_USE_SSL is false: the certificates are not used`);
  }

  const mechanism = p.KAFKA_SASL_MECHANISM;
  if (mechanism === undefined && !env.KAFKA_SASL_MECHANISM?.trim()) {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (env[name]?.trim()) problem([name, 'KAFKA_SASL_MECHANISM'], `${name}: set, but KAFKA_SASL_MECHANISM is not`);
    }
  }
  if (mechanism === 'AWS_MSK_IAM') {
    if (p.KAFKA_USE_SSL === false) {
      problem(
        ['KAFKA_USE_SSL'],
        'KAFKA_USE_SSL: must be true with KAFKA_SASL_MECHANISM=AWS_MSK_IAM (MSK IAM only listens on TLS, port 9098)',
      );
    }
    if (!env.AWS_REGION?.trim()) {
      problem(
        ['AWS_REGION'],
        'AWS_REGION: required with KAFKA_SASL_MECHANISM=AWS_MSK_IAM to sign the token (Lambda sets it)',
      );
    }
    if (env.KAFKA_SASL_USERNAME?.trim() || env.KAFKA_SASL_PASSWORD?.trim()) {
      warnings.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are ignored with AWS_MSK_IAM: the function role signs in');
    }
  } else if (mechanism !== undefined) {
    // A JSON secret may give the user name too; a reference gives the password once fetched.
    const bySecret = Boolean(env.KAFKA_SASL_PASSWORD_SECRET?.trim());
    const byReference = bySecret || Boolean(env.KAFKA_SASL_PASSWORD_PARAMETER?.trim());
    if (!env.KAFKA_SASL_USERNAME?.trim() && !bySecret) {
      problem(['KAFKA_SASL_USERNAME'], `KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    }
    if (!env.KAFKA_SASL_PASSWORD?.trim() && !byReference) {
      problem(
        ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_SECRET'],
        `KAFKA_SASL_PASSWORD_SECRET (a Secrets Manager secret) or KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=${mechanism}`,
      );
    }
    if (mechanism === 'PLAIN' && p.KAFKA_USE_SSL === false) {
      warnings.push('KAFKA_SASL_MECHANISM=PLAIN without KAFKA_USE_SSL sends the password in clear text');
    }
  }

  if (p.KAFKA_CREATE_TOPICS === true && (p.KAFKA_TOPICS ?? []).length === 0) {
    warnings.push('KAFKA_CREATE_TOPICS=true but KAFKA_TOPICS is empty: there is nothing to create');
  }
  const forwardTopic = p.KAFKA_FORWARD_TOPIC;
  const topics = p.KAFKA_TOPICS ?? [];
  if (forwardTopic !== undefined && topics.length > 0 && !topics.includes(forwardTopic)) {
    warnings.push(
      `KAFKA_FORWARD_TOPIC (${forwardTopic}) is not in KAFKA_TOPICS: start-up does not verify it, so a missing topic shows only when the first record is forwarded`,
    );
  }
  for (const name of ['KAFKA_TOPIC_PARTITIONS', 'KAFKA_TOPIC_REPLICATION_FACTOR'] as const) {
    if (p[name] !== undefined && p.KAFKA_CREATE_TOPICS === false) {
      warnings.push(`${name} only applies to topics created with KAFKA_CREATE_TOPICS=true`);
    }
  }
}

/** Where a plain secret variable should come from instead, inside Lambda. */
const INSTEAD: Partial<Record<VariableName, string>> = {
  KAFKA_SASL_PASSWORD:
    'KAFKA_SASL_PASSWORD_SECRET (Secrets Manager) or KAFKA_SASL_PASSWORD_PARAMETER (SSM SecureString)',
  KAFKA_SSL_KEY_PEM: 'KAFKA_SSL_KEY_PEM_PARAMETER (SSM SecureString) or KAFKA_SSL_KEYFILE',
  KAFKA_SSL_KEY_PASSWORD: 'KAFKA_SSL_KEY_PASSWORD_PARAMETER (SSM SecureString)',
};

/** A reference and the plain variable it stands for cannot both be set; plain secrets in Lambda get a warning. */
function checkReferences(env: Environment, problems: ConfigProblem[], securityWarnings: string[]) {
  const references = referencesIn(env);
  for (const reference of references) {
    const { target } = REFERENCES[reference];
    if (env[target]?.trim()) {
      problems.push({
        variables: [reference, target],
        message: `${reference} and ${target} are both set: give the value one way only (unset ${target})`,
      });
    }
    const other = references.find((r) => r !== reference && REFERENCES[r].target === target);
    if (other && reference < other) {
      problems.push({
        variables: [reference, other],
        message: `${reference} and ${other} are both set: give ${target} one way only`,
      });
    }
  }
  if (!env.AWS_LAMBDA_FUNCTION_NAME?.trim()) return;
  for (const [plain, instead] of Object.entries(INSTEAD)) {
    if (env[plain]?.trim()) {
      securityWarnings.push(
        `${plain} is in the function's environment, where anyone allowed lambda:GetFunctionConfiguration reads it: use ${instead} instead`,
      );
    }
  }
}

/**
 * Parses and validates the environment; throws one ConfigError listing every problem. `fetched`
 * holds what the references in `env` gave (resolveReferences()); without it a config with
 * references has `referencesResolved: false` and lacks the values they stand for.
 */
export function loadConfig(env: Environment = process.env, fetched?: Readonly<Record<string, string>>): KafkaConfig {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const securityWarnings: string[] = [];
  const references = referencesIn(env);
  const p = parseVariables(fetched ? { ...env, ...fetched } : env, problems);
  checkReferences(env, problems, securityWarnings);
  if (!env.KAFKA_BOOTSTRAP_SERVERS?.trim()) {
    problems.unshift({
      variables: ['KAFKA_BOOTSTRAP_SERVERS'],
      message: 'KAFKA_BOOTSTRAP_SERVERS: required, e.g. b-1.mycluster.kafka.eu-west-1.amazonaws.com:9096,b-2...:9096',
    });
  }
  checkCombinations(p, env, problems, warnings);
  const mechanism = p.KAFKA_SASL_MECHANISM;
  if (fetched && mechanism && mechanism !== 'AWS_MSK_IAM' && p.KAFKA_SASL_USERNAME === undefined) {
    problems.push({
      variables: ['KAFKA_SASL_USERNAME'],
      message: `KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism} (the secret of KAFKA_SASL_PASSWORD_SECRET has no "username")`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  // Every variable below either parsed or has a default: the assertions only restate that.
  const useSsl = p.KAFKA_USE_SSL as boolean;
  const sasl: SaslSettings | undefined = p.KAFKA_SASL_MECHANISM
    ? {
        mechanism: p.KAFKA_SASL_MECHANISM,
        ...(p.KAFKA_SASL_MECHANISM === 'AWS_MSK_IAM'
          ? { region: env.AWS_REGION?.trim(), tokenLifetimeMs: p.KAFKA_MSK_IAM_TOKEN_LIFETIME as number }
          : {
              username: p.KAFKA_SASL_USERNAME,
              password: p.KAFKA_SASL_PASSWORD === undefined ? undefined : new Secret(p.KAFKA_SASL_PASSWORD),
            }),
      }
    : undefined;
  const securityProtocol: SecurityProtocol = sasl
    ? useSsl
      ? 'SASL_SSL'
      : 'SASL_PLAINTEXT'
    : useSsl
      ? 'SSL'
      : 'PLAINTEXT';
  return {
    bootstrapServers: p.KAFKA_BOOTSTRAP_SERVERS as string[],
    clientId: p.KAFKA_CLIENT_ID ?? (env.AWS_LAMBDA_FUNCTION_NAME?.trim() || 'lambda-kafka'),
    securityProtocol,
    ssl: {
      enabled: useSsl,
      verifyCertificates: p.KAFKA_SSL_VERIFY_CERTIFICATES as boolean,
      expiryWarningDays: p.KAFKA_SSL_EXPIRY_WARNING_DAYS as number,
      ca: pemSource('KAFKA_SSL_CAFILE', p.KAFKA_SSL_CAFILE, 'KAFKA_SSL_CA_PEM', p.KAFKA_SSL_CA_PEM),
      certificate: pemSource('KAFKA_SSL_CERTFILE', p.KAFKA_SSL_CERTFILE, 'KAFKA_SSL_CERT_PEM', p.KAFKA_SSL_CERT_PEM),
      key: pemSource('KAFKA_SSL_KEYFILE', p.KAFKA_SSL_KEYFILE, 'KAFKA_SSL_KEY_PEM', p.KAFKA_SSL_KEY_PEM),
      keyPassword: p.KAFKA_SSL_KEY_PASSWORD === undefined ? undefined : new Secret(p.KAFKA_SSL_KEY_PASSWORD),
    },
    sasl,
    consumer: {
      groupId: p.KAFKA_CONSUMER_GROUP_ID,
      sessionTimeoutMs: p.KAFKA_CONSUMER_SESSION_TIMEOUT_MS as number,
      heartbeatIntervalMs: p.KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS as number,
      requestTimeoutMs: p.KAFKA_CONSUMER_REQUEST_TIMEOUT_MS as number,
      connectionsMaxIdleMs: p.KAFKA_CONSUMER_CONNECTIONS_MAX_IDLE_MS as number,
      metadataMaxAgeMs: p.KAFKA_CONSUMER_METADATA_MAX_AGE_MS as number,
    },
    topics: {
      names: p.KAFKA_TOPICS ?? [],
      create: p.KAFKA_CREATE_TOPICS as boolean,
      minInsyncReplicas: p.KAFKA_MIN_INSYNC_REPLICAS as number,
      partitions: p.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: p.KAFKA_TOPIC_REPLICATION_FACTOR,
    },
    init: {
      retries: p.KAFKA_CONSUMER_INIT_RETRIES as number,
      initialDelayMs: p.KAFKA_CONSUMER_INIT_DELAY as number,
      maxDelayMs: p.KAFKA_CONSUMER_INIT_MAX_DELAY as number,
      startupHealthCheck: p.KAFKA_STARTUP_HEALTH_CHECK as boolean,
      coordinatorWaitTimeoutMs: p.KAFKA_COORDINATOR_WAIT_TIMEOUT as number,
      deadlineMarginMs: p.KAFKA_DEADLINE_MARGIN_MS as number,
      breakerThreshold: p.KAFKA_CIRCUIT_BREAKER_THRESHOLD as number,
      breakerCooldownMs: p.KAFKA_CIRCUIT_BREAKER_COOLDOWN_MS as number,
    },
    produce: {
      brokersDownTimeoutMs: p.KAFKA_PRODUCE_BROKERS_DOWN_TIMEOUT_MS,
      httpMaxBodyBytes: p.KAFKA_HTTP_MAX_BODY_BYTES as number,
      lingerMs: p.KAFKA_PRODUCE_LINGER_MS as number,
    },
    memory: { clientMemoryMb: p.KAFKA_CLIENT_MEMORY_MB ?? quarterOfFunctionMemory(env) },
    forward: { topic: p.KAFKA_FORWARD_TOPIC },
    tracing: { enabled: p.KAFKA_TRACING as boolean, headers: p.KAFKA_TRACE_HEADERS as boolean },
    references,
    referencesResolved: references.length === 0 || fetched !== undefined,
    warnings,
    securityWarnings,
  };
}
