/** Exponential backoff with jitter, the seed's KAFKA_CONSUMER_INIT_DELAY / _MAX_DELAY. */

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): initialDelay × 2^(retry−1), capped at
 * maxDelay, then drawn uniformly from its upper half ("equal jitter") so that functions failing
 * together spread out while no retry comes sooner than half the nominal delay.
 */
export function backoffDelay(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const nominal = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
