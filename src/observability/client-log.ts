/**
 * The logger handed to the binding (its `kafkaJS.logger`): librdkafka's own log lines and the
 * binding's errors reach the application's logger here, and the recent ones are kept so that a
 * generic failure ("broker transport failure") can be explained by what librdkafka saw
 * ("SASL authentication error: invalid credentials").
 */
import type { ClientLogLine } from '../errors/classify.js';
import { type Log, silentLog } from './log.js';

const DEFAULT_CAPACITY = 200;

/** librdkafka's error-level lines that mean a connection to a broker failed. */
const CONNECTION_FAILURE =
  /Connect to \S+ failed|SSL handshake failed|SASL authentication error|Failed to resolve|Receive failed|Send failed|Connection setup timed out|alert (bad|unknown|handshake)/;

export interface RecorderOptions {
  capacity?: number;
  /** Called for each line reporting a failed broker connection. */
  onConnectionFailure?: (line: ClientLogLine) => void;
}

/** What the binding passes along with a message: librdkafka's facility, the client name, a timestamp. */
type Extra = object & { fac?: string };

/** Implements the binding's KafkaJS `Logger` interface. */
export class ClientLogRecorder {
  readonly #lines: ClientLogLine[] = [];
  readonly #log: Log;
  readonly #client: string;
  readonly #options: RecorderOptions;
  #muted = false;

  constructor(client: string, log: Log = silentLog, options: RecorderOptions = {}) {
    this.#client = client;
    this.#log = log;
    this.#options = options;
  }

  #record(level: keyof Log, message: string, extra?: Extra): void {
    const line: ClientLogLine = { message, timestamp: Date.now() };
    if (extra?.fac) line.facility = extra.fac;
    this.#lines.push(line);
    if (this.#lines.length > (this.#options.capacity ?? DEFAULT_CAPACITY)) this.#lines.shift();
    if (this.#muted) return;
    if (level === 'error' && CONNECTION_FAILURE.test(message)) this.#options.onConnectionFailure?.(line);
    this.#log[level](message, { client: this.#client, ...(extra?.fac && { facility: extra.fac }) });
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
  }): void {
    client.on('event.log', (line) => this.#record(levelOfSeverity(line.severity), line.message, { fac: line.fac }));
  }

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
  readonly #options: RecorderOptions;

  constructor(log: Log, options: RecorderOptions = {}) {
    this.#log = log;
    this.#options = options;
  }

  create(kind: ClientKind): ClientLogRecorder {
    const recorder = new ClientLogRecorder(kind, this.#log, this.#options);
    this.#current.set(kind, recorder);
    return recorder;
  }

  /** A recorder for a short-lived helper client: same log and metrics, not one of the current clients. */
  detached(kind: string): ClientLogRecorder {
    return new ClientLogRecorder(kind, this.#log, this.#options);
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
