/**
 * Scenario "shapes": Lambda's resource shapes. Every client runs in a fresh Node process of its own
 * (shape-child.mjs, on the nodejs22.x build of Node) inside cgroup v1 groups sized as Lambda sizes a
 * function of M MB (cgroups.ts: a CFS quota of M/1769 of one core, a memory limit of M MiB), and
 * once more without any ("full": the machine's cores). In each round every shape runs every client
 * in turn, so the machine's noise falls on all alike. lambda-kafka is its produce function as
 * deployed: the bundle of the deployment package, built at the start so that it is today's src/.
 * Then the memory fit, at the smallest size: one large produce and a drain of 10,000 × 10 KB.
 */
import { cpSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleFunction } from '../../src/esbuild.js';
import { REPO_ROOT } from '../kafka/layout.js';
import { lambdaNodeOptions } from '../lambda/runtimes.js';
import { buildPackage } from '../package/package.js';
import { BenchCgroups, type LambdaCgroup } from './cgroups.js';
import { type BenchContext, uniqueName, VALUE, withTopic } from './context.js';
import { CFS_PERIOD_US, cpuQuotaUs, DEFAULT_MEMORY_SIZES, describeCpuShare, ONE_VCPU_MB } from './lambda-shape.js';
import { packageVersion } from './machine.js';
import { preload } from './peers.js';
import type { ScenarioResult } from './report.js';
import { type ChildOutcome, runChild, type ShapeTask, stopChildren } from './shape-run.js';
import {
  type FitSamples,
  failureNotes,
  renderFit,
  renderRatios,
  renderShapeTable,
  SHAPE_CLIENT_LABELS,
  SHAPE_CLIENTS,
  type ShapeClient,
  type ShapeSamples,
} from './shapes-report.js';
import { INTERVAL_LEVEL, INTERVAL_RESAMPLES, MIN_INTERVAL_SAMPLES } from './stats.js';

const RUNTIME = 'nodejs22.x';
const WARM_UP = 20;
const WARM = 200;
/** Untimed 1-message sends after the batches, before the same sends are timed again (later p50). */
const STEADY_WARM_UP = [2000, 300] as const;
const BATCH_SIZE = 500;
/**
 * Children per round, per shape and client, that start cold, time the warm 1-message sends and exit
 * (full run, quick run): a cold start at 128 MB moved by half between runs of 3, and a warm p50 by a
 * third between children of one client. Not @platformatic/kafka, whose cold start is 5–10× the others'.
 */
const COLD_ONLY_PER_ROUND = [2, 0] as const;
const COLD_ONLY_CLIENTS = SHAPE_CLIENTS.filter((client) => client !== 'platformatic');
/**
 * Timed batch invocations per child (full run, quick run). Ten were 50–100 ms on full CPU, V8's
 * compiling of each client's batch path included: the same client's children then read 57k to 86k
 * msg/s, and which client led changed from run to run. Forty: 20,000 messages, a few seconds at 128 MB.
 */
const BATCHES = [40, 4] as const;
const FIT_MESSAGES = 5000;
/** lambda-kafka's setting for functions that send batches, measured as a client of its own. */
const LINGER = { KAFKA_PRODUCE_LINGER_MS: '5' };
const DRAIN_MESSAGES = 10_000;
const DRAIN_VALUE = 'x'.repeat(10 * 1024);

/** One shape: the function's memory (1769 for "full", as Lambda would say of one full core) and its groups. */
interface Shape {
  label: string;
  memoryMb: number;
  group?: LambdaCgroup;
}

/** A child's time limit: generous where CPU is scarce (a cold start took 16 s at 128 MB once). */
function timeoutMs(shape: Shape, task: ShapeTask): number {
  const scarce = shape.group ? Math.min(1, 128 / shape.memoryMb) : 0;
  return (60_000 + 120_000 * scarce) * (task === 'shape' || task === 'cold' ? 1 : 2);
}

