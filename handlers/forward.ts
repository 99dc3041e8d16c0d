/**
 * Forward function, fed by an MSK or self-managed Kafka event source mapping: Powertools'
 * kafkaConsumer decodes the records, each is wrapped with where it came from and produced to
 * KAFKA_FORWARD_TOPIC; the records not produced are answered in `batchItemFailures`.
 */
import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import { type ForwardEvent, forward } from '../src/forward/forward.js';
import { FORWARD_SCHEMA } from '../src/forward/records.js';
import { KafkaInitializer } from '../src/init/initializer.js';

const kafka = new KafkaInitializer();

export const handler = kafkaConsumer(
  kafka.handler((event: ForwardEvent, invocation) => forward(kafka, event, invocation)),
  FORWARD_SCHEMA,
);
