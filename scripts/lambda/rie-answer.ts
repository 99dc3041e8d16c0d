/**
 * What RIE's answer to an invocation means. RIE answers 200 for a result, for an error the RIC
 * reported (the body `{ errorType, errorMessage, trace }`) and for a timeout (the plain text
 * "Task timed out after N.00 seconds"), and sends no X-Amz-Function-Error header; 502 when the
 * runtime failed to start or exited.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface InvocationOutcome<T = unknown> {
  ok: boolean;
  value?: T;
  /** A thrown error as the RIC reports it. With no X-Amz-Function-Error header from RIE, a handler
   * that returns an object with string errorType and errorMessage looks the same. */
  error?: { errorType: string; errorMessage: string; trace?: string[] };
  /** RIE answered "Task timed out after N.00 seconds" (and reset the runtime). */
  timedOut: boolean;
}

const TIMED_OUT = /^Task timed out after [\d.]+ seconds$/;

function reportedError(value: unknown): InvocationOutcome['error'] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { errorType, errorMessage, trace } = value as Record<string, unknown>;
  if (typeof errorType !== 'string' || typeof errorMessage !== 'string') return undefined;
  return { errorType, errorMessage, ...(Array.isArray(trace) && { trace: trace.map(String) }) };
}

/** The outcome of RIE's answer `status` / `body`; `log` is RIE's log of the invocation, for a failure. */
export function readAnswer<T>(status: number, body: string, log: readonly string[] = []): InvocationOutcome<T> {
  const text = body.trim();
  if (status === 200 && TIMED_OUT.test(text)) {
    return { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: text }, timedOut: true };
  }
  let value: unknown;
  try {
    value = text === '' ? undefined : JSON.parse(text);
  } catch {
    value = text;
  }
  const error = reportedError(value);
  if (error) return { ok: false, error, timedOut: false };
  if (status !== 200) {
    const errorMessage = [`RIE answered HTTP ${status}: ${text || '(no body)'}`, ...log].join('\n');
    return { ok: false, error: { errorType: 'Rie.InvokeFailed', errorMessage }, timedOut: false };
  }
  return { ok: true, value: value as T, timedOut: false };
}

/**
 * RIE's stdout as a file the runtime and RIE append to, read line by line from where the last read
 * stopped. Not a pipe: RIE hands the runtime its own stdout as both stdout and stderr, and Node 22+
 * writes to a full pipe in parts, finishing a record after the other stream's write went in between
 * (`{"level":"INFO",…"func{"level":"WARN",…}` then `tion_arn":…}`). Every write to a file opened for
 * appending lands whole at its end, so each line read here is one the process wrote.
 */
export class OutputFile {
  readonly #fd: number;
  readonly #decoder = new StringDecoder('utf8');
  readonly #buffer = Buffer.alloc(1 << 16);
  #position = 0;
  #partial = '';

  /** `path` is opened for reading; the writer opens it for appending (`a`). */
  constructor(path: string) {
    this.#fd = openSync(path, 'r');
  }

  /** The whole lines appended since the last call; a line still being written waits for its end. */
  read(): string[] {
    let text = '';
    for (let read = this.#next(); read > 0; read = this.#next()) {
      text += this.#decoder.write(this.#buffer.subarray(0, read));
    }
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    return lines;
  }

  /** Closes the file; what was read stays read, a last line with no newline is returned. */
  close(): string[] {
    const lines = this.read();
    const rest = this.#partial + this.#decoder.end();
    closeSync(this.#fd);
    return rest ? [...lines, rest] : lines;
  }

  #next(): number {
    const read = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, this.#position);
    this.#position += read;
    return read;
  }
}