/** The produce bundle of the deployment package, and a consume bundle beside it, in a copy of the package's tree. */
async function stageFunctions(ctx: BenchContext) {
  ctx.progress(`shapes: building the deployment package for ${RUNTIME}`);
  const built = await buildPackage(RUNTIME, (line) => ctx.progress(`  ${line}`));
  // A copy of our own: a package built beside this run replaces .build/package/ while children load from it.
  const dir = join(REPO_ROOT, 'dist', 'bench-shapes');
  rmSync(dir, { recursive: true, force: true });
  cpSync(built.staged, dir, { recursive: true });
  const consumeBundle = await bundleFunction({
    entry: join(REPO_ROOT, 'scripts', 'bench', 'consume-entry.ts'),
    outdir: join(dir, 'dist', 'bench-consume'),
    nodeMajor: built.node.major,
  });
  return { dir, node: built.node, produceBundle: join(dir, 'dist', 'produce', 'index.mjs'), consumeBundle };
}

type Staged = Awaited<ReturnType<typeof stageFunctions>>;

function perClient<T>(make: (client: ShapeClient) => T): Record<ShapeClient, T> {
  return Object.fromEntries(SHAPE_CLIENTS.map((client) => [client, make(client)])) as Record<ShapeClient, T>;
}

export async function runShapes(ctx: BenchContext): Promise<ScenarioResult> {
  const memorySizes = ctx.shapes?.memorySizes ?? DEFAULT_MEMORY_SIZES;
  const fitWanted = ctx.shapes?.fit ?? true;
  const staged = await stageFunctions(ctx);
  const notes: string[] = [];
  const opened = BenchCgroups.open();
  const cgroups = 'cgroups' in opened ? opened.cgroups : undefined;
  const removeGroups = () => {
    for (const problem of cgroups?.removeAll() ?? []) notes.push(`could not remove cgroup ${problem}`);
  };
  const interrupted = () => {
    stopChildren();
    removeGroups();
  };
  // Before the CLI's own SIGINT listener, which exits: the groups go first (a group holding a process cannot).
  process.prependListener('SIGINT', interrupted);
  process.once('exit', interrupted);
  try {
    if ('unavailable' in opened) notes.push(`no constrained shapes, only "full": ${opened.unavailable}.`);
    else if (opened.leftoversRemoved > 0) {
      notes.push(`removed ${opened.leftoversRemoved} empty cgroup(s) an earlier run had left.`);
    }
    const shapes: Shape[] = [
      ...constrainedShapes(cgroups, memorySizes, notes),
      { label: 'full', memoryMb: ONE_VCPU_MB },
    ];
    const sections = await withTopic(ctx, 'bench-shapes', (topic) => measureShapes(ctx, staged, shapes, topic));
    const smallest = shapes[0];
    let fit: FitSamples | undefined;
    if (!fitWanted) notes.push('memory fit: not run (--no-fit).');
    else if (!smallest?.group) notes.push('memory fit: not run, there is no memory limit to fit in without cgroups.');
    else fit = await withTopic(ctx, 'bench-shapes-drain', (topic) => measureFit(ctx, staged, smallest, topic));
    removeGroups();
    return {
      rows: [],
      sections: [
        ...sections.map((shape) => `### ${shape.heading}\n\n${renderShapeTable(shape)}`),
        `### lambda-kafka's figures over each peer's\n\n${renderRatios(sections)}`,
        ...(fit ? [`### Memory fit at ${fit.label}\n\n${renderFit(fit)}`] : []),
      ],
      notes: [...describeRun(ctx, staged, shapes, fit !== undefined), ...notes, ...failureNotes(sections, fit)],
      machine: {
        childNode: `v${staged.node.version} (the ${RUNTIME} build)`,
        platformatic: packageVersion('@platformatic/kafka'),
      },
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('exit', interrupted);
    removeGroups();
  }
}

/** A shape per memory size, each with its groups; none when there are no cgroups or they cannot be set up. */
function constrainedShapes(
  cgroups: BenchCgroups | undefined,
  memorySizes: readonly number[],
  notes: string[],
): Shape[] {
  if (!cgroups) return [];
  try {
    return memorySizes.map((memoryMb) => ({ label: `${memoryMb} MB`, memoryMb, group: cgroups.create(memoryMb) }));
  } catch (error) {
    cgroups.removeAll();
    notes.push(`no constrained shapes, only "full": the cgroups could not be set up: ${(error as Error).message}.`);
    return [];
  }
}

function heading(shape: Shape): string {
  return shape.group
    ? `${shape.label}: ${describeCpuShare(shape.memoryMb)}, ${shape.memoryMb} MiB of memory`
    : `${shape.label}: no cgroup, the machine's ${availableParallelism()} cores`;
}

function childEnv(shape: Shape, extra: Record<string, string>): Record<string, string> {
  // As on Lambda, the function's own variables and little else; POWERTOOLS_LOG_LEVEL unset: INFO, as deployed.
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_LAMBDA_FUNCTION_NAME: 'bench-shapes',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(shape.memoryMb),
    ...extra,
  };
}

