/**
 * The logger handed to the binding (its `kafkaJS.logger`): librdkafka's own log lines and the
 * binding's errors reach the application's logger here, and the recent ones are kept so that a
 * generic failure ("broker transport failure") can be explained by what librdkafka saw
 * ("SASL authentication error: invalid credentials").
 */

import { type ClientLogLine, causeFromLogs } from '../errors/classify.js';
import { ConnectionStatistics } from './connection-stats.js';
import { type Log, silentLog } from './log.js';

const DEFAULT_CAPACITY = 200;
/**
 * A line identical to the one before it is forwarded at most this often: while every broker is
 * down the binding repeats "all broker connections are down" on every connection attempt (tens a
 * second), which would fill the log and push the lines that explain it out of the kept ones.
 */
const REPEAT_LOG_INTERVAL_MS = 1000;
/** A line seen again after this long is a new occurrence, not a repeat of one that continues. */
const REPEAT_PAUSE_MS = 5000;

/**
 * librdkafka's lines that each report a failed (or unexpectedly closed) broker connection, at once;
 * identical repeats of a broker within 30 s are folded into its next such line ("N identical error(s)
 * suppressed"), which the statistics make exact a second later (see ClientLogRecorder).
 */
const CONNECTION_FAILURE =
  /Connect to \S+ failed|SSL handshake failed|SASL authentication error|Failed to resolve|Receive failed|Send failed|Connection setup timed out|Disconnected (?:while|\(after)|Connection closed|alert (bad|unknown|handshake)/;
const SUPPRESSED = /(\d+) identical error\(s\) suppressed/;
/**
 * librdkafka's warnings of a wait it retries on its own and that is normal for a moment: a broker
 * asks the controllers for a block of producer ids at its first InitProducerId after a start, and
 * answers COORDINATOR_LOAD_IN_PROGRESS once, until it has one. The first is forwarded at INFO; the
 * same line again (500 ms later: the controllers do not answer) is a WARN, and the send it holds up
 * reports it (DeliveryWatch: PRODUCER_ID_UNAVAILABLE).
 */
const RETRIED_ON_ITS_OWN =
  /Failed to acquire (?:idempotence|transactional) PID from broker .*Coordinator load in progress: retrying/;

/**
 * A broker refusing an AWS_MSK_IAM token as expired, and what the binding reports right after it
 * (within EXPIRED_FOLLOW_UP_MS) for the same attempt.
 */
const EXPIRED_TOKEN = /SASL authentication error: \{"status":"expired_token/;
const EXPIRED_FOLLOW_UP = /^(?:Error: )?(?:authentication failure|all broker connections are down)$/i;
/** librdkafka's consumer noticing, at the thaw, that its group session ran out while the process was frozen. */
const SESSION_TIMED_OUT = /Consumer group session timed out .*without a successful response from the group coordinator/;
const EXPIRED_FOLLOW_UP_MS = 2000;

/** How many connection failures one librdkafka line reports: 0, 1, or 1 plus the repeats it folded in. */
export function connectionFailures(message: string): number {
  if (!CONNECTION_FAILURE.test(message)) return 0;
  return 1 + Number(SUPPRESSED.exec(message)?.[1] ?? 0);
}

export interface RecorderOptions {
  capacity?: number;
  /** Called with the number of broker connections that failed, from the client's statistics (clients/stats.ts). */
  onConnectionFailure?: (count: number) => void;
  /**
   * Whether the AWS_MSK_IAM token expired unrenewed (a freeze) just now (MskIamTokens.lapsed): the
   * broker's refusal of it is then expected, logged at INFO and not counted as a connection failure.
   */
  tokenLapsed?: () => boolean;
  /**
   * Whether the process was frozen longer than the consumer's session timeout just now (between
   * invocations, or in the first seconds after such a pause): librdkafka's own session timer fires
   * at the thaw, before the invocation's thaw check rejoins the group. That line is then expected,
   * logged at INFO.
   */
  sessionLapsed?: () => boolean;
}

/** What the binding passes along with a message: librdkafka's facility, the client name, a timestamp. */
type Extra = object & { fac?: string };

/** Implements the binding's KafkaJS `Logger` interface. */
export class ClientLogRecorder {
  readonly #lines: ClientLogLine[] = [];
  readonly #log: () => Log;
  readonly #client: string;
  readonly #options: RecorderOptions;
  #muted = false;
  #logged = 0;
  #fromStatistics = 0;
  #reported = 0;
  /** When a line was last forwarded, and how many identical repeats were held back since. */
  #forwardedAt = 0;
  #heldBack = 0;
  /** Failures that were a lapsed token's expected refusal (not counted), and until when its follow-up lines come. */
  #expected = 0;
  #expectedUntil = 0;

  /** `log` may be a function: the log to use at the moment a line arrives (see ClientRecorders). */
  constructor(client: string, log: Log | (() => Log) = silentLog, options: RecorderOptions = {}) {
    this.#client = client;
    this.#log = typeof log === 'function' ? log : () => log;
    this.#options = options;
  }

  #record(level: keyof Log, message: string, extra?: Extra): void {
    const now = Date.now();
    const previous = this.#lines.at(-1);
    const repeat =
      previous !== undefined &&
      previous.message === message &&
      previous.facility === extra?.fac &&
      now - previous.timestamp < REPEAT_PAUSE_MS;
    // A repeat is kept as one line, first seen then and last seen now, so that it cannot crowd out the others.
    const line: ClientLogLine = repeat ? previous : { message, timestamp: now };
    if (repeat) {
      line.firstSeen ??= line.timestamp;
      line.timestamp = now;
    } else {
      if (extra?.fac) line.facility = extra.fac;
      this.#lines.push(line);
      if (this.#lines.length > (this.#options.capacity ?? DEFAULT_CAPACITY)) this.#lines.shift();
    }
    if (this.#muted) return;
    const expected = this.#expectedAfterLapse(level, message, now);
    // The binding repeats librdkafka's failures as error events (facility ERROR): counted once, from the log line.
    if (extra?.fac !== 'ERROR') {
      const failures = connectionFailures(message);
      if (expected) this.#expected += failures;
      this.#countFailures(this.#logged + failures, this.#fromStatistics);
    }
    if (!repeat) this.#heldBack = 0;
    else if (now - this.#forwardedAt < REPEAT_LOG_INTERVAL_MS) {
      this.#heldBack++;
      return;
    }
    let forwarded = this.#heldBack > 0 ? `${message} (and ${this.#heldBack} identical line(s) before it)` : message;
    if (expected && EXPIRED_TOKEN.test(message)) {
      forwarded +=
        ' (expected after a freeze: the token expired while the process was frozen and librdkafka reconnected with it before a new one was signed; the next attempt carries the new token)';
    } else if (expected && SESSION_TIMED_OUT.test(message)) {
      forwarded +=
        ' (expected after a freeze: the process was frozen longer than the consumer session timeout, so the group evicted this member; librdkafka noticed at the thaw, and the consumer rejoins)';
    }
    this.#heldBack = 0;
    this.#forwardedAt = now;
    // ERROR is for what needs a person: a broker that is down or restarting is WARN (the metric and
    // its alarm count those); credentials, certificates, permissions stay ERROR.
    const cause = level === 'error' ? causeFromLogs([line]) : undefined;
    const logged = expected
      ? 'info'
      : level === 'error' && (!cause || cause.kind === 'transient')
        ? 'warn'
        : level === 'warn' && !repeat && RETRIED_ON_ITS_OWN.test(message)
          ? 'info'
          : level;
    this.#log()[logged](forwarded, { client: this.#client, ...(extra?.fac && { facility: extra.fac }) });
  }

  /**
   * Whether this line is a lapsed token's refusal (see RecorderOptions.tokenLapsed), or the binding's
   * report of it, or a group session that ran out in a freeze (RecorderOptions.sessionLapsed).
   */
  #expectedAfterLapse(level: keyof Log, message: string, now: number): boolean {
    if (level !== 'error' && level !== 'warn') return false;
    if (SESSION_TIMED_OUT.test(message)) return this.#options.sessionLapsed?.() ?? false;
    if (EXPIRED_TOKEN.test(message) && this.#options.tokenLapsed?.()) {
      this.#expectedUntil = now + EXPIRED_FOLLOW_UP_MS;
      return true;
    }
    return now < this.#expectedUntil && EXPIRED_FOLLOW_UP.test(message);
  }

  /**
   * Stops forwarding (lines are still kept): for a client that was abandoned while connecting,
   * whose retries until its own timeout are nobody's concern and must not flood the log or the metrics.
   */
  mute(): void {
    this.#muted = true;
  }

  debug(message: string, extra?: Extra): void {
    this.#record('debug', message, extra);
  }
  info(message: string, extra?: Extra): void {
    this.#record('info', message, extra);
  }
  warn(message: string, extra?: Extra): void {
    this.#record('warn', message, extra);
  }
  error(message: string, extra?: Extra): void {
    this.#record('error', message, extra);
  }
  /**
   * Records a client of the binding's RdKafka API (the KafkaJS-style clients take the recorder as
   * their `kafkaJS.logger` instead): librdkafka's log lines, at their severity.
   */
  follow(client: {
    on(event: 'event.log', listener: (line: { severity: number; fac: string; message: string }) => void): unknown;
    on(event: 'event.stats', listener: (stats: { message: string }) => void): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
  }): void {
    client.on('event.log', (line) => this.#record(levelOfSeverity(line.severity), line.message, { fac: line.fac }));
    // The binding emits a failed token callback (AWS_MSK_IAM) as 'error': unheard, it would end the process.
    client.on('error', (error) => this.#record('error', error.message, { fac: 'ERROR' }));
    client.on('event.stats', (stats) => {
      const failures = this.statistics.update(stats.message);
      if (!this.#muted) this.#countFailures(this.#logged, this.#fromStatistics + failures);
    });
  }

  /**
   * Connection failures are counted two ways: from log lines, at once but short of the repeats
   * librdkafka folds; from statistics, exactly but up to a second late. Both only grow and neither
   * overcounts, so the larger is reported: at once, and exact within a second.
   */
  #countFailures(logged: number, fromStatistics: number): void {
    this.#logged = logged;
    this.#fromStatistics = fromStatistics;
    const total = Math.max(logged, fromStatistics) - this.#expected;
    if (total > this.#reported) this.#options.onConnectionFailure?.(total - this.#reported);
    this.#reported = Math.max(this.#reported, total);
  }

  /** The followed client's broker connections, from its statistics. */
  readonly statistics = new ConnectionStatistics();

  namespace(): this {
    return this;
  }
  setLogLevel(): void {}

  /** Lines logged at or after `since` (ms since epoch), oldest first. */
  recent(since = 0): ClientLogLine[] {
    return this.#lines.filter((line) => line.timestamp >= since);
  }
}

/** librdkafka syslog severities (0-7) → log levels. */
function levelOfSeverity(severity: number): keyof Log {
  if (severity <= 3) return 'error';
  if (severity === 4) return 'warn';
  if (severity <= 6) return 'info';
  return 'debug';
}

export type ClientKind = 'producer' | 'admin' | 'consumer';

/** The recorders of an environment's current clients, one per kind: a new client's replaces the old one's. */
export class ClientRecorders {
  readonly #current = new Map<ClientKind, ClientLogRecorder>();
  readonly #log: Log;
  readonly #idleLog: Log;
  readonly #options: RecorderOptions;
  #active = false;

  /**
   * Client lines that arrive during an invocation go to `log` (with the invocation's context);
   * those between invocations (librdkafka keeps running) go to `idleLog`, which has none.
   */
  constructor(log: Log, options: RecorderOptions = {}, idleLog: Log = log) {
    this.#log = log;
    this.#idleLog = idleLog;
    this.#options = options;
  }

  /** Marks whether an invocation is running (see the constructor). */
  setActive(active: boolean): void {
    this.#active = active;
  }

  /** Whether an invocation is running (lines between invocations go to the idle log). */
  get active(): boolean {
    return this.#active;
  }

  #currentLog = (): Log => (this.#active ? this.#log : this.#idleLog);

  create(kind: ClientKind): ClientLogRecorder {
    const recorder = new ClientLogRecorder(kind, this.#currentLog, this.#options);
    this.#current.set(kind, recorder);
    return recorder;
  }

  /** A recorder for a short-lived helper client: same log and metrics, not one of the current clients. */
  detached(kind: string): ClientLogRecorder {
    return new ClientLogRecorder(kind, this.#currentLog, this.#options);
  }

  all(): ClientLogRecorder[] {
    return [...this.#current.values()];
  }

  /** What the current clients logged since `since`, oldest first. */
  linesSince(since: number): ClientLogLine[] {
    return this.all()
      .flatMap((recorder) => recorder.recent(since))
      .sort((a, b) => a.timestamp - b.timestamp);
  }
}
