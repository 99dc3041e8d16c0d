/** What every scenario shares: the broker's PLAINTEXT listener, the round counts, topics, progress lines. */
import { randomUUID } from 'node:crypto';
import { RdKafka } from '@confluentinc/kafka-javascript';

export interface BenchContext {
  /** `host:port` of the local broker's PLAINTEXT listener. */
  bootstrap: string;
  brokerPort: number;
  quick: boolean;
  /** Progress lines (stderr), never the report. */
  progress: (line: string) => void;
}

/** Partitions of every topic the benchmark creates. */
export const PARTITIONS = 3;
/** The value every message carries: 1 KB of text, the same JavaScript string for every client. */
export const VALUE = 'x'.repeat(1024);

export function rounds(ctx: BenchContext, full: number, quick: number): number {
  return ctx.quick ? quick : full;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function adminCall(ctx: BenchContext, call: (admin: RdKafka.IAdminClient, done: (err: unknown) => void) => void) {
  const admin = RdKafka.AdminClient.create({ 'bootstrap.servers': ctx.bootstrap, 'client.id': 'bench-admin' });
  return new Promise<void>((resolve, reject) => call(admin, (err) => (err ? reject(err) : resolve()))).finally(() =>
    admin.disconnect(),
  );
}

/** Creates a topic of PARTITIONS partitions (replication factor 1: one broker). */
export function createTopic(ctx: BenchContext, topic: string): Promise<void> {
  return adminCall(ctx, (admin, done) =>
    admin.createTopic({ topic, num_partitions: PARTITIONS, replication_factor: 1 }, 30_000, done),
  );
}

/** Deletes a topic the benchmark filled, so that a run leaves no gigabytes behind. */
export function deleteTopic(ctx: BenchContext, topic: string): Promise<void> {
  return adminCall(ctx, (admin, done) => admin.deleteTopic(topic, 30_000, done)).catch((error: Error) =>
    ctx.progress(`  (could not delete topic ${topic}: ${error.message})`),
  );
}

/** A fresh topic for `body`, deleted afterwards. */
export async function withTopic<T>(ctx: BenchContext, prefix: string, body: (topic: string) => Promise<T>) {
  const topic = uniqueName(prefix);
  await createTopic(ctx, topic);
  try {
    return await body(topic);
  } finally {
    await deleteTopic(ctx, topic);
  }
}