/** The runtime's node, started as Lambda's bootstrap starts it for a function of the shape's memory. */
function nodeFor(staged: Staged, shape: Shape) {
  return { node: staged.node.bin, nodeOptions: lambdaNodeOptions(shape.memoryMb) };
}

function baseOptions(ctx: BenchContext, staged: Staged, shape: Shape) {
  return {
    bootstrap: ctx.bootstrap,
    packageDir: staged.dir,
    produceBundle: staged.produceBundle,
    consumeBundle: staged.consumeBundle,
    value: VALUE,
    memoryMb: shape.memoryMb,
  };
}

function progressLine(shape: Shape, client: ShapeClient, task: string, outcome: ChildOutcome): string {
  const what = outcome.failure
    ? `failed${outcome.oomKilled ? ' (OOM kill)' : ''}`
    : outcome.coldMs !== undefined
      ? `cold ${Math.round(outcome.coldMs)} ms`
      : `${Math.round(outcome.result?.wallMs ?? 0)} ms`;
  return `  ${shape.label} ${SHAPE_CLIENT_LABELS[client]} ${task}: ${what}`;
}

async function measureShapes(ctx: BenchContext, staged: Staged, shapes: Shape[], topic: string) {
  const count = ctx.quick ? 1 : 3;
  const coldOnly = COLD_ONLY_PER_ROUND[ctx.quick ? 1 : 0];
  const samples: ShapeSamples[] = shapes.map((shape) => ({
    label: shape.label,
    heading: heading(shape),
    outcomes: perClient(() => []),
    coldOnly: perClient(() => []),
  }));
  const env = { KAFKA_BOOTSTRAP_SERVERS: ctx.bootstrap, KAFKA_TOPICS: topic, KAFKA_STARTUP_HEALTH_CHECK: 'true' };
  const run = async (shape: Shape, client: ShapeClient, task: 'shape' | 'cold') => {
    const outcome = await runChild({
      client: client === 'lambda-kafka-linger' ? 'lambda-kafka' : client,
      task,
      options: {
        ...baseOptions(ctx, staged, shape),
        topic,
        warmUp: WARM_UP,
        warm: WARM,
        steadyWarmUp: STEADY_WARM_UP[ctx.quick ? 1 : 0],
        batchSize: BATCH_SIZE,
        batches: BATCHES[ctx.quick ? 1 : 0],
      },
      env: childEnv(shape, client === 'lambda-kafka-linger' ? { ...env, ...LINGER } : env),
      ...nodeFor(staged, shape),
      ...(shape.group && { group: shape.group }),
      timeoutMs: timeoutMs(shape, task),
    });
    ctx.progress(progressLine(shape, client, task, outcome));
    return outcome;
  };
  for (let round = 0; round < count; round++) {
    ctx.progress(`shapes: round ${round + 1}/${count}, ${shapes.map((s) => s.label).join(', ')}`);
    for (const [index, shape] of shapes.entries()) {
      for (const client of SHAPE_CLIENTS) samples[index]?.outcomes[client].push(await run(shape, client, 'shape'));
    }
    for (let extra = 0; extra < coldOnly; extra++) {
      for (const [index, shape] of shapes.entries()) {
        for (const client of COLD_ONLY_CLIENTS) samples[index]?.coldOnly[client].push(await run(shape, client, 'cold'));
      }
    }
  }
  return samples;
}

