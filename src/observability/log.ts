/**
 * The logging surface the primitives need. Powertools' Logger satisfies it; the primitives take
 * it as a parameter so that they never depend on how (or whether) an application logs.
 */
export interface Log {
  /** Logs `message` at DEBUG, with `extra` as structured keys. */
  debug(message: string, extra?: Record<string, unknown>): void;
  /** Logs `message` at INFO, with `extra` as structured keys. */
  info(message: string, extra?: Record<string, unknown>): void;
  /** Logs `message` at WARN, with `extra` as structured keys. */
  warn(message: string, extra?: Record<string, unknown>): void;
  /** Logs `message` at ERROR, with `extra` as structured keys. */
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Discards everything: the default when a caller passes no logger. */
export const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
