/**
 * The consume function of the shapes scenario's memory fit: handlers/consume.ts with a processor
 * that only counts, so that what is measured is the drain and not the processing. Bundled like the
 * deployed functions (src/esbuild.ts bundleFunction) into the staged package, beside its binding.
 */
import { type ConsumeEvent, consumeBatch } from '../../src/consume/consume.js';
import type { MessageProcessor } from '../../src/consume/processor.js';
import { KafkaInitializer } from '../../src/init/initializer.js';

/** Messages the processor has seen in this process: the child reads it between invocations. */
export const counted = { messages: 0 };

const count: MessageProcessor = async () => {
  counted.messages++;
};

const kafka = new KafkaInitializer();

export const handler = kafka.handler((event: ConsumeEvent | null, invocation) =>
  consumeBatch(kafka, event, invocation, count),
);
