/** The time an invocation may still spend: Lambda's remaining time minus a safety margin. */

/** The part of the Lambda context this library uses (also easy to fake with a real clock in tests). */
export interface RemainingTime {
  /** Milliseconds left before Lambda ends the invocation. */
  getRemainingTimeInMillis(): number;
}

/**
 * A point in time work must have ended by, read as the milliseconds left. An Invocation's is
 * Lambda's remaining time less a margin; the library bounds its waits and retries by one.
 */
export class Deadline {
  readonly #remaining: () => number;

  private constructor(remaining: () => number) {
    this.#remaining = remaining;
  }

  /** `margin` ms before the Lambda would time out. */
  static fromContext(context: RemainingTime, marginMs: number): Deadline {
    return new Deadline(() => context.getRemainingTimeInMillis() - marginMs);
  }

  /** `ms` from now, for callers without a Lambda context (CLI, scripts). */
  static in(ms: number, now: () => number = Date.now): Deadline {
    const at = now() + ms;
    return new Deadline(() => at - now());
  }

  /** A deadline that never comes; for work that has none. */
  static never(): Deadline {
    return new Deadline(() => Number.POSITIVE_INFINITY);
  }

  /** Milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, this.#remaining());
  }

  /** Whether no time is left. */
  expired(): boolean {
    return this.#remaining() <= 0;
  }

  /** The earlier of this deadline and `ms` from now. */
  cappedAt(ms: number, now: () => number = Date.now): Deadline {
    const at = now() + ms;
    return new Deadline(() => Math.min(this.#remaining(), at - now()));
  }
}
