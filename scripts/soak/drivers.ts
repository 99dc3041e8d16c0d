/**
 * The two functions the soak keeps busy, each in its own emulated Lambda environment (frozen with
 * SIGSTOP between invocations, as Lambda freezes it): produce invoked back to back, consume on a
 * schedule. Every invocation is recorded with what it returned and the WARN and ERROR lines it logged.
 * An environment whose invocation timed out is gone (Lambda discards it): the next invocation gets a new one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvokeResult, LambdaEnvironment } from '../lambda/environment.js';
import type { Freezable } from './faults.js';

export type FunctionName = 'produce' | 'consume';

export interface LogEntry {
  level: 'WARN' | 'ERROR';
  message: string;
  /** The whole line, cut short. */
  line: string;
}

export interface InvocationRecord {
  fn: FunctionName;
  /** 0.. per function. */
  n: number;
  /** Which environment ran it: 0 is the first, a timeout or a crash starts the next. */
  environment: number;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  timeoutMs: number;
  timedOut: boolean;
  /** The invocation failed as a whole: error name and the message's first line. */
  failure?: string;
  value?: unknown;
  /** Produce: the keys it sent, in order. */
  keys?: string[];
  logs: LogEntry[];
}

const LINE_LIMIT = 400;

/** The WARN and ERROR lines among an invocation's output (Powertools' JSON lines). */
export function problemLines(output: readonly string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of output) {
    if (!line.startsWith('{"level":"WARN"') && !line.startsWith('{"level":"ERROR"')) continue;
    try {
      const parsed = JSON.parse(line) as { level: 'WARN' | 'ERROR'; message: string };
      entries.push({ level: parsed.level, message: String(parsed.message), line: line.slice(0, LINE_LIMIT) });
    } catch {
      entries.push({ level: 'WARN', message: line.slice(0, 200), line: line.slice(0, LINE_LIMIT) });
    }
  }
  return entries;
}

/** The keys the consume function logged as processed (its processor logs each at DEBUG as 'Message'). */
export function processedKeys(output: readonly string[]): string[] {
  const keys: string[] = [];
  for (const line of output) {
    if (!line.startsWith('{"level":"DEBUG"') || !line.includes('"message":"Message"')) continue;
    const parsed = JSON.parse(line) as { message: string; key?: unknown };
    if (parsed.message === 'Message') keys.push(String(parsed.key));
  }
  return keys;
}

export class FunctionDriver implements Freezable {
  readonly records: InvocationRecord[] = [];
  readonly environments: LambdaEnvironment[] = [];
  readonly #fn: FunctionName;
  readonly #start: () => Promise<LambdaEnvironment>;
  readonly #timeoutMs: number;
  #current: LambdaEnvironment | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #lastEndedAt = Date.now();
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  /** Resolved when the first invocation after a release has returned. */
  #thawed: (() => void) | undefined;
  #closed = false;

  constructor(fn: FunctionName, start: () => Promise<LambdaEnvironment>, timeoutMs: number) {
    this.#fn = fn;
    this.#start = start;
    this.#timeoutMs = timeoutMs;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  async hold(): Promise<number> {
    if (this.#held) throw new Error(`the ${this.#fn} function is already held`);
    this.#held = new Promise((resolve) => {
      this.#release = resolve;
    });
    await this.#running;
    return this.#lastEndedAt;
  }

  release(): Promise<void> {
    const thawed = new Promise<void>((resolve) => {
      this.#thawed = resolve;
    });
    this.#release?.();
    this.#held = undefined;
    this.#release = undefined;
    return thawed;
  }

  /** Shut down: no further invocation starts. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A freeze holds the function: check it just before invoking, with no await in between. */
  get held(): Promise<void> | undefined {
    return this.#held;
  }

  /** One invocation in the current environment (a new one if there is none), recorded. */
  invoke(event: unknown, extra: Partial<InvocationRecord> = {}): Promise<InvocationRecord> {
    const running = this.#invoke(event, extra);
    this.#running = running.catch(() => {});
    return running;
  }

  async #invoke(event: unknown, extra: Partial<InvocationRecord>): Promise<InvocationRecord> {
    if (this.#closed) throw new Error(`the ${this.#fn} function is shut down`);
    const startedAt = Date.now();
    let result: InvokeResult;
    try {
      if (!this.#current) {
        const started = await this.#start();
        if (this.#closed) {
          await started.shutdown();
          throw new Error(`the ${this.#fn} function is shut down`);
        }
        this.#current = started;
        this.environments.push(started);
      }
      result = await this.#current.invoke(event, this.#timeoutMs);
    } catch (error) {
      if (this.#closed) throw error;
      result = {
        ok: false,
        error: { name: 'EnvironmentExited', message: (error as Error).message },
        durationMs: Date.now() - startedAt,
        output: [],
      };
    }
    const environment = this.environments.length - 1;
    const endedAt = Date.now();
    this.#lastEndedAt = endedAt;
    const timedOut = result.error?.name === 'Sandbox.Timedout';
    // Lambda discards an environment whose invocation timed out (LambdaEnvironment has killed it).
    if (timedOut || result.error?.name === 'EnvironmentExited') this.#current = undefined;
    const record: InvocationRecord = {
      fn: this.#fn,
      n: this.records.length,
      environment,
      startedAt,
      endedAt,
      durationMs: result.durationMs,
      timeoutMs: this.#timeoutMs,
      timedOut,
      ...(!result.ok && { failure: `${result.error?.name}: ${result.error?.message.split('\n')[0]}` }),
      ...(result.ok && { value: result.value }),
      logs: problemLines(result.output),
      ...extra,
    };
    this.records.push(record);
    this.#thawed?.();
    this.#thawed = undefined;
    return record;
  }

  /** Every line any of its environments printed. */
  output(): string[] {
    return this.environments.flatMap((environment) => environment.output());
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.environments.map((environment) => environment.shutdown()));
  }
}

/** Produces `size` messages per invocation, keys `<prefix>-<n>-<i>`, back to back until `stop()`. */
export async function produceLoop(driver: FunctionDriver, prefix: string, size: number, stop: () => boolean) {
  while (!stop() && !driver.closed) {
    const held = driver.held;
    if (held) {
      await held;
      continue;
    }
    const n = driver.records.length;
    const keys = Array.from({ length: size }, (_, i) => `${prefix}-${n}-${i}`);
    // Rejects only once the driver is shut down, which ends the loop.
    await driver.invoke({ messages: keys.map((key) => ({ key, value: `value of ${key}` })) }, { keys }).catch(() => {});
  }
}

/** Invokes consume every `everyMs` (start to start) until `stop()`. */
export async function consumeLoop(driver: FunctionDriver, event: unknown, everyMs: number, stop: () => boolean) {
  while (!stop() && !driver.closed) {
    const held = driver.held;
    if (held) {
      await held;
      continue;
    }
    const startedAt = Date.now();
    await driver.invoke(event).catch(() => {});
    await sleep(Math.max(0, everyMs - (Date.now() - startedAt)));
  }
}
