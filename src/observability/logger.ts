/** The Powertools logger every part of the library logs through, with secrets redacted at serialization. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from './log.js';
import type { Redactor } from './redact.js';

export const DEFAULT_SERVICE_NAME = 'lambda-kafka';

export function createLogger(redactor: Redactor, serviceName?: string): Logger {
  return new Logger({
    serviceName: serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    jsonReplacerFn: redactor.replacer,
  });
}

/** The library's narrow `Log` surface over a Powertools logger. */
export function logTo(logger: Logger): Log {
  const level =
    (name: keyof Log) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (extra) logger[name](message, extra);
      else logger[name](message);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

/** A `Log` whose messages and attributes pass through `redactor` before they reach `log`. */
export function redactedLog(log: Log, redactor: Redactor): Log {
  const level =
    (name: keyof Log) =>
    (message: string, extra?: Record<string, unknown>): void => {
      const clean = extra && (JSON.parse(JSON.stringify(extra, redactor.replacer)) as Record<string, unknown>);
      log[name](redactor.redact(message), clean);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
