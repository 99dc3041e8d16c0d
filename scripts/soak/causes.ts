/**
 * Which failures a fault explains: per fault kind, the causes the functions may report while it is
 * on (and for a grace after it ends, while clients reconnect, leaders move back and buffered sends
 * drain). Derived from soak runs, from what the library actually reported; a failure none of the
 * faults active at its time explains is "unexplained", and fails the soak.
 */
import type { FaultRun } from './faults.js';
import type { FaultKind } from './schedule.js';

/** After a fault ends, failures are still put down to it this long. */
export const GRACE_MS = 30_000;

/**
 * A commit refused with `name` (`code`): as the consume function reports it, naming the group and
 * the partitions, and as it did until 2026-12 (the binding's bare error), for runs saved before.
 */
export function commitRefused(name: string, code: number, message: string): RegExp[] {
  const text = literal(message);
  return [
    new RegExp(
      `^KafkaOperationError: Committing the offsets of group "[^"]+" \\(.+\\) failed: ${name} \\(${code}\\): ${text}$`,
    ),
    new RegExp(`^Error: ${text}$`),
  ];
}

/** `text` as a pattern that matches only itself (RegExp.escape() is Node 24's). */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A broker unavailable (killed, paused, or stopped in a rolling restart): the writes to the partitions
 * it led wait for a new leader (up to the brokers' session timeout, 9 s, after a kill or a pause) and
 * may reach the invocation's deadline; the consumer's group coordinator may be that broker.
 */
const BROKER_CAUSES: readonly RegExp[] = [
  // produce: a message whose leader went away, with or without what librdkafka saw of it.
  /^not acknowledged before the deadline: it may still be delivered \(retrying can duplicate it\)(?:$|; TRANSPORT \(-195\): connection refused)/,
  // produce: the same, with the TLS handshake to a broker going down or coming up cut short (30-minute soak).
  /^not acknowledged before the deadline: it may still be delivered \(retrying can duplicate it\); TRANSPORT \(-195\): \S+ (?:reset|closed) the connection during the TLS handshake/,
  // produce: the delivery report came within the invocation, failed: its leader's broker refused or timed out.
  /^not delivered in time: TRANSPORT \(-195\): connection refused/,
  /^MSG_TIMED_OUT \(-192\): Local: Message timed out\./,
  // consume: the group coordinator moving off the broker (librdkafka's WAIT_COORD, until the commit's time ran out).
  ...commitRefused('WAIT_COORD', -180, 'Local: Waiting for coordinator'),
  // consume: the group rebalanced (its coordinator moved) between the fetch and the commit.
  ...commitRefused('ILLEGAL_GENERATION', 22, 'Broker: Specified group generation id is not valid'),
  // consume: the commit sent to a coordinator that went away before it answered.
  /^AttemptTimeoutError: offset commit did not finish within \d+ ms$/,
  // consume: no heartbeat answered for a session while the coordinator's broker was down, so the group
  // evicted the member; its commit after that is refused (30-minute soak, a kill of the coordinator).
  ...commitRefused('UNKNOWN_MEMBER_ID', 25, 'Broker: Unknown member'),
];

/**
 * A broker's first InitProducerId after its start waits for a block of producer ids from the active
 * controller, and answers COORDINATOR_LOAD_IN_PROGRESS until it has one: the library fails the send
 * early, naming PRODUCER_ID_UNAVAILABLE (seen on the soak cluster's first produce). A restarted broker,
 * or a controller failover while the producer needs an id (an epoch bump after messages timed out), does the same.
 */
const PRODUCER_ID_CAUSE = /; PRODUCER_ID_UNAVAILABLE \(-192\): the producer cannot get a producer id from broker /;

export const ACCEPTED_CAUSES: Record<FaultKind, readonly RegExp[]> = {
  'broker-kill': [...BROKER_CAUSES, PRODUCER_ID_CAUSE],
  'broker-pause': BROKER_CAUSES,
  'rolling-restart': [...BROKER_CAUSES, PRODUCER_ID_CAUSE],
  'controller-failover': [PRODUCER_ID_CAUSE],
  // The consume function rejoins after a freeze past its session (at INFO), and a producer whose id the
  // brokers expired sends on (producer-id-expiry.test.ts, initializer-freeze.test.ts).
  // A member evicted in the freeze whose commit meets the new generation, or finds itself forgotten, or
  // (the third 30-minute soak) whose coordinator connection failed at the thaw and whose last commit ran
  // out of the invocation's time.
  'consumer-freeze': [
    ...commitRefused('ILLEGAL_GENERATION', 22, 'Broker: Specified group generation id is not valid'),
    ...commitRefused('UNKNOWN_MEMBER_ID', 25, 'Broker: Unknown member'),
    /^AttemptTimeoutError: offset commit did not finish within \d+ ms$/,
  ],
  'producer-freeze': [],
};

/** The faults whose window (start to end plus the grace) overlaps [from, to]. */
export function activeFaults(runs: readonly FaultRun[], from: number, to: number, graceMs = GRACE_MS): FaultRun[] {
  return runs.filter((run) => run.startedAt <= to && run.endedAt + graceMs >= from);
}

/**
 * The kind of the active fault that explains `cause`, or undefined. Faults on while the invocation
 * ran come before those in their grace, and among them the one that began last: its doing, most likely.
 */
export function explainedBy(
  cause: string,
  active: readonly FaultRun[],
  from: number,
  to: number,
): FaultKind | undefined {
  const on = (run: FaultRun) => run.startedAt <= to && run.endedAt >= from;
  const ranked = [...active].sort((a, b) => Number(on(b)) - Number(on(a)) || b.startedAt - a.startedAt);
  return ranked.find((run) => ACCEPTED_CAUSES[run.fault.kind].some((pattern) => pattern.test(cause)))?.fault.kind;
}

/** A cause with the numbers, offsets, keys and addresses that vary between occurrences taken out: one line per distinct cause. */
export function causeShape(text: string): string {
  return text
    .replace(/ \(after \d+ms in state \w+(, \d+ identical error\(s\) suppressed)?\)/g, '')
    .replace(/\b\d+(\.\d+){3}:\d+\b/g, '<host:port>')
    .replace(/\b[\w.-]*soak-[\w-]+/g, '<name>')
    .replace(/\d+(\.\d+)?/g, '#')
    .slice(0, 240);
}