async function measureFit(ctx: BenchContext, staged: Staged, shape: Shape, drainTopic: string): Promise<FitSamples> {
  return withTopic(ctx, 'bench-shapes-fit', async (topic) => {
    ctx.progress(`shapes: memory fit at ${shape.label}; preloading ${count(DRAIN_MESSAGES)} × 10 KB to ${drainTopic}`);
    await preload(ctx, drainTopic, DRAIN_MESSAGES, DRAIN_VALUE);
    const run = async (client: ShapeClient, task: ShapeTask) => {
      const outcome = await runChild({
        client: client === 'lambda-kafka-linger' ? 'lambda-kafka' : client,
        task,
        options: {
          ...baseOptions(ctx, staged, shape),
          topic: task === 'fit-drain' ? drainTopic : topic,
          fitMessages: FIT_MESSAGES,
          drainMessages: DRAIN_MESSAGES,
        },
        env: childEnv(shape, {
          KAFKA_BOOTSTRAP_SERVERS: ctx.bootstrap,
          KAFKA_TOPICS: task === 'fit-drain' ? drainTopic : topic,
          KAFKA_STARTUP_HEALTH_CHECK: 'true',
          ...(task === 'fit-drain' && { KAFKA_CONSUMER_GROUP_ID: uniqueName('bench-shapes-lambda-kafka') }),
          ...(client === 'lambda-kafka-linger' && LINGER),
        }),
        ...nodeFor(staged, shape),
        ...(shape.group && { group: shape.group }),
        timeoutMs: timeoutMs(shape, task),
      });
      ctx.progress(progressLine(shape, client, task, outcome));
      return outcome;
    };
    const produce: Partial<Record<ShapeClient, ChildOutcome>> = {};
    const drain: Partial<Record<ShapeClient, ChildOutcome>> = {};
    for (const client of SHAPE_CLIENTS) produce[client] = await run(client, 'fit-produce');
    for (const client of SHAPE_CLIENTS) {
      if (client !== 'lambda-kafka-linger') drain[client] = await run(client, 'fit-drain');
    }
    return {
      label: shape.label,
      produceMessages: FIT_MESSAGES,
      drainMessages: DRAIN_MESSAGES,
      produce: produce as Record<ShapeClient, ChildOutcome>,
      drain,
    };
  });
}

const count = (n: number) => n.toLocaleString('en-US');

