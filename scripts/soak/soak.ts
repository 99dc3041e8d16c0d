/**
 * The chaos soak: a fresh cluster in MSK's shape (three brokers, three KRaft controllers), the
 * packaged produce and consume functions running against it over SASL_SSL in emulated Lambda
 * environments, and a seeded schedule of faults (schedule.ts) while they run. At the end, with every
 * node back: a last drain, the topic read independently with kcat, and the verdict (report.ts).
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readWithKcat } from '../../test/support/kcat.js';
import { freshPackageZip } from '../../test/support/package.js';
import { groupCoordinator, startCluster, stopCluster, waitForIsr } from '../kafka/cluster.js';
import { type ClusterConnection, listenerEnvironment } from '../kafka/connection.js';
import { javaCommand, LIB_CLASSPATH } from '../kafka/jars.js';
import { LambdaEnvironment } from '../lambda/environment.js';
import { buildMinimalRoot } from '../lambda/minimal-root.js';
import { ensureNodeRuntime } from '../lambda/runtimes.js';
import { consumeLoop, FunctionDriver, type InvocationRecord, processedKeys, produceLoop } from './drivers.js';
import { Availability, type FaultContext, type FaultRun, restoreCluster, runFault } from './faults.js';
import { buildReport, type SoakReport } from './report.js';
import { formatSchedule, type PlannedFault, planSchedule, SCHEDULE_DEFAULTS } from './schedule.js';

export interface SoakOptions {
  /** Faults start within this many minutes. */
  minutes: number;
  /** Default: a random one (printed, for the replay). */
  seed?: number;
  /** The local cluster to (re)create, fresh. Default `soak-dev`. */
  name?: string;
  portBase?: number;
  log?: (line: string) => void;
  /** Leave the cluster running afterwards, to look at its logs. */
  keepCluster?: boolean;
  /** Aborted: no further fault starts; the soak ends as it would after the last one. */
  signal?: AbortSignal;
  /** Writes the report, every invocation's record and each function's whole output here, to look into a failure. */
  outDir?: string;
}

/** What the soak runs; the numbers the report's verdict depends on. */
export const SOAK_SETTINGS = {
  runtime: 'nodejs22.x',
  partitions: 3,
  messagesPerInvocation: 20,
  produceTimeoutMs: 10_000,
  consumeTimeoutMs: 30_000,
  consumeEveryMs: 2_000,
  drainEvent: { maxMessages: 10_000, idleMs: 500 },
  /** At the end: drains until every acknowledged message was processed, at most this long. */
  finalDrainMs: 60_000,
  /** An idle producer's id is forgotten after 15 s, so a producer freeze of 20 s or so outlasts it. */
  clusterProps: {
    'producer.id.expiration.ms': String(SCHEDULE_DEFAULTS.producerIdExpiryMs - 1000),
    'producer.id.expiration.check.interval.ms': '1000',
  },
} as const;

/** Kafka's kafka-topics over PLAINTEXT: the topic gets the cluster's defaults (replication factor 3). */
function createTopic(connection: ClusterConnection, topic: string, partitions: number): Promise<void> {
  const args = ['-cp', LIB_CLASSPATH, 'org.apache.kafka.tools.TopicCommand'];
  args.push('--bootstrap-server', connection.listeners.PLAINTEXT.bootstrapServers);
  args.push('--create', '--topic', topic, '--partitions', String(partitions));
  return new Promise((resolve, reject) =>
    execFile(javaCommand(), args, { timeout: 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`creating topic ${topic} failed: ${stderr}`)) : resolve(),
    ),
  );
}

