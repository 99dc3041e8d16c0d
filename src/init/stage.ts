/**
 * One initialisation stage: a memoised promise. It runs on first need, concurrent callers share
 * that one run, a success is kept for the execution environment, and a failure is not kept
 * (the next call runs it again).
 */
import type { InitStage } from '../observability/metrics.js';

/**
 * `pending`: not run yet, or evicted to run again; `running`; `ready`: done, its result kept;
 * `failed`: the last run failed (the next need runs it again); `skipped`: nothing to do.
 * @inline
 */
export type StageState = 'pending' | 'running' | 'ready' | 'failed' | 'skipped';

/**
 * One initialisation stage's state, and its last run.
 * @inline
 */
export interface StageStatus {
  /**
   * `pending` (not run yet, or dropped to run again), `running`, `ready` (done, its result kept),
   * `failed` (the next need runs it again) or `skipped` (it had nothing to do).
   */
  state: StageState;
  /** How many times it has run in this environment. */
  runs: number;
  /** Duration of the last run, ms. */
  durationMs?: number;
  /** One line: why the last run failed, or why the stage was skipped. */
  detail?: string;
}

export interface StageRun<T> {
  value: T;
  /** Set when the stage decided it had nothing to do (e.g. health check disabled): the reason. */
  skipped?: string;
}

export class Stage<T> {
  readonly name: InitStage;
  #promise: Promise<T> | undefined;
  #value: T | undefined;
  #status: StageStatus = { state: 'pending', runs: 0 };
  readonly #onDuration: (stage: InitStage, ms: number) => void;

  constructor(name: InitStage, onDuration: (stage: InitStage, ms: number) => void) {
    this.name = name;
    this.#onDuration = onDuration;
  }

  /** The stage's value, running `run` only if no run succeeded or is under way. */
  get(run: () => Promise<StageRun<T>>): Promise<T> {
    if (this.#promise) return this.#promise;
    const started = Date.now();
    this.#status = { state: 'running', runs: this.#status.runs + 1 };
    const promise = run().then(
      (result) => {
        const durationMs = Date.now() - started;
        this.#value = result.value;
        this.#status = {
          state: result.skipped ? 'skipped' : 'ready',
          runs: this.#status.runs,
          durationMs,
          ...(result.skipped && { detail: result.skipped }),
        };
        if (!result.skipped) this.#onDuration(this.name, durationMs);
        return result.value;
      },
      (error: unknown) => {
        // Evict only this run: a newer run may have started after an explicit evict().
        if (this.#promise === promise) this.#promise = undefined;
        this.#status = {
          state: 'failed',
          runs: this.#status.runs,
          durationMs: Date.now() - started,
          detail: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
        };
        throw error;
      },
    );
    this.#promise = promise;
    return promise;
  }

  /** The value of a finished, successful run, without starting one. */
  current(): T | undefined {
    return this.#status.state === 'ready' || this.#status.state === 'skipped' ? this.#value : undefined;
  }

  isSettledOk(): boolean {
    return this.#status.state === 'ready' || this.#status.state === 'skipped';
  }

  /** Forgets the value; the caller disposes whatever it held. The next get() runs again. */
  evict(reason: string): T | undefined {
    const value = this.#value;
    this.#promise = undefined;
    this.#value = undefined;
    if (this.#status.state !== 'pending') this.#status = { ...this.#status, state: 'pending', detail: reason };
    return value;
  }

  status(): StageStatus {
    return { ...this.#status };
  }
}
