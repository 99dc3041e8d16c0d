/**
 * Consume function, run on a schedule: a bounded drain of the configured group that commits only
 * what was processed. To process messages your way, copy this file and pass your own
 * MessageProcessor (src/consume/processor.ts) instead of `logMessage`.
 */
import { type ConsumeEvent, consumeBatch } from '../src/consume/consume.js';
import { logMessage } from '../src/consume/processor.js';
import { KafkaInitializer } from '../src/init/initializer.js';

const kafka = new KafkaInitializer();

export const handler = kafka.handler((event: ConsumeEvent | null, invocation) =>
  consumeBatch(kafka, event, invocation, logMessage),
);
