/**
 * getHealthStatus(): the seed's shape (status, statistics, configuration), with nothing secret in
 * it: the configuration part lists only settings that are safe to print.
 */
import type { KafkaConfig } from '../config/load.js';
import type { Classification } from '../errors/classify.js';
import { type ConfigError, causeLine } from '../errors/errors.js';
import { INIT_STAGES, type InitStage, type KafkaMetrics, METRIC_NAMES } from '../observability/metrics.js';
import type { BreakerSnapshot } from '../retry/breaker.js';
import type { ProbeResult } from './probe.js';
import type { StageStatus } from './stage.js';

/**
 * `unhealthy`: Kafka cannot be used (invalid configuration, a circuit breaker not closed, a failed stage or
 * probe, a partition without leader or with too few in-sync replicas); `degraded`: it works, with
 * warnings (retries needed, certificates expiring, replicas out of sync); `healthy` otherwise.
 */
export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

/**
 * What getHealthStatus() and checkHealth() return. Nothing secret: the configuration lists only safe settings.
 * @inlineType InitStage
 * @inlineType StageStatus
 */
export interface HealthStatus {
  /** The worst state any reason gives. */
  status: HealthState;
  /** Why the status is not healthy, one line each. */
  reasons: string[];
  /** When it was built, ISO 8601. */
  timestamp: string;
  /** Counts for the execution environment, and the state of its initialisation. */
  statistics: {
    /** Consumer initialisation attempts since the cold start. */
    consumer_init_attempts: number;
    /** Producer initialisation attempts since the cold start. */
    producer_init_attempts: number;
    /** Broker connections that failed since the cold start. */
    connection_errors_total: number;
    /** Topics that could not be verified or created, since the cold start. */
    topic_creation_errors: number;
    /** Messages produced since the cold start (METRIC_NAMES.messagesProduced). */
    messages_produced: number;
    /** Messages consumed since the cold start (METRIC_NAMES.messagesConsumed). */
    messages_consumed: number;
    /** True until a second invocation begins in this environment. */
    cold_start: boolean;
    /** Invocations begun in this environment. */
    invocations: number;
    /** Each initialisation stage's state. */
    stages: Record<InitStage, StageStatus>;
    /** The initialisation's circuit breaker. */
    circuit_breaker: BreakerSnapshot;
    /** The last failure of an initialisation or health check; cleared by a successful initialisation. */
    last_failure?: {
      /** When, ISO 8601. */
      at: string;
      /** The cause's name (Classification.name). */
      name: string;
      /** The cause's kind (Classification.kind). */
      kind: string;
      /** The cause, on one line. */
      summary: string;
      /** What to do about it. */
      hint: string;
    };
    /** The last scheduled health check's own probe of the cluster. */
    last_probe?: ProbeResult;
  };
  /** The settings that are safe to print (no password, key or PEM), or the configuration error. */
  configuration: Record<string, unknown>;
}

export interface HealthInputs {
  config: KafkaConfig | ConfigError;
  metrics: KafkaMetrics;
  stages: Record<InitStage, StageStatus>;
  breaker: BreakerSnapshot;
  invocations: number;
  lastFailure?: { at: number; classification: Classification };
  /** Attempts the most recent initialisation needed; more than one means it had to retry. */
  lastInitAttempts: number;
  certificateWarnings: readonly string[];
  lastProbe?: ProbeResult;
}

