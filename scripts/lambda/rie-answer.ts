/**
 * What RIE's answer to an invocation means. RIE answers 200 for a result, for an error the RIC
 * reported (the body `{ errorType, errorMessage, trace }`) and for a timeout (the plain text
 * "Task timed out after N.00 seconds"), and sends no X-Amz-Function-Error header; 502 when the
 * runtime failed to start or exited.
 */

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

/** Where a JSON log record or EMF document starts. */
const RECORD_START = /\{"(?:level|_aws)":/g;

/**
 * RIE's stdout, line by line, with the runtime's records whole again. The runtime's stdout and
 * stderr reach RIE's stdout through one pipe; a write the full pipe took in part is finished after
 * a write to the other stream, so a record can come cut in two, the other stream's line between
 * its parts: `{"level":"INFO",…"func` + `{"level":"WARN",…}` on one line, `tion_arn":…}` on the next.
 */
export class OutputLines {
  #fragment: string | undefined;

  /** The whole lines that `line` (a line as read) completes. */
  push(line: string): string[] {
    let rest = line;
    const lines: string[] = [];
    if (this.#fragment !== undefined && !rest.startsWith('{') && !/^(?:START|END|REPORT|INIT) /.test(rest)) {
      const fragment = this.#fragment;
      this.#fragment = undefined;
      rest = fragment + rest;
      // One record, still not whole: the fragment may end with a line of plain text.
      if (!parses(rest) && !/\{"(?:level|_aws)":/.test(line)) {
        const split = splitAround(fragment, line);
        if (split) return split;
      }
    }
    const starts = [...rest.matchAll(RECORD_START)].map((m) => m.index).filter((i) => i > 0);
    let from = 0;
    for (const at of [...starts, rest.length]) {
      const piece = rest.slice(from, at);
      from = at;
      // A record that does not parse is held for the next line, which may finish it.
      if (!piece.startsWith('{') || parses(piece)) lines.push(piece);
      else this.#fragment = piece;
    }
    return lines;
  }
}

/**
 * A record cut by a whole line of the other stream that is not a record (plain text): the read line
 * is the record's start and that text, the next one the record's end. Finds where the start ends by
 * trying each cut until the record parses; returns the text line and the record, or undefined.
 */
function splitAround(fragment: string, next: string): string[] | undefined {
  for (let cut = fragment.length - 1; cut > 1; cut--) {
    const record = fragment.slice(0, cut) + next;
    if (parses(record)) return [fragment.slice(cut), record];
  }
  return undefined;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
