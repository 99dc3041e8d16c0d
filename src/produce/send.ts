/**
 * Sends messages and waits for each acknowledgement, never past the deadline. Each message is its
 * own send(), so each gets its own partition and offset back (the binding's batched send reports
 * one base offset per partition) while librdkafka still batches them on the wire.
 */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { classifyKafkaError } from '../errors/classify.js';
import type { Deadline } from '../retry/deadline.js';
import type { OutgoingMessage } from './messages.js';

export type SendResult =
  | { ok: true; topic: string; partition: number; offset: string }
  | { ok: false; topic: string; error: string; errorName: string; retriable: boolean };

export interface SendOutcome {
  results: SendResult[];
  /** Set when a result showed the producer is broken (e.g. a fatal idempotence error). */
  producerBroken: boolean;
}

export async function sendMessages(
  producer: KafkaJS.Producer,
  messages: readonly OutgoingMessage[],
  deadline: Deadline,
): Promise<SendOutcome> {
  let producerBroken = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadline.remainingMs());
  });
  try {
    const results = await Promise.all(
      messages.map(async (message): Promise<SendResult> => {
        // send() rewrites the objects it is given: hand it fresh ones.
        const sending = producer.send({
          topic: message.topic,
          messages: [{ key: message.key, value: message.value, headers: { ...message.headers } }],
        });
        sending.catch(() => {});
        try {
          const outcome = await Promise.race([sending, expired]);
          if (outcome === 'deadline') {
            return {
              ok: false,
              topic: message.topic,
              error: 'not acknowledged before the deadline: it may still be delivered (retrying can duplicate it)',
              errorName: 'DEADLINE',
              retriable: true,
            };
          }
          const [report] = outcome;
          return {
            ok: true,
            topic: message.topic,
            partition: report?.partition ?? -1,
            offset: String(report?.baseOffset),
          };
        } catch (error) {
          const classification = classifyKafkaError(error);
          if (classification.kind === 'fatal') producerBroken = true;
          return {
            ok: false,
            topic: message.topic,
            error: `${classification.summary}. ${classification.hint}`,
            errorName: classification.name,
            retriable: classification.retriable,
          };
        }
      }),
    );
    return { results, producerBroken };
  } finally {
    clearTimeout(timer);
  }
}
