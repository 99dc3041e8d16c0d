export {
  KAFKA_CAUSES,
  KAFKA_CAUSES_BY_NAME,
  type KafkaCauseEntry,
  missingTopicsCause,
  namedCause,
} from './causes.js';
export {
  type Classification,
  type ClassifyContext,
  type ClientLogLine,
  causeFromLogs,
  classifyKafkaError,
  LOG_PATTERNS,
  type LogPattern,
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
export {
  ERROR_KINDS,
  type ErrorKind,
  KAFKA_ERRORS,
  KAFKA_ERRORS_BY_CODE,
  type KafkaErrorEntry,
} from './table.js';
