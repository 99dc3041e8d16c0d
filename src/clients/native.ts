/**
 * The binding's blocking calls (metadata, connect, committed offsets, watermarks, flush, admin
 * requests, consume) each occupy one of libuv's four pool threads until librdkafka returns. The
 * Lambda runtime client needs one of those threads to fetch the next invocation, so a call left
 * running after its invocation answered can make the next one time out. Hence the rule this module
 * enforces: every native call gets a timeout no longer than its caller can wait, nobody abandons one
 * (a caller that stops waiting early still holds the promise until the callback), and an invocation
 * answers only once no call it started is still running (`settled`). The one exception is a call of
 * a millisecond or two (`brief`): it gives its thread back by itself before the runtime client can
 * want it, and frozen midway it returns at the thaw, its timeout long past.
 */
import { AttemptTimeoutError } from '../errors/errors.js';
import type { Log } from '../observability/log.js';

interface InFlight {
  what: string;
  started: number;
  timeoutMs: number;
  done: Promise<void>;
}

/** How long past its own timeout a call may run before it is reported as not honouring it. */
const OVERRUN_REPORT_MS = 2000;
/** The longest timeout of a call an invocation need not wait for (`run`'s `brief`). */
export const BRIEF_CALL_MS = 2;

export class NativeCalls {
  readonly #inFlight = new Set<InFlight>();
  readonly #log: Log | undefined;

  constructor(log?: Log) {
    this.#log = log;
  }

  /**
   * Runs `start` with `timeoutMs` (which the binding passes to librdkafka) and resolves or rejects
   * with its callback. The returned promise always waits for the callback: a call cannot be abandoned.
   * A `brief` call (a timeout of at most BRIEF_CALL_MS) is not one an invocation waits for: idle() and
   * settled() leave it out.
   */
  run<T>(
    what: string,
    timeoutMs: number,
    start: (timeoutMs: number, done: (err: unknown, value?: T) => void) => void,
    { brief = false }: { brief?: boolean } = {},
  ) {
    const timeout = Math.max(1, Math.floor(timeoutMs));
    if (brief && timeout > BRIEF_CALL_MS) {
      throw new RangeError(`${what}: a brief native call may take at most ${BRIEF_CALL_MS} ms, not ${timeout}`);
    }
    const call: InFlight = { what, started: Date.now(), timeoutMs: timeout, done: Promise.resolve() };
    let overrun: NodeJS.Timeout | undefined;
    const promise = new Promise<T>((resolve, reject) => {
      overrun = setTimeout(() => {
        this.#log?.warn(`${what} is still running ${timeout + OVERRUN_REPORT_MS} ms after its ${timeout} ms timeout`);
      }, timeout + OVERRUN_REPORT_MS);
      overrun.unref();
      try {
        start(timeout, (err, value) => (err ? reject(err) : resolve(value as T)));
      } catch (error) {
        reject(error);
      }
    });
    call.done = promise.then(
      () => {},
      () => {},
    );
    if (brief) {
      void call.done.finally(() => clearTimeout(overrun));
      return promise;
    }
    this.#inFlight.add(call);
    void call.done.finally(() => {
      clearTimeout(overrun);
      this.#inFlight.delete(call);
    });
    return promise;
  }

  /** The calls still running, oldest first. */
  inFlight(): { what: string; elapsedMs: number; timeoutMs: number }[] {
    const now = Date.now();
    return [...this.#inFlight].map((c) => ({ what: c.what, elapsedMs: now - c.started, timeoutMs: c.timeoutMs }));
  }

  /** True when no call is running. */
  idle(): boolean {
    return this.#inFlight.size === 0;
  }

  /** Resolves true once no call is running, or false if some still are after `withinMs`. */
  async settled(withinMs: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, withinMs));
    });
    try {
      for (;;) {
        if (this.#inFlight.size === 0) return true;
        const outcome = await Promise.race([Promise.all([...this.#inFlight].map((c) => c.done)), expired]);
        if (outcome === false) return this.#inFlight.size === 0;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A deadline-bounded wait for `promise` that keeps the promise alive: for waits on something that is not a native call. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {});
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AttemptTimeoutError(what, Math.round(timeoutMs))), Math.max(0, timeoutMs));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
