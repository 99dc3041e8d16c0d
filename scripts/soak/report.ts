/**
 * The soak's verdict from what happened: the acknowledged messages against the topic as kcat read it
 * and against what consume processed; every failure against the faults active when it happened; the
 * invocations that ran past their deadline; the functions' WARN and ERROR lines per fault.
 */
import { activeFaults, causeShape, explainedBy } from './causes.js';
import type { InvocationRecord } from './drivers.js';
import type { FaultRun } from './faults.js';
import { describeFault, type FaultKind, type PlannedFault } from './schedule.js';

export interface SoakInput {
  seed: number;
  minutes: number;
  cluster: string;
  topic: string;
  schedule: PlannedFault[];
  runs: FaultRun[];
  /** The most brokers and controllers unavailable at once, and when there were more than one. */
  concurrency: { brokers: number; controllers: number; violations: string[] };
  produced: InvocationRecord[];
  consumed: InvocationRecord[];
  /** Every key consume logged as processed, with repeats. */
  processed: string[];
  /** Each key in the topic, as kcat read it, and how often. */
  inTopic: Map<string, number>;
  /** When the faults began, and when the soak (its checks included) ended. */
  faultsStartedAt: number;
  finishedAt: number;
  /** The final drain stopped before every acknowledged key was processed. */
  drainNote?: string;
}

export interface Failure {
  fn: InvocationRecord['fn'];
  invocation: number;
  /** When its invocation started, ms after the faults began. */
  atMs: number;
  /** 'invocation': the whole invocation failed; 'message': produce reported this many messages failed with this cause. */
  scope: 'invocation' | 'message';
  count: number;
  cause: string;
  /** The faults active then (or within the grace after), as `#id kind`. */
  active: string[];
  explainedBy?: FaultKind;
  /** Before the first fault, while the functions warmed up on the fresh cluster: reported, not held against the library. */
  warmUp?: true;
}

export interface LogSummary {
  /** The kinds of the faults on while the invocation ran, joined by ' + ', or `none`. */
  label: string;
  warn: number;
  error: number;
  messages: { level: string; shape: string; count: number; examples: string[] }[];
}

export interface FaultSummary {
  id: number;
  kind: FaultKind;
  what: string;
  targets: number[];
  plannedAtMs: number;
  /** Relative to the faults' start. */
  startedAtMs: number;
  tookMs: number;
  downMs: number;
  notes: string[];
  error?: string;
  /** Failures in its window, and how many it explains (several faults can be active at once). */
  failures: number;
  explained: number;
  warn: number;
  errorLines: number;
}

export interface SoakReport {
  seed: number;
  minutes: number;
  cluster: string;
  topic: string;
  replay: string;
  durationMs: number;
  schedule: PlannedFault[];
  faults: FaultSummary[];
  concurrency: SoakInput['concurrency'];
  produce: { invocations: number; failedInvocations: number; messages: number; acked: number; failed: number };
  consume: { invocations: number; failedInvocations: number; processed: number; distinct: number };
  lost: string[];
  duplicated: string[];
  unprocessed: string[];
  /** Processed again (at-least-once consumption may repeat after a rebalance): informational. */
  processedRepeats: number;
  /** Reported failed, and in the topic all the same (the library says such a message "may still be delivered"): informational. */
  failedButWritten: number;
  pastDeadline: { fn: string; invocation: number; durationMs: number; timeoutMs: number; timedOut: boolean }[];
  failures: Failure[];
  unexplained: Failure[];
  logs: LogSummary[];
  drainNote?: string;
  /** Why the soak failed; empty when it passed. */
  problems: string[];
  passed: boolean;
}

const label = (run: FaultRun) => `#${run.fault.id} ${run.fault.kind}`;

type Acked = { key: string; record: InvocationRecord };
type SendResults = { results?: { ok: boolean; error?: string }[] };

function producedMessages(records: readonly InvocationRecord[]) {
  const acked: Acked[] = [];
  const failed: { key: string; record: InvocationRecord; cause: string }[] = [];
  for (const record of records) {
    const results = (record.value as SendResults | undefined)?.results;
    for (const [i, key] of (record.keys ?? []).entries()) {
      const result = results?.[i];
      if (result?.ok) acked.push({ key, record });
      else failed.push({ key, record, cause: result?.error ?? record.failure ?? 'no result' });
    }
  }
  return { acked, failed };
}

/**
 * Every failure of `records` (a whole invocation, or a message's result) with the faults active then
 * and the one that explains it by the cause table (causes.ts); `since` is when the faults began.
 */
export function failuresOf(records: readonly InvocationRecord[], runs: readonly FaultRun[], since: number): Failure[] {
  const failures: Failure[] = [];
  const add = (record: InvocationRecord, scope: Failure['scope'], cause: string, count: number) => {
    const active = activeFaults(runs, record.startedAt, record.endedAt);
    const by = explainedBy(cause, active, record.startedAt, record.endedAt);
    const warmUp = record.startedAt < since;
    failures.push({
      fn: record.fn,
      invocation: record.n,
      atMs: record.startedAt - since,
      scope,
      count,
      cause,
      active: active.map(label),
      ...(by && { explainedBy: by }),
      ...(warmUp && { warmUp }),
    });
  };
  for (const record of records) {
    if (record.failure) {
      add(record, 'invocation', record.failure, 1);
      continue;
    }
    const results = (record.value as SendResults | undefined)?.results ?? [];
    const byCause = new Map<string, number>();
    for (const result of results)
      if (!result.ok) byCause.set(result.error ?? '', (byCause.get(result.error ?? '') ?? 0) + 1);
    for (const [cause, count] of byCause) add(record, 'message', cause, count);
  }
  return failures;
}

