import { describe, expect, it } from 'vitest';
import { BRIEF_CALL_MS, NativeCalls } from '../../src/clients/native.js';

/** A native call whose callback the test gives when it likes. */
function pendingCall() {
  let finish: (err?: unknown) => void = () => {};
  const start = (_timeout: number, done: (err: unknown) => void) => {
    finish = (err) => done(err ?? null);
  };
  return { start, finish: (err?: unknown) => finish(err) };
}

describe('native calls an invocation waits for', () => {
  it('are running from start to callback: idle() is false and settled() waits for the callback', async () => {
    // Prepare
    const calls = new NativeCalls();
    const call = pendingCall();

    // Act
    const result = calls.run<void>('flushing the producer', 5_000, call.start);
    const busy = calls.idle();
    const early = await calls.settled(20);
    call.finish();
    await result;
    const after = await calls.settled(1_000);

    // Assess
    expect(busy).toBe(false);
    expect(early).toBe(false);
    expect(after).toBe(true);
    expect(calls.idle()).toBe(true);
  });

  it('leave out a brief call, whose promise still waits for its callback', async () => {
    // Prepare
    const calls = new NativeCalls();
    const call = pendingCall();
    let settled = false;

    // Act
    const result = calls.run<void>('sending the queued messages', 1, call.start, { brief: true });
    void result.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const before = settled;
    call.finish();
    await result;

    // Assess
    expect(calls.idle()).toBe(true);
    expect(calls.inFlight()).toEqual([]);
    expect(before).toBe(false);
    expect(settled).toBe(true);
  });

  it(`refuse a brief call longer than ${BRIEF_CALL_MS} ms, naming it`, () => {
    const calls = new NativeCalls();

    expect(() => calls.run('flushing the producer', 1_000, pendingCall().start, { brief: true })).toThrow(
      new RangeError(`flushing the producer: a brief native call may take at most ${BRIEF_CALL_MS} ms, not 1000`),
    );
    expect(calls.idle()).toBe(true);
  });
});
