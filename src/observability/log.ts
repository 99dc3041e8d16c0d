/**
 * The logging surface the primitives need. Powertools' Logger satisfies it; the primitives take
 * it as a parameter so that they never depend on how (or whether) an application logs.
 */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Discards everything: the default when a caller passes no logger. */
export const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
