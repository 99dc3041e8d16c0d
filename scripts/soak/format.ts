/** The soak's report for a person: the schedule, the faults as they ran, totals, failures by cause, log lines, the verdict. */
import { causeShape, GRACE_MS } from './causes.js';
import type { SoakReport } from './report.js';
import { clock, formatSchedule } from './schedule.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const some = <T>(items: readonly T[], n = 10) => items.slice(0, n);

export function formatReport(report: SoakReport): string {
  const out: string[] = [];
  out.push(
    `Soak of cluster "${report.cluster}", seed ${report.seed}, ${report.minutes} min of faults (topic ${report.topic})`,
  );
  out.push(`Replay: ${report.replay}`, '', 'Schedule (planned start after the faults begin):');
  out.push(...formatSchedule(report.schedule).map((line) => `  ${line}`));
  out.push(
    '',
    'Faults as they ran (started: after the faults began; took: until what it took was back; down: nodes down or function frozen):',
  );
  out.push(
    `  ${'#'.padEnd(4)}${'kind'.padEnd(20)}${'node'.padEnd(8)}planned started   took    down  failures  WARN ERROR`,
  );
  for (const f of report.faults) {
    out.push(
      `  ${String(f.id).padEnd(4)}${f.kind.padEnd(20)}${f.targets.join(',').padEnd(8)}${clock(f.plannedAtMs).padStart(7)} ${clock(f.startedAtMs).padStart(7)} ${seconds(f.tookMs).padStart(7)} ${seconds(f.downMs).padStart(7)} ${`${f.explained}/${f.failures}`.padStart(9)} ${String(f.warn).padStart(5)} ${String(f.errorLines).padStart(5)}${f.error ? `  FAILED: ${f.error}` : ''}`,
    );
    for (const note of f.notes) out.push(`        ${note}`);
  }
  out.push(
    `  (failures: explained by this fault / all in its window, which runs ${seconds(GRACE_MS)} past its end; WARN, ERROR: lines of the invocations that ran while it was on)`,
  );
  const c = report.concurrency;
  out.push(
    '',
    `Concurrency rule (at most one broker and one controller unavailable at a time; freezes overlap anything): ` +
      `at most ${c.brokers} broker(s) and ${c.controllers} controller(s) were${c.violations.length ? `, VIOLATED: ${c.violations.join('; ')}` : ''}`,
  );
  const p = report.produce;
  const k = report.consume;
  out.push(
    '',
    'Totals:',
    `  produce: ${p.invocations} invocations (${p.failedInvocations} failed as a whole), ${p.messages} messages: ${p.acked} acknowledged, ${p.failed} failed (${report.failedButWritten} of those in the topic all the same)`,
    `  consume: ${k.invocations} invocations (${k.failedInvocations} failed as a whole), ${k.distinct} distinct messages processed, ${report.processedRepeats} processed again`,
    `  acknowledged but lost: ${report.lost.length}; duplicated in the topic: ${report.duplicated.length}; never processed: ${report.unprocessed.length}`,
    `  past their deadline: ${report.pastDeadline.length}; failures: ${report.failures.length} (${report.unexplained.length} unexplained)`,
  );
  if (report.drainNote) out.push(`  final drain: ${report.drainNote}`);
  for (const [name, keys] of [
    ['lost', report.lost],
    ['duplicated', report.duplicated],
    ['never processed', report.unprocessed],
  ] as const)
    if (keys.length) out.push(`  ${name}: ${some(keys, 20).join(', ')}${keys.length > 20 ? ', …' : ''}`);
  for (const late of report.pastDeadline)
    out.push(
      `  past deadline: ${late.fn}#${late.invocation} ${seconds(late.durationMs)} of ${seconds(late.timeoutMs)}`,
    );

  const causes = new Map<string, { count: number; kinds: Set<string> }>();
  for (const f of report.failures) {
    const key = `${f.fn} ${f.scope}: ${causeShape(f.cause)}`;
    const entry = causes.get(key) ?? { count: 0, kinds: new Set<string>() };
    entry.count += f.count;
    entry.kinds.add(f.explainedBy ?? (f.warmUp ? 'warm-up' : 'UNEXPLAINED'));
    causes.set(key, entry);
  }
  out.push('', 'Failures by cause (count, explained by):');
  if (causes.size === 0) out.push('  none');
  for (const [cause, { count, kinds }] of [...causes].sort((a, b) => b[1].count - a[1].count))
    out.push(`  ${String(count).padStart(5)}  [${[...kinds].join(', ')}] ${cause}`);
  if (report.unexplained.length) {
    out.push('', 'Unexplained failures:');
    for (const f of some(report.unexplained, 20))
      out.push(
        `  ${f.fn}#${f.invocation} at ${clock(f.atMs)} ${f.scope}×${f.count} active: [${f.active.join(', ') || 'none'}]: ${f.cause.slice(0, 400)}`,
      );
  }
  out.push('', 'WARN and ERROR lines of the functions, by the fault active when the invocation ran:');
  if (report.logs.length === 0) out.push('  none');
  for (const summary of report.logs) {
    out.push(`  ${summary.label}: ${summary.warn} WARN, ${summary.error} ERROR`);
    for (const m of some(summary.messages, 12)) {
      out.push(`    ${String(m.count).padStart(4)} ${m.level.padEnd(5)} ${m.shape}`);
      for (const example of m.examples) out.push(`           e.g. ${example}`);
    }
  }
  out.push('', report.passed ? 'PASSED' : `FAILED: ${report.problems.join('; ')}`, `Replay: ${report.replay}`);
  return out.join('\n');
}
