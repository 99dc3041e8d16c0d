/**
 * npm run bench [-- --quick] [--only <scenario>[,<scenario>…]]
 *
 * Starts the local broker (unless it runs), measures lambda-kafka, the raw binding and KafkaJS side
 * by side on its PLAINTEXT listener, rounds interleaved, and prints one markdown table of medians and
 * ratios with the machine it ran on. Stops the broker again if it started it.
 * Scenarios: latency, throughput, drain, health, cold-start (all by default).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runningPid, startBroker, stopBroker } from '../kafka/broker.js';
import { brokerLayout, DEFAULT_BROKER } from '../kafka/layout.js';
import { runColdStart } from './cold-start.js';
import type { BenchContext } from './context.js';
import { runDrain } from './drain.js';
import { runHealth } from './health.js';
import { runLatency } from './latency.js';
import { describeMachine } from './machine.js';
import { type Row, renderReport } from './report.js';
import { StdoutSink } from './sink.js';
import { runThroughput } from './throughput.js';

// lambda-kafka's INFO lines would dwarf what is measured; its EMF is printed at every level.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

type Scenario = (ctx: BenchContext, sink: StdoutSink) => Promise<{ rows: Row[]; notes: string[] }>;

const SCENARIOS: Record<string, Scenario> = {
  latency: runLatency,
  throughput: runThroughput,
  drain: runDrain,
  health: runHealth,
  'cold-start': runColdStart,
};

const usage = `usage: npm run bench [-- --quick] [--only ${Object.keys(SCENARIOS).join('|')}[,…]]`;

class UsageError extends Error {
  override name = 'UsageError';
}

function chosenScenarios(only: string[] | undefined): string[] {
  if (!only) return Object.keys(SCENARIOS);
  const names = only.flatMap((item) => item.split(',')).map((name) => name.trim());
  const unknown = names.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}\n${usage}`);
  return names;
}

function options() {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        help: { type: 'boolean', default: false },
      },
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
  const scenarios = chosenScenarios(values.only);
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
  };
  const sink = new StdoutSink();
  const rows: Row[] = [];
  const notes: string[] = [];
  sink.install();
  try {
    for (const name of scenarios) {
      const result = await (SCENARIOS[name] as Scenario)(ctx, sink);
      rows.push(...result.rows);
      notes.push(...result.notes);
    }
  } finally {
    sink.restore();
    await stopIfStarted();
  }
  machine.loadAfter = loadavg();
  const mode = `${values.quick ? 'quick' : 'full'} run: ${scenarios.join(', ')}`;
  sink.print(renderReport({ rows, notes, machine, mode, elapsedMs: performance.now() - started }));
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
