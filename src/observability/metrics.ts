/**
 * The seed's metrics as CloudWatch EMF. Counts are summed during an invocation and flushed once at
 * its end, in one EMF document under one namespace and one `service` dimension (the dashboard and
 * alarms in serverless.yml use exactly these): the library's own document (emf.ts), or added to the
 * function's Powertools Metrics, which publishes them. The same counts are also kept for the life
 * of the execution environment, for getHealthStatus().
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics/types';
import type { Environment } from '../config/load.js';
import { type EmfUnit, type EmfValue, EmfWriter, metricsDisabled } from './emf.js';

/** Every metric name the library emits. */
export const METRIC_NAMES = {
  /** Consumer initialisation attempts; more than 1 means a retry happened (seed: alert if > 1). */
  consumerInitAttempts: 'consumer_init_attempts',
  /** Producer initialisation attempts, the producer path's counterpart. */
  producerInitAttempts: 'producer_init_attempts',
  /** Connection failures librdkafka reported (refused, TLS, SASL, DNS, disconnects). */
  connectionErrors: 'connection_errors_total',
  /** Topics that could not be verified or created (seed: alert if > 0). */
  topicCreationErrors: 'topic_creation_errors',
  /** 1 in the first invocation of an execution environment. */
  coldStart: 'cold_start',
  /** Messages acknowledged, as produce() counts them; count sends of your own with `kafka.metrics.count()`. */
  messagesProduced: 'messages_produced',
  /** Messages processed, as consumeBatch() counts them. */
  messagesConsumed: 'messages_consumed',
  /** 1 when a health check found the service unhealthy. */
  healthCheckFailures: 'health_check_failures',
  /** 1 when a drain ended holding no partition: the consumer is joining or rejoining its group. */
  consumeUnassigned: 'consume_unassigned',
  /** A referenced secret fetched again after an authentication failure, and found changed (rotated). */
  secretRefreshes: 'secret_refreshes',
} as const;

/**
 * A count's metric name: one of METRIC_NAMES' values.
 * @inline
 */
export type CountName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

export const INIT_STAGES = ['ssl', 'admin', 'broker_health', 'topics', 'producer', 'consumer'] as const;
/**
 * An initialisation stage, in the order they run.
 * @inline
 */
export type InitStage = (typeof INIT_STAGES)[number];

/** Name of the metric holding a stage's duration, e.g. `init_duration_broker_health` (milliseconds). */
export function stageDurationMetric(stage: InitStage): string {
  return `init_duration_${stage}`;
}

export const DEFAULT_NAMESPACE = 'LambdaKafka';

/** Counts always present in an invocation's EMF document, 0 or not, so alarms see a continuous series. */
const ALWAYS_EMITTED: readonly CountName[] = [METRIC_NAMES.connectionErrors];

/**
 * The library's counts and stage durations: summed during an invocation and flushed once at its
 * end as EMF, and kept for the execution environment for getHealthStatus().
 */
export class KafkaMetrics {
  readonly #output: EmfWriter | Metrics | undefined;
  readonly #invocation = new Map<string, EmfValue>();
  readonly #totals = new Map<CountName, number>();

  /**
   * An EmfWriter: flush() writes this invocation's EMF document. A Powertools Metrics: flush() only
   * adds the metrics to it, and its owner publishes them (a function's own Metrics: one document per
   * invocation). Undefined (a command-line tool): nothing is printed; the totals are still kept.
   */
  constructor(output: EmfWriter | Metrics | undefined) {
    this.#output = output;
  }

  /** Adds `value` to the count `name`, in this invocation's document and in the environment's total. */
  count(name: CountName, value = 1): void {
    this.#totals.set(name, (this.#totals.get(name) ?? 0) + value);
    this.#add(name, 'Count', value);
  }

  /** Records how long an initialisation stage took, as `init_duration_<stage>` (milliseconds). */
  stageDuration(stage: InitStage, ms: number): void {
    this.#add(stageDurationMetric(stage), 'Milliseconds', ms);
  }

  #add(name: string, unit: EmfUnit, value: number): void {
    const current = this.#invocation.get(name);
    this.#invocation.set(name, { unit, value: (current?.value ?? 0) + value });
  }

  /** Cumulative count for the execution environment. */
  total(name: CountName): number {
    return this.#totals.get(name) ?? 0;
  }

  /** Writes this invocation's metrics as one EMF document and starts the next invocation's. */
  flush(): void {
    const output = this.#output;
    if (output !== undefined) {
      for (const name of ALWAYS_EMITTED) if (!this.#invocation.has(name)) this.#add(name, 'Count', 0);
      if (output instanceof EmfWriter) output.publish(this.#invocation);
      else for (const [name, { unit, value }] of this.#invocation) output.addMetric(name, unit as MetricUnit, value);
    }
    this.#invocation.clear();
  }
}

/**
 * Where a KafkaInitializer's metrics go: nowhere for a command-line tool (`emit` false), into the
 * function's own Powertools Metrics when it passes one, else the library's own EMF documents.
 */
export function metricsOutput(options: {
  emit: boolean;
  metrics?: Metrics;
  namespace?: string;
  serviceName: string;
  env: Environment;
}): EmfWriter | Metrics | undefined {
  if (!options.emit) return undefined;
  return (
    options.metrics ??
    new EmfWriter({
      namespace: options.namespace ?? options.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_NAMESPACE,
      serviceName: options.serviceName,
      disabled: metricsDisabled(options.env),
    })
  );
}