function logSummaries(records: readonly InvocationRecord[], runs: readonly FaultRun[]): LogSummary[] {
  const byLabel = new Map<string, LogSummary>();
  for (const record of records) {
    if (record.logs.length === 0) continue;
    // The faults on while the invocation ran (no grace): overlapping ones make one label, so no line counts twice.
    const active = activeFaults(runs, record.startedAt, record.endedAt, 0);
    const name = [...new Set(active.map((run) => run.fault.kind))].sort().join(' + ') || 'none';
    const summary = byLabel.get(name) ?? { label: name, warn: 0, error: 0, messages: [] };
    byLabel.set(name, summary);
    for (const entry of record.logs) {
      if (entry.level === 'WARN') summary.warn++;
      else summary.error++;
      const shape = causeShape(`${record.fn}: ${entry.message}`);
      let message = summary.messages.find((m) => m.shape === shape && m.level === entry.level);
      if (!message) {
        message = { level: entry.level, shape, count: 0, examples: [] };
        summary.messages.push(message);
      }
      message.count++;
      if (message.examples.length < 2 && !message.examples.some((e) => e.endsWith(entry.message.slice(0, 300))))
        message.examples.push(`${record.fn}#${record.n}: ${entry.message.slice(0, 300)}`);
    }
  }
  for (const summary of byLabel.values()) summary.messages.sort((a, b) => b.count - a.count);
  return [...byLabel.values()].sort((a, b) =>
    a.label === 'none' ? -1 : b.label === 'none' ? 1 : b.warn + b.error - a.warn - a.error,
  );
}

export function buildReport(input: SoakInput): SoakReport {
  const { acked, failed } = producedMessages(input.produced);
  const processed = new Map<string, number>();
  for (const key of input.processed) processed.set(key, (processed.get(key) ?? 0) + 1);
  const lost = acked.filter((m) => !input.inTopic.has(m.key)).map((m) => m.key);
  const duplicated = acked.filter((m) => (input.inTopic.get(m.key) ?? 0) > 1).map((m) => m.key);
  const unprocessed = acked.filter((m) => !processed.has(m.key)).map((m) => m.key);
  const invocations = [...input.produced, ...input.consumed];
  const pastDeadline = invocations
    .filter((r) => r.timedOut || r.durationMs >= r.timeoutMs)
    .map((r) => ({
      fn: r.fn,
      invocation: r.n,
      durationMs: r.durationMs,
      timeoutMs: r.timeoutMs,
      timedOut: r.timedOut,
    }));
  const failures = failuresOf(invocations, input.runs, input.faultsStartedAt).sort((a, b) => a.atMs - b.atMs);
  const unexplained = failures.filter((f) => !f.explainedBy && !f.warmUp);
  const logs = logSummaries(invocations, input.runs);

  const faults = input.runs.map((run): FaultSummary => {
    const inWindow = failures.filter((f) => f.active.includes(label(run)));
    const lines = invocations
      .filter((r) => activeFaults([run], r.startedAt, r.endedAt, 0).length > 0)
      .flatMap((r) => r.logs);
    return {
      id: run.fault.id,
      kind: run.fault.kind,
      what: describeFault(run.fault),
      targets: run.targets,
      plannedAtMs: run.fault.atMs,
      startedAtMs: run.startedAt - input.faultsStartedAt,
      tookMs: run.endedAt - run.startedAt,
      downMs: run.downMs,
      notes: run.notes,
      ...(run.error && { error: run.error }),
      failures: inWindow.reduce((sum, f) => sum + f.count, 0),
      explained: inWindow.filter((f) => f.explainedBy === run.fault.kind).reduce((sum, f) => sum + f.count, 0),
      warn: lines.filter((l) => l.level === 'WARN').length,
      errorLines: lines.filter((l) => l.level === 'ERROR').length,
    };
  });

  const problems: string[] = [];
  if (lost.length) problems.push(`${lost.length} acknowledged message(s) lost`);
  if (duplicated.length) problems.push(`${duplicated.length} acknowledged message(s) duplicated in the topic`);
  if (unexplained.length) problems.push(`${unexplained.length} failure(s) no active fault explains`);
  if (pastDeadline.length) problems.push(`${pastDeadline.length} invocation(s) ran past their deadline`);
  if (unprocessed.length) problems.push(`${unprocessed.length} acknowledged message(s) never processed by consume`);
  const faultErrors = faults.filter((f) => f.error);
  if (faultErrors.length) problems.push(`${faultErrors.length} fault(s) could not be injected or recovered from`);
  if (input.concurrency.violations.length) problems.push('more than one broker or controller was unavailable at once');

  return {
    seed: input.seed,
    minutes: input.minutes,
    cluster: input.cluster,
    topic: input.topic,
    replay: `npm run soak -- --minutes ${input.minutes} --seed ${input.seed}`,
    durationMs: input.finishedAt - input.faultsStartedAt,
    schedule: input.schedule,
    faults,
    concurrency: input.concurrency,
    produce: {
      invocations: input.produced.length,
      failedInvocations: input.produced.filter((r) => r.failure).length,
      messages: acked.length + failed.length,
      acked: acked.length,
      failed: failed.length,
    },
    consume: {
      invocations: input.consumed.length,
      failedInvocations: input.consumed.filter((r) => r.failure).length,
      processed: input.processed.length,
      distinct: processed.size,
    },
    lost,
    duplicated,
    unprocessed,
    processedRepeats: input.processed.length - processed.size,
    failedButWritten: failed.filter((m) => input.inTopic.has(m.key)).length,
    pastDeadline,
    failures,
    unexplained,
    logs,
    ...(input.drainNote && { drainNote: input.drainNote }),
    problems,
    passed: problems.length === 0,
  };
}
