/**
 * One child of the shapes scenario (shape-child.mjs), started inside its cgroups and watched as
 * Lambda watches a function. Its stdout (lambda-kafka's logs and EMF documents) is a pipe read by
 * `cat` in the function's CPU group: Lambda's own reader of a function's output runs in the
 * function's share of the CPU and only passes the lines on, and this process, reading them as they
 * came, had cost the child and the broker a Node wake-up with string work per line on the shared
 * cores (lambda-kafka's warm p50 75–85 µs more at 512 MB than with `cat`). What `cat` wrote is
 * counted after the child ends (lines, WARN and ERROR lines, the last few KB for the report).
 * stderr is drained here, fd 3 carries the child's JSON messages, a timeout ends it, and an end by
 * SIGKILL or a grown oom_kill counter is an OOM kill. A child that fails gives an outcome that says
 * why; it never throws.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inCpuGroup, inGroup, type LambdaCgroup, oomKills, peakBytes, resetPeak } from './cgroups.js';

const CHILD = fileURLToPath(new URL('./shape-child.mjs', import.meta.url));
/** What is kept of each output stream for a failure's note. */
const TAIL_BYTES = 3072;

export type ShapeTask = 'shape' | 'cold' | 'fit-produce' | 'fit-drain';

/** What the child sends on fd 3 at the end of its task (shape-child.mjs). */
export interface ChildResult {
  vmHwmBytes?: number;
  warmMs?: number[];
  /** The same 1-message sends timed again after the batches and many more untimed ones. */
  steadyMs?: number[];
  warmCpuMicros?: number;
  batchMessagesPerSecond?: number;
  batchCpuMicrosPerMessage?: number;
  wallMs?: number;
  processed?: number;
  readingMs?: number;
}

export interface ChildOutcome {
  /** spawn() to the child's "acknowledged" message (tasks shape and cold), in ms. */
  coldMs?: number;
  result?: ChildResult;
  /** Why there is no result: how the child ended, its message, the tail of its stderr. */
  failure?: string;
  oomKilled: boolean;
  /** The child's VmHWM; when it was killed before it could say, its memory cgroup's peak (page cache included). */
  peak?: { bytes: number; from: 'VmHWM' | 'cgroup' };
  /**
   * The memory cgroup's peak (memory.max_usage_in_bytes): what its limit is held against. It may be
   * below VmHWM, which also counts pages of files (node itself, shared libraries) charged to whoever loaded them first.
   */
  cgroupPeakBytes?: number;
  lines: number;
  warnErrorLines: number;
}

export interface ChildSpec {
  client: string;
  task: ShapeTask;
  /** The child's options (shape-child.mjs), passed as one JSON argument. */
  options: Record<string, unknown>;
  /** The child's whole environment. */
  env: Record<string, string>;
  node: string;
  /** What node is started with before the child's script: Lambda's options for the shape's memory (lambdaNodeOptions()). */
  nodeOptions?: readonly string[];
  /** The cgroups to start in; none for the "full" shape. */
  group?: LambdaCgroup;
  timeoutMs: number;
}

/**
 * A log line at WARN level or above: Powertools' JSON (`"level":"WARN"`, ERROR, CRITICAL), or a
 * plain line that says warning or error (Node's own warnings, a client's messages on stderr).
 */
export function isWarnOrError(line: string): boolean {
  const level = /"level"\s*:\s*"([A-Za-z]+)"/.exec(line)?.[1];
  if (level !== undefined) return ['WARN', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'].includes(level.toUpperCase());
  return /\b(warn(ing)?|error)\b/i.test(line);
}

/** Lines of one output stream, counted as they come, and its last bytes. */
class StreamTally {
  lines = 0;
  warnErrorLines = 0;
  tail = '';
  #partial = '';

  /** Counts `stream` as it comes, or nothing yet: add() what was read elsewhere, then end(). */
  constructor(stream?: Readable) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => this.add(chunk));
  }

  add(chunk: string): void {
    this.tail = (this.tail + chunk).slice(-TAIL_BYTES);
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#count(line);
  }

  #count(line: string): void {
    if (line.trim() === '') return;
    this.lines++;
    if (isWarnOrError(line)) this.warnErrorLines++;
  }

  end(): void {
    this.#count(this.#partial);
    this.#partial = '';
  }
}

let live: ChildProcess | undefined;
let stopped = false;

