/**
 * Produce function: a direct invocation `{ messages: [...] }`, an SQS batch (partial failures in
 * `batchItemFailures`), or an HTTP API request. Returns once every message is acknowledged or failed.
 */
import { KafkaInitializer } from '../src/init/initializer.js';
import { type ProduceEvent, produce } from '../src/produce/produce.js';

const kafka = new KafkaInitializer();

export const handler = kafka.handler((event: ProduceEvent, invocation) => produce(kafka, event, invocation));
