import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptTimeoutError, CircuitOpenError, RetryError } from '../../src/errors/errors.js';
import { backoffDelay } from '../../src/retry/backoff.js';
import { CircuitBreaker } from '../../src/retry/breaker.js';
import { Deadline } from '../../src/retry/deadline.js';
import { retryUntilDeadline } from '../../src/retry/retry.js';

/** A Lambda context whose remaining time runs on the (fake) clock. */
function lambdaContext(remainingMs: number) {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() };
}

const transportError = () => Object.assign(new Error('Local: Broker transport failure'), { code: -195 });
const authError = () => Object.assign(new Error('Broker: SASL authentication failed'), { code: 58 });

describe('backoffDelay', () => {
  const options = { initialDelayMs: 2000, maxDelayMs: 30000 };

  it('doubles from the initial delay and stops at the maximum', () => {
    const upper = [1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, options, () => 1));
    expect(upper).toEqual([2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('never goes below half the nominal delay (equal jitter)', () => {
    const lower = [1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, options, () => 0));
    expect(lower).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
  });
});

describe('retryUntilDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const base = { operation: 'consumer init', initialDelayMs: 2000, maxDelayMs: 30000, random: () => 1 };

  it('returns the first success and reports each attempt', async () => {
    // Prepare
    const attempts: number[] = [];
    let calls = 0;
    const fn = vi.fn(async () => {
      if (++calls < 3) throw transportError();
      return 'joined';
    });

    // Act
    const result = retryUntilDeadline(fn, {
      ...base,
      retries: 5,
      deadline: Deadline.fromContext(lambdaContext(60_000), 1000),
      onAttempt: (attempt) => attempts.push(attempt),
    });
    await vi.runAllTimersAsync();

    // Assess
    await expect(result).resolves.toBe('joined');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('with 0 retries makes exactly one attempt', async () => {
    const fn = vi.fn(async () => {
      throw transportError();
    });
    const result = retryUntilDeadline(fn, { ...base, retries: 0, deadline: Deadline.in(60_000) });
    const assertion = expect(result).rejects.toMatchObject({ attempts: 1, reason: 'retries-exhausted' });
    await vi.runAllTimersAsync();
    await assertion;
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('stops at once on a configuration error, without waiting', async () => {
    const fn = vi.fn(async () => {
      throw authError();
    });
    const started = Date.now();
    const result = retryUntilDeadline(fn, { ...base, retries: 5, deadline: Deadline.in(60_000) });
    const assertion = expect(result).rejects.toMatchObject({
      attempts: 1,
      reason: 'fatal',
      classification: { name: 'SASL_AUTHENTICATION_FAILED', kind: 'config' },
    });
    await vi.runAllTimersAsync();
    await assertion;
    expect(Date.now() - started).toBe(0);
  });

  it('gives each attempt a timeout no longer than the time left, and enforces it', async () => {
    // Prepare: an attempt that never settles on its own
    const timeouts: number[] = [];
    const fn = vi.fn(
      (context: { timeoutMs: number; signal: AbortSignal }) =>
        new Promise<never>(() => {
          timeouts.push(context.timeoutMs);
        }),
    );
    const deadline = Deadline.fromContext(lambdaContext(5000), 1000);
    const started = Date.now();

    // Act
    const result = retryUntilDeadline(fn, { ...base, retries: 5, deadline, attemptTimeoutMs: 60_000 });
    const assertion = expect(result).rejects.toBeInstanceOf(RetryError);
    await vi.runAllTimersAsync();
    const error = (await result.catch((e: unknown) => e)) as RetryError;
    await assertion;

    // Assess
    expect(timeouts).toEqual([3800]);
    expect(error.reason).toBe('deadline');
    expect(error.cause).toBeInstanceOf(AttemptTimeoutError);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('does not sleep when the backoff would leave no time for another attempt', async () => {
    // Prepare: attempts fail after 1 s; 4 s usable; the second backoff (4 s) cannot fit
    const fn = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      throw transportError();
    });
    const deadline = Deadline.fromContext(lambdaContext(5000), 1000);
    const started = Date.now();

    // Act
    const result = retryUntilDeadline(fn, { ...base, retries: 5, deadline });
    const assertion = expect(result).rejects.toMatchObject({ reason: 'deadline', attempts: 2 });
    await vi.runAllTimersAsync();
    await assertion;

    // Assess: attempt (1 s) + backoff (2 s) + attempt (1 s), then it stops instead of sleeping 4 s
    expect(Date.now() - started).toBe(4000);
  });

  it('counts time spent in failed attempts toward the deadline', async () => {
    const fn = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      throw transportError();
    });
    const deadline = Deadline.fromContext(lambdaContext(10_000), 1000);
    const result = retryUntilDeadline(fn, { ...base, retries: 10, deadline });
    const assertion = expect(result).rejects.toMatchObject({ reason: 'deadline' });
    await vi.runAllTimersAsync();
    await assertion;
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('does not start at all when the deadline has passed', async () => {
    const fn = vi.fn(async () => 'never');
    const result = retryUntilDeadline(fn, {
      ...base,
      retries: 3,
      deadline: Deadline.fromContext(lambdaContext(500), 1000),
    });
    await expect(result).rejects.toMatchObject({
      attempts: 0,
      reason: 'deadline',
      classification: { name: 'NO_TIME_LEFT' },
    });
    expect(fn).not.toHaveBeenCalled();
  });

  it('puts attempts, time, the last cause and its hint in the final error', async () => {
    const fn = vi.fn(async () => {
      throw Object.assign(new Error('Broker: Coordinator not available'), { code: 15 });
    });
    const result = retryUntilDeadline(fn, { ...base, retries: 2, deadline: Deadline.in(120_000) });
    const caught = result.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = (await caught) as RetryError;
    expect(error.message).toMatch(
      /^consumer init failed: COORDINATOR_NOT_AVAILABLE \(15\).*offsets\.topic\.replication\.factor.*\n\(3 attempts in 6000 ms; no retries left\)$/,
    );
    expect(error.message.split('\n')).toHaveLength(2);
    expect(error.attempts).toBe(3);
    expect(error.elapsedMs).toBe(6000);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, fails fast during the cool-down, then lets one probe through', async () => {
    // Prepare
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 30_000, now: () => now });
    const failing = () => Promise.reject(transportError());

    // Act / Assess
    await expect(breaker.run(failing)).rejects.toMatchObject({ code: -195 });
    expect(breaker.state()).toBe('closed');
    await expect(breaker.run(failing)).rejects.toMatchObject({ code: -195 });
    expect(breaker.state()).toBe('open');

    const skipped = vi.fn(async () => 'x');
    now = 10_000;
    await expect(breaker.run(skipped)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(skipped).not.toHaveBeenCalled();

    now = 30_000;
    expect(breaker.state()).toBe('half-open');
    let release: (value: string) => void = () => {};
    const probe = breaker.run(() => new Promise<string>((resolve) => (release = resolve)));
    await expect(breaker.run(skipped)).rejects.toBeInstanceOf(CircuitOpenError);
    release('ok');
    await expect(probe).resolves.toBe('ok');
    expect(breaker.snapshot()).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  it('re-opens for a full cool-down when the probe fails', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 1000, now: () => now });
    await breaker.run(() => Promise.reject(transportError())).catch(() => {});
    now = 1000;
    await breaker.run(() => Promise.reject(transportError())).catch(() => {});
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 2, nextProbeAt: 2000 });
  });

  it('with threshold 0 never opens', async () => {
    const breaker = new CircuitBreaker({ threshold: 0, cooldownMs: 1000 });
    for (let i = 0; i < 5; i++) await breaker.run(() => Promise.reject(transportError())).catch(() => {});
    expect(breaker.state()).toBe('closed');
    await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
  });
});