/** Runs each lane's faults one after the other, the lanes side by side; resolves when all are over. */
async function runLanes(
  schedule: readonly PlannedFault[],
  context: FaultContext,
  startedAt: number,
  signal?: AbortSignal,
): Promise<FaultRun[]> {
  const runs: FaultRun[] = [];
  const lanes = [...new Set(schedule.map((fault) => fault.lane))];
  await Promise.all(
    lanes.map(async (lane) => {
      let freeAt = startedAt;
      for (const fault of schedule.filter((f) => f.lane === lane)) {
        const at = Math.max(startedAt + fault.atMs, freeAt + fault.gapMs);
        try {
          await sleep(Math.max(0, at - Date.now()), undefined, { signal });
        } catch {
          return; // Aborted.
        }
        runs.push(await runFault(fault, context));
        freeAt = Date.now();
      }
    }),
  );
  return runs.sort((a, b) => a.fault.id - b.fault.id);
}

const deadlineFrom = (timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  return (what: string, records: InvocationRecord[]) => {
    if (Date.now() < deadline) return;
    const last = records.slice(-3).map((r) => r.failure ?? JSON.stringify(r.value).slice(0, 300));
    throw new Error(`${what} within ${timeoutMs / 1000} s of the cluster's start: ${last.join(' | ')}`);
  };
};

/**
 * The consumer's first join, on the empty topic: a drain that holds partitions. Before the producer
 * starts, or the first drain would run to its deadline with the backlog, keeping the faults waiting.
 */
async function joinConsumer(consumer: FunctionDriver, event: unknown): Promise<void> {
  const check = deadlineFrom(120_000);
  for (;;) {
    const { value } = await consumer.invoke(event);
    if (value && (value as { stoppedBecause?: string }).stoppedBecause !== 'unassigned') return;
    check('the consume function did not join its group', consumer.records);
  }
}

