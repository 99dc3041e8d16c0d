export * from './config/index.js';
export * from './errors/index.js';
export * from './init/index.js';
export { ClientLogRecorder } from './observability/client-log.js';
export type { Log } from './observability/log.js';
export { createLogger, logTo } from './observability/logger.js';
export {
  DEFAULT_NAMESPACE,
  INIT_STAGES,
  type InitStage,
  KafkaMetrics,
  METRIC_NAMES,
  stageDurationMetric,
} from './observability/metrics.js';
export { Redactor } from './observability/redact.js';
export * from './retry/index.js';
export * from './ssl/index.js';
