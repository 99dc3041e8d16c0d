/** The soak's cause table: which failures the faults active at the time explain, and which are left unexplained. */
import { describe, expect, it } from 'vitest';
import { activeFaults, causeShape, commitRefused, explainedBy, GRACE_MS } from '../../scripts/soak/causes.js';
import type { FaultRun } from '../../scripts/soak/faults.js';
import type { FaultKind } from '../../scripts/soak/schedule.js';

const T0 = 1_000_000;

function run(id: number, kind: FaultKind, from: number, to: number): FaultRun {
  const lane = kind.endsWith('freeze')
    ? kind.replace('-freeze', '')
    : kind === 'controller-failover'
      ? 'controller'
      : 'broker';
  return {
    fault: { id, kind, lane: lane as FaultRun['fault']['lane'], atMs: from, gapMs: 0, holdMs: 0, estimatedMs: 0 },
    targets: [],
    startedAt: T0 + from,
    endedAt: T0 + to,
    downMs: 0,
    notes: [],
  };
}

const DEADLINE = 'not acknowledged before the deadline: it may still be delivered (retrying can duplicate it)';
const REFUSED = `${DEADLINE}; TRANSPORT (-195): connection refused by ipv4#127.0.0.1:24094: nothing listens there (broker down, or wrong port).`;
const PRODUCER_ID =
  'not acknowledged: it stays queued in the producer and may still be delivered (retrying can duplicate it); PRODUCER_ID_UNAVAILABLE (-192): the producer cannot get a producer id from broker sasl_ssl://127.0.0.1:24094/1: Broker: Coordinator load in progress.';

