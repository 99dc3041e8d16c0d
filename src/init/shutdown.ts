/** SIGTERM: flush what the producer holds, then close every client, all within a fixed budget. */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Log } from '../observability/log.js';
import { disposeInBackground } from './clients.js';
import type { ManagedConsumer } from './consumer.js';

export interface OpenClients {
  producer?: KafkaJS.Producer;
  admin?: KafkaJS.Admin;
  consumer?: ManagedConsumer;
}

export async function closeClients(clients: OpenClients, budgetMs: number, log: Log): Promise<void> {
  const { producer, admin, consumer } = clients;
  const flushMs = Math.floor(budgetMs * 0.6);
  const closeMs = Math.floor(budgetMs * 0.3);
  if (producer) await disposeInBackground('producer flush', () => producer.flush({ timeout: flushMs }), log, flushMs);
  await Promise.all([
    consumer && disposeInBackground('the consumer', () => consumer.close(closeMs), log, closeMs),
    admin && disposeInBackground('the admin client', () => admin.disconnect(), log, closeMs),
    producer && disposeInBackground('the producer', () => producer.disconnect(), log, closeMs),
  ]);
}
