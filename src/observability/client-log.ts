/**
 * The logger handed to the binding (its `kafkaJS.logger`): librdkafka's own log lines and the
 * binding's errors reach the application's logger here, and the recent ones are kept so that a
 * generic failure ("broker transport failure") can be explained by what librdkafka saw
 * ("SASL authentication error: invalid credentials").
 */
import type { ClientLogLine } from '../errors/classify.js';
import { type Log, silentLog } from './log.js';

const DEFAULT_CAPACITY = 200;

/** What the binding passes along with a message: librdkafka's facility, the client name, a timestamp. */
type Extra = object & { fac?: string };

/** Implements the binding's KafkaJS `Logger` interface. */
export class ClientLogRecorder {
  readonly #lines: ClientLogLine[] = [];
  readonly #capacity: number;
  readonly #log: Log;
  readonly #client: string;

  constructor(client: string, log: Log = silentLog, capacity = DEFAULT_CAPACITY) {
    this.#client = client;
    this.#log = log;
    this.#capacity = capacity;
  }

  #record(level: keyof Log, message: string, extra?: Extra): void {
    const line: ClientLogLine = { message, timestamp: Date.now() };
    if (extra?.fac) line.facility = extra.fac;
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) this.#lines.shift();
    this.#log[level](message, { client: this.#client, ...(extra?.fac && { facility: extra.fac }) });
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
  namespace(): this {
    return this;
  }
  setLogLevel(): void {}

  /** Lines logged at or after `since` (ms since epoch), oldest first. */
  recent(since = 0): ClientLogLine[] {
    return this.#lines.filter((line) => line.timestamp >= since);
  }
}
