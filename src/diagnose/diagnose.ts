/**
 * `lambda-kafka diagnose`: the seed's test script (environment, configuration validation, error
 * classification, staged initialisation, health status and metrics) followed by its
 * troubleshooting steps, each done for the user. Bounded in time: a hung broker cannot hang it.
 */
import { createRequire } from 'node:module';
import { type Environment, type KafkaConfig, loadConfig } from '../config/load.js';
import { resolveReferences, SecretFetchError } from '../config/references.js';
import { SECRET_VARIABLES, VARIABLES } from '../config/variables.js';
import { classifyKafkaError } from '../errors/classify.js';
import { ConfigError } from '../errors/errors.js';
import { KafkaInitializer } from '../init/initializer.js';
import type { Log } from '../observability/log.js';
import { Redactor } from '../observability/redact.js';
import { Deadline } from '../retry/deadline.js';
import { type CheckContext, CREATE_TOPICS_HOW, checkBootstrap, checkClientCertificates, checkTls } from './checks.js';
import {
  checkAdvertised,
  checkConnection,
  checkGroup,
  checkReplication,
  checkTopics,
  closeAdmin,
  openAdmin,
} from './kafka-checks.js';
import { add, addCause, type Report, ReportBuilder, type Section } from './report.js';

export interface DiagnoseOptions {
  env: Environment;
  /** Whole run, milliseconds. */
  timeoutMs: number;
  /**
   * Create the missing KAFKA_TOPICS (`--create-topics`). Otherwise diagnose only reads the cluster,
   * whatever KAFKA_CREATE_TOPICS says: a diagnostic tool run against production must not change it.
   */
  createTopics?: boolean;
}

function environmentSection(section: Section, env: Environment): void {
  const names = Object.keys(VARIABLES).filter((name) => env[name]?.trim());
  if (names.length === 0) add(section, 'info', '', 'no KAFKA_* variable is set');
  for (const name of names) {
    const value = env[name] as string;
    const shown = (SECRET_VARIABLES as string[]).includes(name)
      ? `*** (set, ${value.length} characters)`
      : value.includes('-----BEGIN')
        ? '(PEM, set)'
        : value;
    add(section, 'info', name, shown);
  }
}

function classificationSection(section: Section): void {
  const { createKafkaJsErrorFromLibRdKafkaError: convert } = createRequire(import.meta.url)(
    '@confluentinc/kafka-javascript/lib/kafkajs/_common.js',
  ) as { createKafkaJsErrorFromLibRdKafkaError: (e: object) => unknown };
  const viaBinding = (code: number) => {
    try {
      return convert({ code, message: 'self-check', isRetriable: true });
    } catch (error) {
      return error;
    }
  };
  const cases: [string, unknown, string, string][] = [
    ['code 15, thrown by the binding as a TypeError', viaBinding(15), 'COORDINATOR_NOT_AVAILABLE', 'transient'],
    ['code 14, type -1 from the binding', viaBinding(14), 'COORDINATOR_LOAD_IN_PROGRESS', 'transient'],
    ['code 16, type -1 from the binding', viaBinding(16), 'NOT_COORDINATOR', 'transient'],
    ['SASL authentication failed (58)', viaBinding(58), 'SASL_AUTHENTICATION_FAILED', 'config'],
    [
      'broker transport failure, message only',
      Object.assign(new Error('broker transport failure'), { code: -1 }),
      'TRANSPORT',
      'transient',
    ],
  ];
  for (const [name, error, expected, kind] of cases) {
    const c = classifyKafkaError(error);
    const ok = c.name === expected && c.kind === kind;
    add(
      section,
      ok ? 'pass' : 'fail',
      name,
      `${c.name} (${c.kind}${c.retriable ? ', retried' : ', not retried'})`,
      ok ? undefined : `expected ${expected} (${kind}): the classification table or the binding changed`,
    );
  }
}

/** The seed's log lines, as ✓ / ✗ lines. librdkafka's own lines stay out: the troubleshooting section explains them. */
function initLog(section: Section): Log & { close(): void } {
  let closed = false;
  const line = (status: 'info' | 'fail' | 'warn') => (message: string, extra?: Record<string, unknown>) => {
    if (closed || extra?.client) return;
    if (message.startsWith('✓ ')) add(section, 'pass', '', message.slice(2));
    else add(section, status, '', message);
  };
  return {
    debug: () => {},
    info: line('info'),
    warn: line('warn'),
    error: line('fail'),
    close: () => {
      closed = true;
    },
  };
}

async function stagedInitialisation(
  section: Section,
  env: Environment,
  config: KafkaConfig,
  deadline: Deadline,
  createTopics: boolean,
) {
  // The consumer joins a group of its own, so that diagnosing never rebalances the real one.
  const group = config.consumer.groupId;
  if (config.topics.create && !createTopics) {
    add(
      section,
      'info',
      '',
      `KAFKA_CREATE_TOPICS=true is not applied here: diagnose creates no topic unless asked; ${CREATE_TOPICS_HOW}`,
    );
  }
  const log = initLog(section);
  const kafka = new KafkaInitializer({
    env: {
      ...env,
      KAFKA_CREATE_TOPICS: createTopics ? 'true' : 'false',
      ...(group && { KAFKA_CONSUMER_GROUP_ID: `${group}.diagnose` }),
    },
    log,
    handleSigterm: false,
    emitMetrics: false,
  });
  const margin = config.init.deadlineMarginMs;
  const invocation = kafka.begin({
    getRemainingTimeInMillis: () => deadline.remainingMs() + margin,
    functionName: 'lambda-kafka-diagnose',
  });
  try {
    await kafka.producer(invocation);
    if (group && config.topics.names.length > 0) await kafka.consumer(invocation);
  } catch (error) {
    addCause(section, 'initialization failed', classifyKafkaError(error));
  }
  log.close();
  return kafka;
}