/** Ends the child running now, if any, and starts no other (on SIGINT, before the cgroups are removed). */
export function stopChildren(): void {
  stopped = true;
  live?.kill('SIGKILL');
}

export function runChild(spec: ChildSpec): Promise<ChildOutcome> {
  if (stopped) {
    return Promise.resolve({
      failure: `${spec.client} ${spec.task}: not started, the run was interrupted`,
      oomKilled: false,
      lines: 0,
      warnErrorLines: 0,
    });
  }
  const { group } = spec;
  const oomBefore = group ? oomKills(group) : 0;
  if (group) resetPeak(group);
  const args = [...(spec.nodeOptions ?? []), CHILD, spec.client, spec.task, JSON.stringify(spec.options)];
  const [command, commandArgs] = group ? inGroup(group, spec.node, args) : [spec.node, args];
  return new Promise((resolve) => {
    const started = performance.now();
    const output = startReader(group);
    const child = spawn(command, commandArgs, { env: spec.env, stdio: ['ignore', output.input, 'pipe', 'pipe'] });
    // The child has its copy of the pipe: the reader sees its end when the child's is closed.
    output.input.destroy();
    live = child;
    const stdout = new StreamTally();
    const stderr = new StreamTally(child.stderr as Readable);
    let coldMs: number | undefined;
    let result: ChildResult | undefined;
    let message: string | undefined;
    let partial = '';
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        let received: { type?: string; message?: string } & ChildResult;
        try {
          received = JSON.parse(line);
        } catch {
          message = `unreadable line on fd 3: ${line.slice(0, 200)}`;
          continue;
        }
        if (received.type === 'acknowledged') coldMs ??= performance.now() - started;
        else if (received.type === 'result') result = received;
        else if (received.type === 'error') message = received.message;
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, spec.timeoutMs);
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (live === child) live = undefined;
      stdout.add(output.text());
      stdout.end();
      stderr.end();
      const oomKilled =
        !spawnError && ((signal === 'SIGKILL' && !timedOut) || (group ? oomKills(group) : 0) > oomBefore);
      const cgroupPeakBytes = group ? peakBytes(group) : undefined;
      const peak =
        result?.vmHwmBytes !== undefined
          ? { bytes: result.vmHwmBytes, from: 'VmHWM' as const }
          : cgroupPeakBytes !== undefined
            ? { bytes: cgroupPeakBytes, from: 'cgroup' as const }
            : undefined;
      const ok = result !== undefined && code === 0;
      const how = spawnError
        ? `could not start: ${spawnError.message}`
        : timedOut
          ? `timed out after ${Math.round(spec.timeoutMs / 1000)} s`
          : oomKilled
            ? 'was killed by the OOM killer'
            : `ended with ${signal ?? `code ${code}`}`;
      resolve({
        ...(coldMs !== undefined && { coldMs }),
        ...(ok && { result }),
        ...(!ok && {
          failure: `${spec.client} ${spec.task} ${how}${message ? `: ${message}` : ''}${stderr.tail ? `\n${stderr.tail.trim()}` : ''}`,
        }),
        oomKilled,
        ...(peak && { peak }),
        ...(cgroupPeakBytes !== undefined && { cgroupPeakBytes }),
        lines: stdout.lines + stderr.lines,
        warnErrorLines: stdout.warnErrorLines + stderr.warnErrorLines,
      });
    };
    child.on('error', (error) => output.done.then(() => settle(null, null, error)));
    child.on('close', (code, signal) => output.done.then(() => settle(code, signal)));
  });
}

/**
 * `cat` copying a child's stdout into a file, in the CPU group of the child's shape: `input` is the
 * pipe to give the child as its stdout, `done` settles once `cat` has ended (at the pipe's end),
 * and text() reads what it copied, once, and removes the file.
 */
export function startReader(group: LambdaCgroup | undefined): { input: Writable; done: Promise<void>; text(): string } {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-shape-'));
  const file = join(dir, 'stdout');
  const fd = openSync(file, 'w');
  const [command, args] = group ? inCpuGroup(group, 'cat', []) : ['cat', []];
  const reader = spawn(command, args, { stdio: ['pipe', fd, 'ignore'] });
  closeSync(fd);
  const done = new Promise<void>((resolve) => {
    reader.on('error', () => resolve());
    reader.on('close', () => resolve());
  });
  return {
    input: reader.stdin as Writable,
    done,
    text() {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
