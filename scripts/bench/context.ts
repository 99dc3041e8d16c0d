/** What every scenario shares: the broker's PLAINTEXT listener, the round counts, topics, progress lines. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RdKafka } from '@confluentinc/kafka-javascript';

export interface BenchContext {
  /** `host:port` of the local broker's PLAINTEXT listener. */
  bootstrap: string;
  brokerPort: number;
  quick: boolean;
  /** Progress lines (stderr), never the report. */
  progress: (line: string) => void;
  /** The shapes scenario's --memory sizes (MB) and whether it runs its memory fit (--no-fit). */
  shapes?: { memorySizes: readonly number[]; fit: boolean };
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

function adminCall<T>(
  ctx: BenchContext,
  call: (admin: RdKafka.IAdminClient, done: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  const admin = RdKafka.AdminClient.create({ 'bootstrap.servers': ctx.bootstrap, 'client.id': 'bench-admin' });
  return new Promise<T>((resolve, reject) =>
    call(admin, (err, value) => (err ? reject(err) : resolve(value as T))),
  ).finally(() => admin.disconnect());
}

/**
 * Creates a topic of PARTITIONS partitions (replication factor 1: one broker) and waits until the
 * broker describes it with a leader for each: CreateTopics answers once the controller has it, and
 * a client asking the broker right after may still be told it does not exist.
 */
export async function createTopic(ctx: BenchContext, topic: string): Promise<void> {
  await adminCall<void>(ctx, (admin, done) =>
    admin.createTopic({ topic, num_partitions: PARTITIONS, replication_factor: 1 }, 30_000, done),
  );
  const until = Date.now() + 30_000;
  for (;;) {
    const described = await adminCall<RdKafka.TopicDescription[]>(ctx, (admin, done) =>
      admin.describeTopics([topic], { timeout: 5000 }, done),
    ).catch(() => []);
    const partitions = described[0]?.partitions ?? [];
    if (partitions.length === PARTITIONS && partitions.every((p) => p.leader)) return;
    if (Date.now() > until)
      throw new Error(`topic ${topic} was created but has no leader for every partition after 30 s`);
    await sleep(100);
  }
}

/** Deletes a topic the benchmark filled, so that a run leaves no gigabytes behind. */
export function deleteTopic(ctx: BenchContext, topic: string): Promise<void> {
  return adminCall<void>(ctx, (admin, done) => admin.deleteTopic(topic, 30_000, done)).catch((error: Error) =>
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
