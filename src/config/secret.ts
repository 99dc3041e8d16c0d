import { inspect } from 'node:util';

const REDACTED = '***';

/**
 * A value that must never be printed: SASL password, key password, inline private key.
 * Every way a value usually reaches a log (string conversion, JSON, util.inspect) shows `***`;
 * only `reveal()`, called where the value is handed to librdkafka or node:crypto, gives it out.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
