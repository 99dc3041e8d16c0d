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

export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthStatus {
  status: HealthState;
  /** Why the status is not healthy, one line each. */
  reasons: string[];
  timestamp: string;
  statistics: {
    consumer_init_attempts: number;
    producer_init_attempts: number;
    connection_errors_total: number;
    topic_creation_errors: number;
    messages_produced: number;
    messages_consumed: number;
    cold_start: boolean;
    invocations: number;
    stages: Record<InitStage, StageStatus>;
    circuit_breaker: BreakerSnapshot;
    last_failure?: { at: string; name: string; kind: string; summary: string; hint: string };
    /** The last scheduled health check's own probe of the cluster. */
    last_probe?: ProbeResult;
  };
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
