/**
 * npm run soak -- --minutes N [--seed S] [--name CLUSTER] [--port-base P] [--keep-cluster] [--out DIR]
 *
 * A chaos soak of the packaged produce and consume functions on a fresh local cluster in MSK's shape
 * (scripts/soak/soak.ts). Prints the schedule, the faults as they run, and the report; exits 1 when an
 * acknowledged message was lost, duplicated or never processed, a failure had no fault to explain it,
 * an invocation ran past its deadline, a fault could not be injected or recovered from, or more than
 * one broker or controller was down at once; 2 when the soak could not run. Ctrl-C once: no further
 * fault starts and the soak ends with its checks; twice: at once.
 */
import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { runSoak } from './soak.js';

const usage =
  'usage: npm run soak -- --minutes N [--seed S] [--name CLUSTER] [--port-base P] [--keep-cluster] [--out DIR]\n' +
  '  --name: the local cluster to create fresh (default soak-dev); --keep-cluster: leave it running afterwards\n' +
  "  --out: write the report, every invocation and the functions' whole output there";

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
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

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(2);
  },
);
