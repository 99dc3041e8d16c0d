/** SIGTERM: flush what the producer holds, then close every client, all within a fixed budget. */
import type { ManagedConsumer } from '../clients/consumer.js';
import { within } from '../clients/native.js';
import type { ManagedProducer } from '../clients/producer.js';
import type { Log } from '../observability/log.js';
import type { GroupObserver } from './group.js';

export interface OpenClients {
  producer?: ManagedProducer;
  consumer?: ManagedConsumer;
  observer?: GroupObserver;
}

/** Waits for `work` at most `ms`; its failure or lateness is only logged (the process is going away). */
async function bounded(what: string, work: () => Promise<unknown>, ms: number, log: Log): Promise<void> {
  try {
    await within(work(), ms, what);
    log.debug(`Closed ${what}`);
  } catch (error) {
    log.debug(`Closing ${what} did not finish: ${(error as Error).message}`);
  }
}

export async function closeClients(clients: OpenClients, budgetMs: number, log: Log): Promise<void> {
  const { producer, consumer, observer } = clients;
  const flushMs = Math.floor(budgetMs * 0.5);
  const closeMs = Math.floor(budgetMs * 0.3);
  if (producer?.isConnected()) await bounded('producer flush', () => producer.flush(flushMs), flushMs, log);
  // A standalone admin client is not destroyed here: the binding does that synchronously, on this
  // thread, and the process is about to exit anyway.
  await Promise.all([
    consumer && bounded('the consumer', () => consumer.close(closeMs), closeMs, log),
    observer && bounded('the group observer', () => observer.close(closeMs), closeMs, log),
    producer && bounded('the producer', () => producer.close(closeMs), closeMs, log),
  ]);
}

/**
 * On SIGTERM, runs `shutdown` and then ends the process, at the latest after `budgetMs`. Not
 * process.exit(): Node then waits for libuv's pool threads, and the runtime client holds one,
 * blocked fetching the next invocation, until Lambda's SIGKILL 500 ms later.
 */
export function endOnSigterm(shutdown: () => Promise<void>, budgetMs: number): void {
  process.once('SIGTERM', () => {
    const end = () => process.kill(process.pid, 'SIGKILL');
    setTimeout(end, budgetMs).unref();
    void shutdown().finally(end);
  });
}
