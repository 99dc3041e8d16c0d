export { ManagedAdmin } from '../clients/admin.js';
export {
  type KafkaMessage,
  ManagedConsumer,
  type PartitionLag,
  type TopicPartitionOffset,
} from '../clients/consumer.js';
export { NativeCalls } from '../clients/native.js';
export {
  ManagedProducer,
  type ProducerRecord,
  type SendOptions,
  type SendOutcome,
  type SendResult,
} from '../clients/producer.js';
export { buildHealthStatus, type HealthState, type HealthStatus, safeConfiguration } from './health.js';
export { KafkaInitializer, type KafkaInitializerOptions } from './initializer.js';
export { Invocation, type InvocationContext } from './invocation.js';
export { Stage, type StageState, type StageStatus } from './stage.js';
