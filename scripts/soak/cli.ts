/**
 * npm run soak -- --minutes N [--seed S] [--name CLUSTER] [--port-base P] [--keep-cluster] [--out DIR]
 *
 * A chaos soak of the packaged produce and consume functions on a fresh local cluster in MSK's shape
 * (scripts/soak/soak.ts). Prints the schedule, the faults as they run, and the report; exits 1 when an
 * acknowledged message was lost, duplicated or never processed, a failure had no fault to explain it,
 * an invocation ran past its deadline, a fault could not be injected or recovered from, or more than
 * one broker or controller was down at once; 2 when the soak could not run. Ctrl-C once: no further
 * fault starts and the soak ends with its checks; twice: at once.
 *
 * npm run soak -- --recheck DIR: the failures of a run saved with --out, checked again against the
 * cause table as it is now (scripts/soak/causes.ts); exits 1 when one is still unexplained. It
 * re-reads what the functions answered; losses, duplicates and deadlines stay as that run's report says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { InvocationRecord } from './drivers.js';
import type { FaultRun } from './faults.js';
import { formatReport } from './format.js';
import { failuresOf, type SoakReport } from './report.js';
import { runSoak } from './soak.js';

const usage =
  'usage: npm run soak -- --minutes N [--seed S] [--name CLUSTER] [--port-base P] [--keep-cluster] [--out DIR]\n' +
  '  --name: the local cluster to create fresh (default soak-dev); --keep-cluster: leave it running afterwards\n' +
  "  --out: write the report, every invocation and the functions' whole output there\n" +
  'usage: npm run soak -- --recheck DIR: check the failures of a run saved with --out against the cause table as it is now';

function wholeNumber(option: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(Number.isInteger(number) && number >= min && number <= max))
    throw new Error(`--${option} must be a whole number from ${min} to ${max}, got "${value}"\n${usage}`);
  return number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      seed: { type: 'string' },
      name: { type: 'string' },
      'port-base': { type: 'string' },
      'keep-cluster': { type: 'boolean' },
      out: { type: 'string' },
      recheck: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.recheck) return recheck(values.recheck);
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 24 * 60))
    throw new Error(`--minutes must be a number of minutes, up to a day\n${usage}`);
  const seed = wholeNumber('seed', values.seed, 0, 0xffffffff);
  const portBase = wholeNumber('port-base', values['port-base'], 1024, 65_000);

  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130);
    console.log('Interrupted: no further fault starts; the soak ends with its checks (Ctrl-C again to quit at once).');
    abort.abort();
  });
  const report = await runSoak({
    minutes,
    ...(seed !== undefined && { seed }),
    ...(values.name && { name: values.name }),
    ...(portBase !== undefined && { portBase }),
    keepCluster: values['keep-cluster'] ?? false,
    ...(values.out && { outDir: values.out }),
    signal: abort.signal,
  });
  console.log(`\n${formatReport(report)}`);
  return report.passed ? 0 : 1;
}

/** Prints the failures of the run saved in `dir` that the cause table, as it is now, leaves unexplained. */
function recheck(dir: string): number {
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const report = JSON.parse(read('report.json')) as SoakReport;
  const runs = JSON.parse(read('faults.json')) as FaultRun[];
  const records = ['produce', 'consume'].flatMap((fn) =>
    read(`${fn}.records.jsonl`)
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as InvocationRecord),
  );
  // When the faults began: the report's failures carry their time from it.
  const [first] = report.failures;
  const firstRecord = first && records.find((r) => r.fn === first.fn && r.n === first.invocation);
  const since = firstRecord && first ? firstRecord.startedAt - first.atMs : Math.min(...runs.map((r) => r.startedAt));
  const failures = failuresOf(records, runs, since);
  const unexplained = failures.filter((f) => !f.explainedBy && !f.warmUp);
  const was = report.failures.filter((f) => !f.explainedBy && !f.warmUp).length;
  console.log(
    `${report.replay}: ${failures.length} failures; unexplained by the cause table then: ${was}, now: ${unexplained.length}`,
  );
  for (const f of unexplained)
    console.log(
      `  ${f.fn}#${f.invocation} at ${Math.round(f.atMs / 1000)} s, active: [${f.active.join(', ')}]: ${f.cause}`,
    );
  return unexplained.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(2);
  },
);