/** What each figure includes and how it was taken. */
function describeRun(ctx: BenchContext, staged: Staged, shapes: Shape[], fitRan: boolean): string[] {
  const constrained = shapes.flatMap((shape) => (shape.group ? [{ ...shape, group: shape.group }] : []));
  const settings = constrained.map(
    (s) =>
      `${s.label}: cpu.cfs_quota_us=${cpuQuotaUs(s.memoryMb)} with cpu.cfs_period_us=${CFS_PERIOD_US} (${describeCpuShare(s.memoryMb)}), memory.limit_in_bytes=${s.memoryMb} MiB, no swap`,
  );
  const where = constrained[0]
    ? ` Groups made under ${dirname(constrained[0].group.cpu)} and ${dirname(constrained[0].group.memory)} (inside this process's own groups), removed at the end.`
    : '';
  const batches = BATCHES[ctx.quick ? 1 : 0];
  const firstMb = shapes[0]?.memoryMb ?? ONE_VCPU_MB;
  return [
    `shapes: each client in a fresh Node process of its own (scripts/bench/shape-child.mjs) on Node v${staged.node.version} (the ${RUNTIME} build, ${staged.node.bin}), started with the options Lambda's bootstrap gives node for the function's memory (at ${firstMb} MB: ${lambdaNodeOptions(firstMb).join(' ')}).${settings.length > 0 ? ` cgroup v1 per memory size — ${settings.join('; ')}.` : ''}${where} "full": no cgroup, the machine's ${availableParallelism()} cores (the function's memory given as ${ONE_VCPU_MB} MB). ${ctx.quick ? 1 : 3} round(s), each running every shape and in it every client in turn (lambda-kafka, raw binding, KafkaJS, @platformatic/kafka); figures are medians over the children, "(k/n children)" where only k of n succeeded. "lambda-kafka, KAFKA_PRODUCE_LINGER_MS=5": the same produce function with the setting docs/configuration.md gives functions that send batches (each send flushes what it queued): its 1-message figures show what a single message pays for it.`,
    `cold ms: from spawn() (a /bin/sh that puts itself into the groups and execs node) to the child's message on fd 3 after its first message was acknowledged: Node's start, module loading, connecting; lambda-kafka's first invocation runs every staged check (KAFKA_STARTUP_HEALTH_CHECK=true, KAFKA_TOPICS set). The median over each round's shape child and ${COLD_ONLY_PER_ROUND[ctx.quick ? 1 : 0]} more per round that time the warm sends below and exit, interleaved the same way ("(children)" says how many); @platformatic/kafka's over its shape children only. warm: ${WARM_UP} warm-up, then ${WARM} sequential 1-message invocations (lambda-kafka) or sends (peers), each timed; p50 and p99 per child, and the median of those over the same children as cold: a child's p50 moved by a third between children of the same client here, far more than within one. CPU µs / 1-msg invocation: process.cpuUsage() (user + system, every thread of the process, librdkafka's included) over the ${WARM}, divided by ${WARM}, over the same children. 500/inv: one untimed, then ${batches} invocations / sends of ${BATCH_SIZE} × 1 KB, msg/s over the ${batches} and CPU µs per message. later p50: after those, ${STEADY_WARM_UP[ctx.quick ? 1 : 0]} more untimed 1-message invocations / sends and ${WARM} timed again: a warm environment once V8 has optimised the hot code (a JavaScript client runs its first few hundred calls in the interpreter and baseline code; the raw binding has little JavaScript to compile).`,
    `lambda-kafka: its produce function as deployed, dist/produce/index.mjs of the deployment package (buildPackage('${RUNTIME}') at the start, copied to dist/bench-shapes/ with the package's binding), handler(event, context) with a fake Lambda context (a fresh awsRequestId per invocation, memoryLimitInMB; built before the clock starts, as the runtime builds it before it calls any handler, and for every client alike), POWERTOOLS_LOG_LEVEL unset (INFO, as deployed): its logs and EMF documents go to stdout, a pipe read by cat in the shape's CPU group (as Lambda's own reader of a function's output runs in the function's CPU share; the lines are counted once the child has ended); a result with sent ≠ n fails the child. raw binding: the same binding files, RdKafka.Producer with enable.idempotence, acks -1, linger.ms 0, dr_cb, setPollInBackground(true), one delivery-report listener. KafkaJS: idempotent, maxInFlightRequests 1, logLevel NOTHING, acks -1. @platformatic/kafka: Producer with idempotent: true, acks ProduceAcks.ALL, stringSerializers. KafkaJS and @platformatic/kafka send more than 1000 messages in slices of 1000: each makes one record batch per partition of a send, and 5000 × 1 KB in one passes the broker's 1 MB message.max.bytes.`,
    `ratios: lambda-kafka's median over the peer's, and in brackets where both have ${MIN_INTERVAL_SAMPLES} or more children: the central ${INTERVAL_LEVEL * 100} % of that ratio when each client's children are drawn again with replacement (${INTERVAL_RESAMPLES} times; seeded, so the same figures give the same brackets). It is how far the ratio could move with other children of the same run; it does not cover what changes on the machine between runs, which here moved a ratio by up to 0.3.`,
    "peak RSS MB: the child's VmHWM (/proc/self/status) at its end; it counts pages of files too (node itself, shared libraries), which the memory cgroup charges to whoever loaded them first, so it can exceed the limit without an OOM kill. † where a killed child could not say: its memory cgroup's memory.max_usage_in_bytes instead (reset before each child; page cache charged to the group included). OOM kills: the child ended by a SIGKILL that was not the timeout's, or the group's memory.oom_control oom_kill grew. WARN/ERROR lines: per child (median), lines on stdout and stderr at WARN or above (Powertools' JSON \"level\", or a plain line saying warning or error) of all lines.",
    ...(fitRan
      ? [
          `memory fit: at the smallest size, a fresh child per client and task. produce: after one 1-message send (connecting), one invocation / send of ${count(FIT_MESSAGES)} × 1 KB, timed. drain: ${count(DRAIN_MESSAGES)} × 10 KB preloaded (raw producer, not measured) to a topic of 3 partitions, a fresh group per client from the earliest offset; wall ms from the client's module loaded (connecting and joining included) to the last message, msg/s from the first message to the last. lambda-kafka: a consume function bundled like handlers/consume.ts with a counting no-op processor (scripts/bench/consume-entry.ts), invoked with { maxMessages: 500, idleMs: 1000 } until all are read; raw binding: KafkaConsumer with librdkafka's default prefetch, consume(500) in a loop, commit() per batch; KafkaJS: run({ eachBatch }); @platformatic/kafka: Consumer.consume() in mode committed with fallback earliest and its default autocommit (after each fetch), read with for await. cgroup peak MB: memory.max_usage_in_bytes of the child's group, what the limit is held against.`,
        ]
      : []),
  ];
}
