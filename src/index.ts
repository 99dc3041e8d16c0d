/**
 * lambda-kafka's public API: what a function of yours imports. Everything else in src/ is internal
 * and may change without notice.
 *
 * ```ts
 * import { KafkaInitializer, produce, consumeBatch } from 'lambda-kafka';
 * import { kafkaMiddleware } from 'lambda-kafka/middy';          // for handlers built with middy
 * import { bundleFunction } from 'lambda-kafka/esbuild';          // build time: bundle + binding
 * ```
 *
 * @module lambda-kafka
 */

// The clients it hands out.
export type { ManagedAdmin } from './clients/admin.js';
export type { KafkaMessage, ManagedConsumer, PartitionLag, TopicPartitionOffset } from './clients/consumer.js';
export type { ManagedProducer, ProducerRecord, SendOptions, SendOutcome, SendResult } from './clients/producer.js';
// Configuration.
export { type Environment, type KafkaConfig, loadConfig } from './config/load.js';
export { type ConsumeEvent, consumeBatch } from './consume/consume.js';
export type { DrainResult, StopReason } from './consume/drain.js';
export {
  type ConsumedMessage,
  logMessage,
  type MessageProcessor,
  type ProcessingContext,
} from './consume/processor.js';
// Errors and what they mean.
export { type Classification, type ClassifyContext, classifyKafkaError } from './errors/classify.js';
export {
  AttemptTimeoutError,
  CertificateError,
  type CertificateProblem,
  CircuitOpenError,
  ConfigError,
  type ConfigProblem,
  type GiveUpReason,
  KafkaOperationError,
  RetryError,
} from './errors/errors.js';
export type { ErrorKind } from './errors/table.js';
export type { HealthState, HealthStatus } from './init/health.js';
// The initializer: one per execution environment, created at module scope.
export { KafkaInitializer, type KafkaInitializerOptions } from './init/initializer.js';
export type { Invocation, InvocationContext } from './init/invocation.js';
export type { Log } from './observability/log.js';
export { type KafkaMetrics, METRIC_NAMES } from './observability/metrics.js';
// The functions' logic, for handlers of your own.
export {
  type DirectEvent,
  type DirectResult,
  type MessageResult,
  type ProduceEvent,
  produce,
} from './produce/produce.js';
// The deadline an Invocation carries, which sends and waits of your own take.
export type { Deadline } from './retry/deadline.js';