function healthSection(section: Section, kafka: KafkaInitializer): unknown {
  const health = kafka.getHealthStatus();
  const s = health.statistics;
  add(
    section,
    health.status === 'unhealthy' ? 'fail' : health.status === 'degraded' ? 'warn' : 'pass',
    'status',
    `${health.status}${health.reasons.length ? `: ${health.reasons.join('; ')}` : ''}`,
  );
  add(
    section,
    'info',
    'metrics',
    `consumer_init_attempts ${s.consumer_init_attempts}, producer_init_attempts ${s.producer_init_attempts}, connection_errors_total ${s.connection_errors_total}, topic_creation_errors ${s.topic_creation_errors}`,
  );
  add(
    section,
    'info',
    'stages',
    Object.entries(s.stages)
      .map(
        ([stage, st]) => `${stage} ${st.state}${st.durationMs === undefined ? '' : ` ${Math.round(st.durationMs)} ms`}`,
      )
      .join(', '),
  );
  return health;
}

/** The troubleshooting checks; each one that depends on a failed one is skipped, and says so. */
async function troubleshooting(section: Section, ctx: CheckContext): Promise<void> {
  const skip = (name: string, because: string) => add(section, 'skip', name, `skipped: ${because}`);
  const reachable = await checkBootstrap(section, ctx);
  if (reachable.length === 0) {
    for (const name of ['TLS', 'SASL authentication', 'advertised brokers', 'topics', 'consumer group'])
      skip(name, 'no bootstrap broker is reachable');
    return;
  }
  const tlsOk = await checkTls(section, ctx, reachable);
  const certificatesOk = await checkClientCertificates(section, ctx);
  if (!tlsOk || !certificatesOk) {
    for (const name of ['SASL authentication', 'advertised brokers', 'topics', 'consumer group'])
      skip(name, 'the TLS handshake or the certificates failed');
    return;
  }
  const metadata = await checkConnection(section, ctx);
  if (!metadata) {
    for (const name of ['advertised brokers', 'topics', 'consumer group'])
      skip(name, 'the client could not connect or authenticate');
    return;
  }
  await checkAdvertised(section, ctx, metadata);
  const admin = openAdmin(ctx);
  try {
    await checkTopics(section, ctx, admin);
    await checkReplication(section, ctx, admin);
    await checkGroup(section, ctx, admin, metadata);
  } finally {
    closeAdmin(admin);
  }
}

export async function diagnose(options: DiagnoseOptions): Promise<{ report: Report; redactor: Redactor }> {
  const builder = new ReportBuilder();
  const redactor = new Redactor();
  const deadline = Deadline.in(options.timeoutMs);
  environmentSection(builder.section('Environment configuration'), options.env);
  const validation = builder.section('Configuration validation');
  let config: KafkaConfig;
  try {
    config = loadConfig(options.env);
    if (!config.referencesResolved) {
      const fetched = await resolveReferences(options.env);
      redactor.register(...fetched.values);
      config = loadConfig(options.env, fetched.overlay);
      add(validation, 'pass', '', `fetched ${config.references.join(', ')}`);
    }
    redactor.register(
      config.sasl?.password,
      config.ssl.keyPassword,
      config.ssl.key?.kind === 'inline' ? config.ssl.key.pem : undefined,
    );
    add(validation, 'pass', '', `valid: ${config.securityProtocol} to ${config.bootstrapServers.join(', ')}`);
    for (const warning of [...config.warnings, ...config.securityWarnings]) add(validation, 'warn', '', warning);
  } catch (error) {
    if (error instanceof SecretFetchError) {
      add(validation, 'fail', '', error.message, `fix the network path to the store, or ${error.reference}`);
      add(builder.section('Everything else'), 'skip', '', 'skipped: the secrets could not be fetched');
      return { report: builder.build(), redactor };
    }
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems)
      add(validation, 'fail', '', problem.message, `fix ${problem.variables.join(' / ')}`);
    add(builder.section('Everything else'), 'skip', '', 'skipped: the configuration is invalid');
    return { report: builder.build(), redactor };
  }
  classificationSection(builder.section('Error classification'));
  // Initialisation gets at most half the time: the checks after it say why it failed.
  const initDeadline = Deadline.in(Math.round(Math.max(1000, deadline.remainingMs() * 0.45)));
  const kafka = await stagedInitialisation(
    builder.section('Staged initialization'),
    options.env,
    config,
    initDeadline,
    options.createTopics === true,
  );
  builder.health = healthSection(builder.section('Health status and metrics'), kafka);
  void kafka.shutdown('diagnose finished');
  await troubleshooting(builder.section('Troubleshooting'), {
    config,
    deadline,
    createTopics: options.createTopics === true,
  });
  return { report: builder.build(), redactor };
}