/** A produce invocation with every message acknowledged: faults never land on a cold start, and what failed before (a fresh cluster's first producer id) is told apart. */
async function producerWorks(producer: FunctionDriver): Promise<void> {
  const check = deadlineFrom(60_000);
  const works = (r: InvocationRecord) => {
    const results = (r.value as { results?: { ok: boolean }[] } | undefined)?.results;
    return results !== undefined && results.length > 0 && results.every((result) => result.ok);
  };
  while (!producer.records.some(works)) {
    check('no produce invocation had every message acknowledged', producer.records);
    await sleep(250);
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const name = options.name ?? 'soak-dev';
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = SOAK_SETTINGS;
  const schedule = planSchedule({ seed, minutes: options.minutes });
  log(`Soak: seed ${seed}, ${options.minutes} min of faults on cluster "${name}"; schedule:`);
  for (const line of formatSchedule(schedule)) log(`  ${line}`);

  const began = Date.now();
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(0)} s in`;
  const scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-soak-'));
  const drivers: FunctionDriver[] = [];
  try {
    const connection = await startCluster({
      name,
      ...(options.portBase !== undefined && { portBase: options.portBase }),
      topology: 'split',
      fresh: true,
      props: { ...settings.clusterProps },
      log: (line) => log(`[${name}] ${line}`),
    });
    const root = buildMinimalRoot(
      join(scratch, 'root'),
      ensureNodeRuntime(settings.runtime),
      await freshPackageZip(settings.runtime, scratch),
    );
    mkdirSync(join(root.dir, 'opt', 'certs'), { recursive: true });
    copyFileSync(connection.listeners.SASL_SSL.caFile as string, join(root.dir, 'opt', 'certs', 'ca.pem'));

    const topic = `soak-${seed}`;
    const group = `soak-${seed}-group`;
    await createTopic(connection, topic, settings.partitions);
    await waitForIsr(connection, topic, 3, 120_000);
    // The group's first FindCoordinator creates __consumer_offsets: before the faults, and fully in sync.
    await groupCoordinator(connection, group, 60_000);
    await waitForIsr(connection, '__consumer_offsets', 3, 120_000);

    const env = {
      ...listenerEnvironment(connection.listeners.SASL_SSL),
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_CONSUMER_INIT_DELAY: '1',
      POWERTOOLS_SERVICE_NAME: 'lambda-kafka',
    };
    const environment = (fn: string, extra: Record<string, string>) => () =>
      LambdaEnvironment.start({
        handler: `/var/task/dist/${fn}/index.mjs`,
        root: root.dir,
        env: { ...env, AWS_LAMBDA_FUNCTION_NAME: `soak-${fn}`, ...extra },
      });
    const producer = new FunctionDriver('produce', environment('produce', {}), settings.produceTimeoutMs);
    const consumer = new FunctionDriver(
      'consume',
      environment('consume', {
        KAFKA_CONSUMER_GROUP_ID: group,
        // Its processor logs each message's key at DEBUG: what the report counts as processed.
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        // A consumer freeze must outlast the session: a short one keeps the freezes short.
        KAFKA_CONSUMER_SESSION_TIMEOUT_MS: String(SCHEDULE_DEFAULTS.consumerSessionMs),
        KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS: '3000',
      }),
      settings.consumeTimeoutMs,
    );
    drivers.push(producer, consumer);

    await joinConsumer(consumer, settings.drainEvent);
    let producing = true;
    let consuming = true;
    const produceDone = produceLoop(producer, String(seed), settings.messagesPerInvocation, () => !producing);
    const consumeDone = consumeLoop(consumer, settings.drainEvent, settings.consumeEveryMs, () => !consuming);
    await producerWorks(producer);
    log(`The cluster is up and both functions work (${elapsed()}).`);

    const availability = new Availability();
    const context: FaultContext = {
      cluster: name,
      topics: [topic, '__consumer_offsets'],
      producer,
      consumer,
      availability,
      log: (line) => log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
    };
    const faultsStartedAt = Date.now();
    log(`Faults begin (${schedule.length} planned).`);
    const runs = await runLanes(schedule, context, faultsStartedAt, options.signal);
    log(`Faults over (${elapsed()}); every node running and every replica in sync again before the last checks.`);
    await restoreCluster(context);
    producing = false;
    await produceDone;
    consuming = false;
    await consumeDone;

    const acked = new Set(
      producer.records.flatMap((record) => {
        const results = (record.value as { results?: { ok: boolean }[] } | undefined)?.results ?? [];
        return (record.keys ?? []).filter((_, i) => results[i]?.ok);
      }),
    );
    const drainUntil = Date.now() + settings.finalDrainMs;
    let missing = acked.size;
    while (Date.now() < drainUntil) {
      await consumer.invoke(settings.drainEvent);
      const processed = new Set(processedKeys(consumer.output()));
      missing = [...acked].filter((key) => !processed.has(key)).length;
      if (missing === 0) break;
    }
    log(
      `Last drain done (${elapsed()}): ${missing} acknowledged message(s) not processed; reading the topic with kcat.`,
    );
    const inTopic = new Map<string, number>();
    for (const message of await readWithKcat('PLAINTEXT', topic, name))
      inTopic.set(String(message.key), (inTopic.get(String(message.key)) ?? 0) + 1);

    const report = buildReport({
      seed,
      minutes: options.minutes,
      cluster: name,
      topic,
      schedule,
      runs,
      concurrency: mostDown(availability),
      produced: producer.records,
      consumed: consumer.records,
      processed: processedKeys(consumer.output()),
      inTopic,
      faultsStartedAt,
      finishedAt: Date.now(),
      ...(missing > 0 && {
        drainNote: `${missing} acknowledged message(s) still unprocessed after ${settings.finalDrainMs / 1000} s of draining`,
      }),
    });
    if (options.outDir) writeOutput(options.outDir, report, drivers, runs);
    return report;
  } finally {
    await Promise.all(drivers.map((driver) => driver.shutdown()));
    if (!options.keepCluster) await stopCluster(name);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function writeOutput(dir: string, report: SoakReport, drivers: FunctionDriver[], runs: FaultRun[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'faults.json'), `${JSON.stringify(runs, null, 2)}\n`);
  for (const driver of drivers) {
    const name = driver.records[0]?.fn ?? 'function';
    writeFileSync(join(dir, `${name}.records.jsonl`), driver.records.map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(join(dir, `${name}.log`), `${driver.output().join('\n')}\n`);
  }
}

function mostDown(availability: Availability) {
  return {
    brokers: availability.most.broker,
    controllers: availability.most.controller,
    violations: availability.violations,
  };
}
