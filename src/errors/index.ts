export {
  type Classification,
  type ClassifyContext,
  type ClientLogLine,
  causeFromLogs,
  classifyKafkaError,
  LOG_PATTERNS,
} from './classify.js';
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
} from './errors.js';
export { ERROR_KINDS, type ErrorKind, KAFKA_ERRORS, KAFKA_ERRORS_BY_CODE, type KafkaErrorEntry } from './table.js';
