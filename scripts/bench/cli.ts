/**
 * npm run bench [-- --quick] [--only <scenario>[,<scenario>…]] [--memory 128,512,1769] [--no-fit]
 *
 * Starts the local broker (unless it runs), measures lambda-kafka, the raw binding and KafkaJS side
 * by side on its PLAINTEXT listener, rounds interleaved, and prints one markdown table of medians and
 * ratios with the machine it ran on. Stops the broker again if it started it.
 * Scenarios: latency, throughput, drain, health, cold-start (all by default), and shapes: each
 * client (and @platformatic/kafka) in a fresh process inside cgroups sized as Lambda sizes a
 * function of each --memory size, plus "full" (no cgroup), then a memory fit at the smallest size
 * (--no-fit skips it). --memory alone runs only shapes; --only shapes alone uses 128,512,1769.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runningPid, startBroker, stopBroker } from '../kafka/broker.js';
import { brokerLayout, DEFAULT_BROKER } from '../kafka/layout.js';
import { runColdStart } from './cold-start.js';
import type { BenchContext } from './context.js';
import { runDrain } from './drain.js';
import { runHealth } from './health.js';
import { DEFAULT_MEMORY_SIZES, MemorySizeError, parseMemorySizes } from './lambda-shape.js';
import { runLatency } from './latency.js';
import { describeMachine } from './machine.js';
import { type Row, renderReport, type ScenarioResult } from './report.js';
import { runShapes } from './shapes.js';
import { StdoutSink } from './sink.js';
import { runThroughput } from './throughput.js';

// lambda-kafka's INFO lines would dwarf what is measured; its EMF is printed at every level.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

type Scenario = (ctx: BenchContext, sink: StdoutSink) => Promise<ScenarioResult>;

const SCENARIOS: Record<string, Scenario> = {
  latency: runLatency,
  throughput: runThroughput,
  drain: runDrain,
  health: runHealth,
  'cold-start': runColdStart,
  shapes: runShapes,
};

/** What runs without --only and --memory: every scenario but shapes (minutes of children at 128 MB). */
const DEFAULT_SCENARIOS = Object.keys(SCENARIOS).filter((name) => name !== 'shapes');

const usage = [
  `usage: npm run bench [-- --quick] [--only ${Object.keys(SCENARIOS).join('|')}[,…]] [--memory <MB>[,<MB>…]] [--no-fit]`,
  `  without --only: ${DEFAULT_SCENARIOS.join(', ')}; with --memory and no --only: shapes alone`,
  `  --memory: Lambda memory sizes for shapes, whole MB from 128 to 10240 (default ${DEFAULT_MEMORY_SIZES.join(',')})`,
  '  --no-fit: shapes without its memory fit (one large produce and a drain at the smallest size)',
].join('\n');

class UsageError extends Error {
  override name = 'UsageError';
}

function chosenScenarios(only: string[] | undefined, memory: string | undefined): string[] {
  if (!only) return memory === undefined ? DEFAULT_SCENARIOS : ['shapes'];
  const names = only.flatMap((item) => item.split(',')).map((name) => name.trim());
  const unknown = names.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}\n${usage}`);
  if (memory !== undefined && !names.includes('shapes')) {
    throw new UsageError(`--memory sizes the shapes scenario, which --only ${names.join(',')} leaves out\n${usage}`);
  }
  return names;
}

function memorySizes(memory: string | undefined): readonly number[] {
  if (memory === undefined) return DEFAULT_MEMORY_SIZES;
  try {
    return parseMemorySizes(memory);
  } catch (error) {
    if (error instanceof MemorySizeError) throw new UsageError(`${error.message}\n${usage}`);
    throw error;
  }
}

function options() {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        memory: { type: 'string' },
        fit: { type: 'boolean', default: true },
        help: { type: 'boolean', default: false },
      },
      allowNegative: true,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}

async function main(): Promise<number> {
  const values = options();
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const scenarios = chosenScenarios(values.only, values.memory);
  const shapes = { memorySizes: memorySizes(values.memory), fit: values.fit };
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const machine = describeMachine();

  const wasRunning = runningPid(brokerLayout(DEFAULT_BROKER)) !== undefined;
  const connection = await startBroker({ log: (line) => progress(`[kafka] ${line}`) });
  const stopIfStarted = () => (wasRunning ? Promise.resolve(false) : stopBroker(DEFAULT_BROKER));
  process.once('SIGINT', () => void stopIfStarted().finally(() => process.exit(130)));

  const ctx: BenchContext = {
    bootstrap: connection.listeners.PLAINTEXT.bootstrapServers,
    brokerPort: connection.ports.PLAINTEXT,
    quick: values.quick,
    progress,
    shapes,
  };
  const sink = new StdoutSink();
  const rows: Row[] = [];
  const notes: string[] = [];
  const sections: string[] = [];
  sink.install();
  try {
    for (const name of scenarios) {
      const result = await (SCENARIOS[name] as Scenario)(ctx, sink);
      rows.push(...result.rows);
      notes.push(...result.notes);
      sections.push(...(result.sections ?? []));
      Object.assign(machine, result.machine);
    }
  } finally {
    sink.restore();
    await stopIfStarted();
  }
  machine.loadAfter = loadavg();
  const mode = `${values.quick ? 'quick' : 'full'} run: ${scenarios.join(', ')}`;
  sink.print(renderReport({ rows, notes, sections, machine, mode, elapsedMs: performance.now() - started }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    const detail = error instanceof UsageError ? error.message : (error.stack ?? error.message);
    process.stderr.write(`Benchmark failed: ${detail}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
