/**
 * A circuit breaker kept for the life of an execution environment. After `threshold` consecutive
 * failed initialisations it fails fast for `cooldownMs` instead of spending every invocation's
 * time on a cluster that is down, then lets a single probe through: success closes it, failure
 * opens it for another cool-down.
 */
import { classifyKafkaError } from '../errors/classify.js';
import { CircuitOpenError } from '../errors/errors.js';

/**
 * `closed`: attempts go through; `open`: they fail fast until the cool-down ends; `half-open`: the
 * cool-down has ended and the next attempt is let through as a probe.
 * @inline
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker; 0 disables it. */
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

/**
 * The circuit breaker's state, as getHealthStatus() reports it.
 * @inline
 */
export interface BreakerSnapshot {
  /**
   * `closed` (attempts go through), `open` (they fail fast until the cool-down ends) or `half-open`
   * (the cool-down has ended: the next attempt goes through as a probe).
   */
  state: BreakerState;
  /** Failed initialisations since the last success. */
  consecutiveFailures: number;
  /** While open: when the next probe is let through (ms since epoch). */
  nextProbeAt?: number;
  /** The last failure's summary (Classification.summary). */
  lastFailure?: string;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;
  #lastFailure: string | undefined;

  constructor(options: BreakerOptions) {
    this.#threshold = options.threshold;
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  state(): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#now() - this.#openedAt >= this.#cooldownMs ? 'half-open' : 'open';
  }

  snapshot(): BreakerSnapshot {
    const state = this.state();
    return {
      state,
      consecutiveFailures: this.#failures,
      ...(this.#openedAt !== undefined && { nextProbeAt: this.#openedAt + this.#cooldownMs }),
      ...(this.#lastFailure !== undefined && { lastFailure: this.#lastFailure }),
    };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#threshold > 0) {
      const state = this.state();
      if (state === 'open' || (state === 'half-open' && this.#probing)) {
        const retryInMs = Math.max(0, (this.#openedAt as number) + this.#cooldownMs - this.#now());
        throw new CircuitOpenError(this.#failures, retryInMs, this.#lastFailure);
      }
      if (state === 'half-open') this.#probing = true;
    }
    try {
      const result = await fn();
      this.#failures = 0;
      this.#openedAt = undefined;
      this.#lastFailure = undefined;
      return result;
    } catch (error) {
      this.#failures++;
      this.#lastFailure = classifyKafkaError(error).summary;
      if (this.#threshold > 0 && (this.#failures >= this.#threshold || this.#openedAt !== undefined)) {
        this.#openedAt = this.#now();
      }
      throw error;
    } finally {
      this.#probing = false;
    }
  }
}
