export {
  abandonConnect,
  createAdmin,
  createProducer,
  disposeInBackground,
  producerProperties,
  watchClients,
} from './clients.js';
export { type KafkaMessage, ManagedConsumer, type PartitionLag, type TopicPartitionOffset } from './consumer.js';
export { buildHealthStatus, type HealthState, type HealthStatus, safeConfiguration } from './health.js';
export { KafkaInitializer, type KafkaInitializerOptions } from './initializer.js';
export { Invocation, type InvocationContext } from './invocation.js';
export { Stage, type StageState, type StageStatus } from './stage.js';