describe('the soak cause table', () => {
  it('puts a failure down to a fault on at the time, or ending less than the grace before', () => {
    const kill = run(1, 'broker-kill', 0, 20_000);
    expect(activeFaults([kill], T0 + 10_000, T0 + 12_000)).toEqual([kill]);
    expect(activeFaults([kill], T0 + 20_000 + GRACE_MS - 1, T0 + 20_000 + GRACE_MS + 5000)).toEqual([kill]);
    expect(activeFaults([kill], T0 + 20_000 + GRACE_MS + 1, T0 + 20_000 + GRACE_MS + 5000)).toEqual([]);
    expect(activeFaults([kill], T0 - 5000, T0 - 1)).toEqual([]);
  });

  it('explains a message stuck on a lost leader by a broker fault, and by nothing else', () => {
    const at = [T0 + 5000, T0 + 14_000] as const;
    for (const kind of ['broker-kill', 'broker-pause', 'rolling-restart'] as const) {
      expect(explainedBy(DEADLINE, [run(1, kind, 0, 20_000)], ...at)).toBe(kind);
      expect(explainedBy(REFUSED, [run(1, kind, 0, 20_000)], ...at)).toBe(kind);
    }
    for (const kind of ['controller-failover', 'consumer-freeze', 'producer-freeze'] as const)
      expect(explainedBy(DEADLINE, [run(1, kind, 0, 20_000)], ...at)).toBeUndefined();
    expect(explainedBy(DEADLINE, [], ...at)).toBeUndefined();
  });

  it('explains the other ways a lost leader or coordinator showed in the 30-minute soak by broker faults only', () => {
    const at = [T0 + 5000, T0 + 14_000] as const;
    const causes = [
      `${DEADLINE}; TRANSPORT (-195): 127.0.0.1:29294 reset the connection during the TLS handshake (a broker shutting down or starting does this).`,
      'not delivered in time: TRANSPORT (-195): connection refused by ipv4#127.0.0.1:29314: nothing listens there (broker down, or wrong port).',
      'MSG_TIMED_OUT (-192): Local: Message timed out. A message was not acknowledged before its delivery timeout.',
      'KafkaOperationError: Committing the offsets of group "soak-consume" (soak-a1b2[0] at 10) failed: WAIT_COORD (-180): Local: Waiting for coordinator',
      'KafkaOperationError: Committing the offsets of group "soak-consume" (soak-a1b2[0] at 4120, soak-a1b2[2] at 3977) failed: ILLEGAL_GENERATION (22): Broker: Specified group generation id is not valid',
      // As a run saved before the commit's error named its group and partitions reported it.
      'Error: Broker: Specified group generation id is not valid',
    ];
    for (const cause of causes) {
      expect(explainedBy(cause, [run(1, 'broker-kill', 0, 20_000)], ...at)).toBe('broker-kill');
      expect(explainedBy(cause, [run(1, 'controller-failover', 0, 20_000)], ...at)).toBeUndefined();
    }
    for (const cause of causes.slice(4))
      expect(explainedBy(cause, [run(1, 'consumer-freeze', 0, 20_000)], ...at)).toBe('consumer-freeze');
  });

  it("matches a refused commit's message as written, its dots and brackets included", () => {
    const [named, bare] = commitRefused('SOME_ERROR', 99, 'Broker: a.b (c) [d]?') as [RegExp, RegExp];
    expect(bare.test('Error: Broker: a.b (c) [d]?')).toBe(true);
    expect(bare.test('Error: Broker: aXb (c) [d]?')).toBe(false);
    expect(
      named.test(
        'KafkaOperationError: Committing the offsets of group "g" (t[0] at 1) failed: SOME_ERROR (99): Broker: a.b (c) [d]?',
      ),
    ).toBe(true);
  });

  it('explains a consumer the group forgot (Unknown member) by a broker fault or a freeze of the consumer', () => {
    // The second 30-minute soak: a consumer thawed after 57 s, then its coordinator's broker was killed.
    const at = [T0 + 5000, T0 + 14_000] as const;
    for (const cause of [
      'KafkaOperationError: Committing the offsets of group "soak-consume" (soak-a1b2[1] at 88) failed: UNKNOWN_MEMBER_ID (25): Broker: Unknown member',
      'Error: Broker: Unknown member',
    ]) {
      for (const kind of ['broker-kill', 'broker-pause', 'rolling-restart', 'consumer-freeze'] as const)
        expect(explainedBy(cause, [run(1, kind, 0, 20_000)], ...at)).toBe(kind);
      for (const kind of ['controller-failover', 'producer-freeze'] as const)
        expect(explainedBy(cause, [run(1, kind, 0, 20_000)], ...at)).toBeUndefined();
    }
  });

  it('explains a commit that ran out of time after a thaw by a freeze of the consumer', () => {
    // The third 30-minute soak: thawed after 45 s, the coordinator connection failed, the last commit had 900 ms.
    const at = [T0 + 5000, T0 + 14_000] as const;
    const cause = 'AttemptTimeoutError: offset commit did not finish within 900 ms';
    expect(explainedBy(cause, [run(1, 'consumer-freeze', 0, 20_000)], ...at)).toBe('consumer-freeze');
    expect(explainedBy(cause, [run(1, 'producer-freeze', 0, 20_000)], ...at)).toBeUndefined();
  });

  it('explains PRODUCER_ID_UNAVAILABLE by a restart or a controller failover, not by a pause', () => {
    const at = [T0 + 5000, T0 + 6000] as const;
    expect(explainedBy(PRODUCER_ID, [run(1, 'controller-failover', 0, 20_000)], ...at)).toBe('controller-failover');
    expect(explainedBy(PRODUCER_ID, [run(1, 'rolling-restart', 0, 20_000)], ...at)).toBe('rolling-restart');
    expect(explainedBy(PRODUCER_ID, [run(1, 'broker-pause', 0, 20_000)], ...at)).toBeUndefined();
  });

  it('leaves a cause no fault produces unexplained, whatever is active', () => {
    const all = [run(1, 'broker-kill', 0, 60_000), run(2, 'controller-failover', 0, 60_000)];
    const at = [T0 + 5000, T0 + 6000] as const;
    expect(explainedBy('NOT_ENOUGH_REPLICAS (19): fewer in-sync replicas than min.insync.replicas 2', all, ...at)).toBe(
      undefined,
    );
    expect(explainedBy('SASL authentication failed: Invalid username or password', all, ...at)).toBeUndefined();
  });

  it('names the fault on at the time before one in its grace, and the latest of those on', () => {
    const pause = run(1, 'broker-pause', 0, 5000);
    const kill = run(2, 'broker-kill', 19_000, 40_000);
    const rolling = run(3, 'rolling-restart', 10_000, 60_000);
    expect(explainedBy(REFUSED, [pause, kill], T0 + 20_000, T0 + 29_000)).toBe('broker-kill');
    expect(explainedBy(REFUSED, [pause, rolling, kill], T0 + 20_000, T0 + 29_000)).toBe('broker-kill');
  });

  it('reads one shape for causes that differ only in numbers, addresses and names', () => {
    expect(
      causeShape('sasl_ssl://127.0.0.1:24094/1: Connect to ipv4#127.0.0.1:24094 failed (after 0ms in state CONNECT)'),
    ).toBe(
      causeShape(
        'sasl_ssl://127.0.0.1:24104/2: Connect to ipv4#127.0.0.1:24104 failed (after 3ms in state CONNECT, 1 identical error(s) suppressed)',
      ),
    );
    expect(causeShape('Partition soak-72(x)[2]: new leader2')).toBe(causeShape('Partition soak-9(x)[0]: new leader3'));
  });
});
