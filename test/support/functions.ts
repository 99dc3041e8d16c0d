/**
 * The packaged functions under RIE + RIC against a local cluster, as the resilience tests drive them:
 * produce invocations back to back with unique keys, consume invocations on a schedule, and what
 * each reported — per key: acknowledged (with where), failed (with whether it is retriable), or lost
 * in an invocation that failed as a whole.
 */
import type { RieEnvironment, RieInvokeResult } from '../../scripts/lambda/rie.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { DirectResult } from '../../src/produce/produce.js';
import { logLines } from './lambda.js';

export interface Produced {
  key: string;
  ok: boolean;
  retriable: boolean;
  error?: string;
  partition?: number;
  offset?: string;
}

export interface Invocation {
  startedAt: number;
  durationMs: number;
  timedOut: boolean;
  /** The invocation itself failed (initialisation): errorType and first line. */
  failure?: string;
}

export interface ProduceRun {
  invocations: Invocation[];
  messages: Produced[];
}

/** A whole invocation that failed says on its second line whether retrying can fix it. */
const NOT_RETRIABLE = /stopped at once: retrying cannot fix this/;

export function recordProduce(
  keys: string[],
  result: RieInvokeResult<DirectResult>,
  run: ProduceRun,
  startedAt: number,
) {
  run.invocations.push({
    startedAt,
    durationMs: result.durationMs,
    timedOut: result.timedOut,
    ...(!result.ok && {
      failure: `${result.error?.errorType}: ${result.error?.errorMessage.split('\n')[0] ?? result.timedOut}`,
    }),
  });
  if (!result.ok || !result.value) {
    const retriable = !result.timedOut && !NOT_RETRIABLE.test(result.error?.errorMessage ?? '');
    for (const key of keys) run.messages.push({ key, ok: false, retriable, error: result.error?.errorMessage });
    return;
  }
  for (const [i, key] of keys.entries()) {
    const r = result.value.results[i];
    if (r?.ok) run.messages.push({ key, ok: true, retriable: false, partition: r.partition, offset: r.offset });
    else
      run.messages.push({
        key,
        ok: false,
        retriable: r !== undefined && 'retriable' in r && r.retriable,
        error: r?.error,
      });
  }
}

/** Produces `size` messages per invocation with unique keys, back to back, until `stop()` says so. */
export async function produceUntil(
  lambda: RieEnvironment,
  prefix: string,
  size: number,
  stop: () => boolean,
): Promise<ProduceRun> {
  const run: ProduceRun = { invocations: [], messages: [] };
  for (let n = 0; !stop(); n++) {
    const keys = Array.from({ length: size }, (_, i) => `${prefix}-${n}-${i}`);
    const startedAt = Date.now();
    const result = await lambda.invoke<DirectResult>({
      messages: keys.map((key) => ({ key, value: `value of ${key}` })),
    });
    recordProduce(keys, result, run, startedAt);
  }
  return run;
}

export interface ConsumeRun {
  invocations: (Invocation & { result?: DrainResult })[];
  /**
   * The keys the consume function logged as processed (its default processor logs each at DEBUG)
   * within each invocation's output, with repeats. Not all of them: see processedKeys.
   */
  keys: string[];
}

/**
 * Every key the function in `lambda` logged as processed so far, with repeats, from its whole output:
 * an invocation's own output ends at RIE's REPORT line, and a drain that timed out logs on behind it.
 */
export function processedKeys(lambda: RieEnvironment): string[] {
  return logLines(lambda.output()).flatMap((line) => (line.message === 'Message' ? [String(line.key)] : []));
}

/** Invokes the consume function every `everyMs` until `stop()`; then, if asked, until it reports nothing left. */
export async function consumeEvery(
  lambda: RieEnvironment,
  everyMs: number,
  stop: () => boolean,
  event: { maxMessages: number; idleMs: number },
): Promise<ConsumeRun> {
  const run: ConsumeRun = { invocations: [], keys: [] };
  while (!stop()) {
    const startedAt = Date.now();
    await consumeOnce(lambda, run, event);
    const wait = everyMs - (Date.now() - startedAt);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return run;
}

export async function consumeOnce(
  lambda: RieEnvironment,
  run: ConsumeRun,
  event: { maxMessages: number; idleMs: number },
): Promise<RieInvokeResult<DrainResult>> {
  const startedAt = Date.now();
  const result = await lambda.invoke<DrainResult>(event);
  run.invocations.push({
    startedAt,
    durationMs: result.durationMs,
    timedOut: result.timedOut,
    ...(result.ok && result.value ? { result: result.value } : {}),
    ...(!result.ok && { failure: `${result.error?.errorType}: ${result.error?.errorMessage.split('\n')[0]}` }),
  });
  for (const line of logLines(result.output)) if (line.message === 'Message') run.keys.push(String(line.key));
  return result;
}

/** How many times each key appears. */
export function countKeys(keys: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
