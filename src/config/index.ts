export { type ClientType, librdkafkaProperties, PROPERTY_MAP, type RdKafkaProperties } from './librdkafka.js';
export type {
  ConsumerSettings,
  Environment,
  InitSettings,
  KafkaConfig,
  PemSource,
  SaslSettings,
  SecurityProtocol,
  SslSettings,
  TopicSettings,
} from './load.js';
export { loadConfig } from './load.js';
export { mskIamTokenRefresh, type OAuthBearerToken } from './msk-iam.js';
export { SASL_MECHANISMS, type SaslMechanism } from './schemas.js';
export { Secret } from './secret.js';
export { SECRET_VARIABLES, VARIABLES, type VariableName } from './variables.js';
