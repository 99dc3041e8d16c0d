import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeliveryWatch, PRODUCER_ID_STALL_MS } from '../../src/clients/delivery-watch.js';
import { ClientLogRecorder } from '../../src/observability/client-log.js';
import { Deadline } from '../../src/retry/deadline.js';

const PID_FAILURE =
  'Failed to acquire idempotence PID from broker sasl_ssl://127.0.0.1:22094/1: Broker: Coordinator load in progress: retrying';
const noMetadata = () => Promise.reject(new Error('no metadata in this test'));

/** librdkafka's PID retries: the same line now and every 500 ms, until the returned stop is called. */
function retryEvery500(recorder: ClientLogRecorder): () => void {
  const timer = setInterval(() => recorder.warn(PID_FAILURE, { fac: 'GETPID' }), 500);
  recorder.warn(PID_FAILURE, { fac: 'GETPID' });
  return () => clearInterval(timer);
}

/** Starts the watch's wait; the getter gives how it ended, undefined while it waits. */
function giveUp(watch: DeliveryWatch, deadlineMs: number): () => string | undefined {
  let outcome: string | undefined;
  watch.start(
    Deadline.in(deadlineMs),
    () => ['t'],
    (o) => {
      expect(outcome, 'gave up a second time').toBeUndefined();
      outcome = o;
    },
  );
  return () => outcome;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DeliveryWatch: a producer that cannot get a producer id', () => {
  it('gives up PRODUCER_ID_STALL_MS after the first failure of a run that began before the send, naming the cause', async () => {
    // Prepare: failing since the client was created, 1 s before the send (the function initialising)
    vi.useFakeTimers({ now: 1_000_000 });
    const recorder = new ClientLogRecorder('producer');
    const stop = retryEvery500(recorder);
    await vi.advanceTimersByTimeAsync(1000);
    const watch = new DeliveryWatch(recorder, noMetadata, {});

    // Act
    const outcome = giveUp(watch, 10_000);
    await vi.advanceTimersByTimeAsync(PRODUCER_ID_STALL_MS - 1000 - 200);
    const before = outcome();
    await vi.advanceTimersByTimeAsync(300);
    stop();

    // Assess: PRODUCER_ID_STALL_MS after the first failure, not after the send began
    expect(before).toBeUndefined();
    expect(outcome()).toBe('stalled');
    const cause = watch.cause('stalled');
    expect(cause?.unavailable).toBe(true);
    expect(cause?.classification.name).toBe('PRODUCER_ID_UNAVAILABLE');
    expect(cause?.classification.summary).toContain(
      'cannot get a producer id from broker sasl_ssl://127.0.0.1:22094/1',
    );
  });

  it('waits for a producer that had an id (a new epoch after a leader change takes a few seconds)', async () => {
    // Prepare
    vi.useFakeTimers({ now: 1_000_000 });
    const recorder = new ClientLogRecorder('producer');
    const stop = retryEvery500(recorder);
    const watch = new DeliveryWatch(recorder, noMetadata, { hasSent: true });

    // Act
    const outcome = giveUp(watch, 5_000);
    await vi.advanceTimersByTimeAsync(4_000);
    const before = outcome();
    await vi.advanceTimersByTimeAsync(1_100);
    stop();

    // Assess: still waiting after twice the stall time, then the deadline, with the cause named
    expect(before).toBeUndefined();
    expect(outcome()).toBe('deadline');
    expect(watch.cause('deadline')?.classification.name).toBe('PRODUCER_ID_UNAVAILABLE');
  });

  it('does not count a run that ended before a pause (a thawed environment) toward the stall', async () => {
    // Prepare: failures for 3 s, then 10 s of nothing (frozen), then failing again as the send starts
    vi.useFakeTimers({ now: 1_000_000 });
    const recorder = new ClientLogRecorder('producer');
    let stop = retryEvery500(recorder);
    await vi.advanceTimersByTimeAsync(3_000);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    stop = retryEvery500(recorder);
    const watch = new DeliveryWatch(recorder, noMetadata, {});

    // Act
    const outcome = giveUp(watch, 10_000);
    await vi.advanceTimersByTimeAsync(PRODUCER_ID_STALL_MS - 300);
    const before = outcome();
    await vi.advanceTimersByTimeAsync(400);
    stop();

    // Assess
    expect(before).toBeUndefined();
    expect(outcome()).toBe('stalled');
  });
});