/** Settings safe to print: no password, key or PEM, only whether they are set. */
export function safeConfiguration(config: KafkaConfig): Record<string, unknown> {
  return {
    bootstrap_servers: config.bootstrapServers,
    client_id: config.clientId,
    security_protocol: config.securityProtocol,
    ssl_enabled: config.ssl.enabled,
    ssl_verify_certificates: config.ssl.verifyCertificates,
    ssl_ca: config.ssl.ca?.kind === 'file' ? config.ssl.ca.path : config.ssl.ca ? 'inline' : 'system',
    ssl_client_certificate:
      config.ssl.certificate?.kind === 'file' ? config.ssl.certificate.path : config.ssl.certificate ? 'inline' : null,
    sasl_mechanism: config.sasl?.mechanism ?? null,
    sasl_username: config.sasl?.username ?? null,
    consumer_group_id: config.consumer.groupId ?? null,
    topics: config.topics.names,
    create_topics: config.topics.create,
    consumer_init_retries: config.init.retries,
    consumer_init_delay: config.init.initialDelayMs / 1000,
    consumer_init_max_delay: config.init.maxDelayMs / 1000,
    coordinator_wait_timeout: config.init.coordinatorWaitTimeoutMs / 1000,
    startup_health_check: config.init.startupHealthCheck,
    session_timeout_ms: config.consumer.sessionTimeoutMs,
    heartbeat_interval_ms: config.consumer.heartbeatIntervalMs,
    request_timeout_ms: config.consumer.requestTimeoutMs,
    connections_max_idle_ms: config.consumer.connectionsMaxIdleMs,
    metadata_max_age_ms: config.consumer.metadataMaxAgeMs,
    deadline_margin_ms: config.init.deadlineMarginMs,
    circuit_breaker_threshold: config.init.breakerThreshold,
    warnings: config.warnings,
  };
}

export function buildHealthStatus(inputs: HealthInputs): HealthStatus {
  const { metrics, config } = inputs;
  const reasons: string[] = [];
  let status: HealthState = 'healthy';
  const worsen = (to: HealthState, reason: string) => {
    reasons.push(reason);
    if (to === 'unhealthy' || status === 'healthy') status = to;
  };

  if (config instanceof Error) worsen('unhealthy', config.message.split('\n')[0] ?? 'invalid configuration');
  if (inputs.breaker.state !== 'closed') worsen('unhealthy', `circuit breaker ${inputs.breaker.state}`);
  const failedStages = INIT_STAGES.filter((stage) => inputs.stages[stage].state === 'failed');
  if (failedStages.length > 0 && inputs.lastFailure) {
    worsen('unhealthy', `${failedStages.join(', ')} failed: ${causeLine(inputs.lastFailure.classification)}`);
  }
  if (inputs.lastProbe && !inputs.lastProbe.ok) worsen('unhealthy', `health check failed: ${inputs.lastProbe.error}`);
  for (const finding of inputs.lastProbe?.down?.findings ?? []) worsen(finding.level, finding.reason);
  for (const finding of inputs.lastProbe?.cluster?.findings ?? []) worsen(finding.level, finding.reason);
  if (inputs.lastInitAttempts > 1)
    worsen('degraded', `the last initialisation needed ${inputs.lastInitAttempts} attempts`);
  for (const warning of inputs.certificateWarnings) worsen('degraded', warning);
  if (!(config instanceof Error)) for (const warning of config.warnings) worsen('degraded', warning);

  const last = inputs.lastFailure;
  return {
    status,
    reasons,
    timestamp: new Date().toISOString(),
    statistics: {
      consumer_init_attempts: metrics.total(METRIC_NAMES.consumerInitAttempts),
      producer_init_attempts: metrics.total(METRIC_NAMES.producerInitAttempts),
      connection_errors_total: metrics.total(METRIC_NAMES.connectionErrors),
      topic_creation_errors: metrics.total(METRIC_NAMES.topicCreationErrors),
      messages_produced: metrics.total(METRIC_NAMES.messagesProduced),
      messages_consumed: metrics.total(METRIC_NAMES.messagesConsumed),
      cold_start: inputs.invocations <= 1,
      invocations: inputs.invocations,
      stages: inputs.stages,
      circuit_breaker: inputs.breaker,
      ...(last && {
        last_failure: {
          at: new Date(last.at).toISOString(),
          name: last.classification.name,
          kind: last.classification.kind,
          summary: last.classification.summary,
          hint: last.classification.hint,
        },
      }),
      ...(inputs.lastProbe && { last_probe: inputs.lastProbe }),
    },
    configuration: config instanceof Error ? { error: config.message } : safeConfiguration(config),
  };
}
