/**
 * One Lambda execution environment run by AWS's own pieces: the Runtime Interface Emulator
 * (`aws-lambda-rie`) inside a minimal root, starting /var/runtime/bootstrap, which runs the Node.js
 * Runtime Interface Client (`aws-lambda-ric`) with the function's handler. Invoked over HTTP as Lambda
 * invokes a function, one invocation at a time.
 *
 * Unlike LambdaEnvironment (environment.ts), nothing is frozen between invocations: RIE has no
 * freeze/thaw, so timers and librdkafka's threads keep running. RIE starts the runtime on the first
 * invocation (the cold start is part of it), and after a timeout kills the runtime and starts it again
 * on the next invocation, as Lambda resets an environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chrootCommand, lambdaEnvironment, type MinimalRoot } from './minimal-root.js';
import { type InvocationOutcome, OutputFile, readAnswer } from './rie-answer.js';
import { installRuntimeInterface, RIE_IN_ROOT } from './rie-install.js';
import type { LambdaRuntime } from './runtimes.js';

export interface RieOptions {
  /** A root from buildMinimalRoot for the same runtime; RIE and the RIC are installed into it. */
  root: MinimalRoot;
  runtime: LambdaRuntime;
  /** Lambda's Handler setting, relative to /var/task: `dist/produce/index.handler`. */
  handler: string;
  /** The function's environment variables, on top of Lambda's own. */
  env?: Record<string, string>;
  /** The function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT), whole seconds. Default 30. */
  timeoutSeconds?: number;
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB; the bootstrap sizes the heap from it. Default 512. */
  memoryMb?: number;
  /** AWS_LAMBDA_FUNCTION_NAME. Default: from the handler, e.g. `produce`. */
  functionName?: string;
  /** Every line the function and RIE print, as it arrives. */
  echo?: (line: string) => void;
  log?: (line: string) => void;
  /** Where each of RIE's two loopback ports comes from. Default freePort(). */
  port?: () => Promise<number>;
}

export interface RieInvokeResult<T = unknown> extends InvocationOutcome<T> {
  requestId: string;
  /** The invocation as RIE's REPORT line times it; the round trip if there is none. RIE counts a cold
   * start's init in it (Lambda does not): see initDurationMs. */
  durationMs: number;
  /** The runtime's init, when this invocation started the runtime (RIE's INIT REPORT). */
  initDurationMs?: number;
  roundTripMs: number;
  /**
   * What the function printed during this invocation, up to RIE's REPORT line, with its START and
   * END lines. What it writes after its response (work the handler left running) comes after
   * REPORT: output() has every line.
   */
  output: string[];
}

const START_BOUND_MS = 10_000;
/** How many times start() picks two new ports when one was taken before RIE could listen on it. */
const START_ATTEMPTS = 3;
/** How long RIE may take after its answer to print the REPORT line. */
const REPORT_BOUND_MS = 2_000;

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether process `pid` itself holds a socket listening on each of `ports` (/proc/net/tcp and the
 * process's fds): not merely whether something accepts there, which another process's listener would.
 */
function listensOn(pid: number, ports: readonly number[]): boolean {
  const wanted = new Map(ports.map((port) => [port.toString(16).toUpperCase().padStart(4, '0'), port]));
  const portOfInode = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const port = wanted.get(local?.split(':').at(-1) ?? '');
      if (port !== undefined && state === '0A' && inode) portOfInode.set(inode, port);
    }
  }
  const held = new Set<number>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        const port = inode === undefined ? undefined : portOfInode.get(inode);
        if (port !== undefined) held.add(port);
      } catch {
        // The fd was closed while we looked.
      }
    }
  } catch {
    return false;
  }
  return ports.every((port) => held.has(port));
}

/** Every process below `pid`, read from /proc: the runtime is in a process group of its own. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // It exited while we looked.
    }
  }
  const found: number[] = [];
  for (let queue = [pid], next = queue.shift(); next !== undefined; next = queue.shift()) {
    const children = parents.get(next) ?? [];
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class RieEnvironment {
  readonly #child: ChildProcess;
  readonly #url: string;
  /** RIE's stdout: the runtime's stdout and stderr, and RIE's START/END/REPORT lines. */
  readonly #output: string[] = [];
  /** Where RIE's stdout goes (see OutputFile), and the timer that reads it. */
  readonly #file: OutputFile;
  readonly #follow: NodeJS.Timeout;
  readonly #echo: ((line: string) => void) | undefined;
  /** RIE's own log (stderr): INIT START, INIT REPORT, resets. */
  readonly #log: string[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #exited = false;

  private constructor(child: ChildProcess, port: number, output: string, options: RieOptions) {
    this.#child = child;
    this.#url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
    this.#echo = options.echo;
    this.#file = new OutputFile(output);
    // Read every 10 ms for echo; output() and invocations read what is there at once.
    this.#follow = setInterval(() => this.#read(), 10).unref();
    let partial = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.#log.push(line);
        options.echo?.(line);
      }
    });
    child.on('exit', () => {
      this.#exited = true;
      clearInterval(this.#follow);
      this.#take(this.#file.close());
      rmSync(dirname(output), { recursive: true, force: true });
    });
  }

  #read(): void {
    if (!this.#exited) this.#take(this.#file.read());
  }

  #take(lines: string[]): void {
    for (const line of lines) {
      this.#output.push(line);
      this.#echo?.(line);
    }
  }

  /**
   * Installs RIE and the RIC into the root and starts RIE there, listening on a free loopback port.
   * The two ports come from freePort() and RIE binds them a moment later; an outgoing connection of
   * another process can be given one of them in between (both are in the ephemeral range), so a start
   * that RIE refuses with EADDRINUSE is tried again on two new ports.
   */
  static async start(options: RieOptions): Promise<RieEnvironment> {
    installRuntimeInterface(options.root, options.runtime, options.log);
    for (let attempt = 1; ; attempt++) {
      const started = await RieEnvironment.#launch(options);
      if (started instanceof RieEnvironment) return started;
      if (!started.portTaken || attempt === START_ATTEMPTS) throw started.error;
      options.log?.(`aws-lambda-rie: a port was taken before it could listen (attempt ${attempt}); trying two others`);
    }
  }

  static async #launch(options: RieOptions): Promise<RieEnvironment | { error: Error; portTaken: boolean }> {
    const pick = options.port ?? freePort;
    const [port, runtimeApiPort] = [await pick(), await pick()];
    const chroot = chrootCommand(options.root.dir);
    const args = [
      ...chroot.args,
      // An arm64 RIE in an arm64 root runs under QEMU (minimal-root.ts), as does the runtime it starts.
      ...(options.root.emulator ? [options.root.emulator] : []),
      RIE_IN_ROOT,
      '--runtime-interface-emulator-address',
      `127.0.0.1:${port}`,
      // Not RIE's default 9001, so that two environments can run side by side.
      '--runtime-api-address',
      `127.0.0.1:${runtimeApiPort}`,
    ];
    const env = lambdaEnvironment({
      AWS_LAMBDA_FUNCTION_NAME: options.functionName ?? options.handler.split('/').at(-2) ?? 'function',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 512),
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds ?? 30),
      // RIE passes its whole environment on to the runtime; the RIC reads the handler from _HANDLER.
      _HANDLER: options.handler,
      ...options.env,
    });
    const output = join(mkdtempSync(join(tmpdir(), 'lambda-kafka-rie-')), 'stdout');
    const append = openSync(output, 'a');
    let child: ChildProcess;
    try {
      child = spawn(chroot.command, args, { env, stdio: ['ignore', append, 'pipe'] });
    } finally {
      closeSync(append);
    }
    // 'close' comes after the last of RIE's stderr has been read, which 'exit' need not.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const environment = new RieEnvironment(child, port, output, options);
    await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    // Both ports, each by RIE's own socket: RIE binds them in two goroutines, and fails on the runtime
    // API's (a panic) as readily after its invocation port accepts as before.
    for (
      const until = Date.now() + START_BOUND_MS;
      !listensOn(child.pid as number, [port, runtimeApiPort]);
      await sleep(50)
    ) {
      if (environment.#exited || Date.now() > until) {
        await environment.shutdown();
        await Promise.race([closed, sleep(1_000)]);
        const log = environment.#log.concat(environment.#output);
        return {
          portTaken: log.some((line) => line.includes('address already in use')),
          error: new Error(
            `aws-lambda-rie did not start listening on 127.0.0.1:${port} in the root ${options.root.dir}:\n` +
              log.join('\n'),
          ),
        };
      }
    }
    return environment;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** Everything the function and RIE printed on stdout so far. */
  output(): string[] {
    this.#read();
    return [...this.#output];
  }

  /** RIE's own log so far (its stderr). */
  diagnostics(): string[] {
    return [...this.#log];
  }

  /** Invokes the function with `event`; invocations queue behind each other, as in one environment. */
  invoke<T = unknown>(event: unknown): Promise<RieInvokeResult<T>> {
    const next = this.#queue.then(() => this.#invokeNow<T>(event));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #invokeNow<T>(event: unknown): Promise<RieInvokeResult<T>> {
    if (this.#exited) throw new Error(`aws-lambda-rie has exited:\n${this.#log.slice(-20).join('\n')}`);
    const requestId = randomUUID();
    this.#read();
    const [fromOutput, fromLog] = [this.#output.length, this.#log.length];
    const started = performance.now();
    let answer: { status: number; body: string };
    try {
      answer = await post(this.#url, JSON.stringify(event ?? null), { 'X-Amzn-RequestId': requestId });
    } catch (error) {
      const log = this.#log.slice(-20).join('\n');
      throw new Error(`invoking through aws-lambda-rie failed: ${(error as Error).message}\n${log}`, { cause: error });
    }
    const roundTripMs = performance.now() - started;
    // The runtime appends straight to RIE's stdout: what it wrote before answering precedes REPORT.
    const isReport = (line: string) => line.startsWith(`REPORT RequestId: ${requestId}`);
    for (const until = Date.now() + REPORT_BOUND_MS; ; await sleep(10)) {
      this.#read();
      if (this.#output.slice(fromOutput).some(isReport) || Date.now() > until || this.#exited) break;
    }
    const reportAt = this.#output.findIndex((line, index) => index >= fromOutput && isReport(line));
    const output = this.#output.slice(fromOutput, reportAt >= 0 ? reportAt + 1 : undefined);
    const report = reportAt >= 0 ? this.#output[reportAt] : undefined;
    const duration = /\tDuration: ([\d.]+) ms/.exec(report ?? '')?.[1];
    const init = this.#log
      .slice(fromLog)
      .map((line) => /INIT REPORT\(durationMs: ([\d.]+)\)/.exec(line)?.[1])
      .findLast((ms) => ms !== undefined);
    const common = {
      requestId,
      durationMs: duration ? Number(duration) : roundTripMs,
      ...(init !== undefined && { initDurationMs: Number(init) }),
      roundTripMs,
      output,
    };
    return { ...readAnswer<T>(answer.status, answer.body, this.#log.slice(fromLog)), ...common };
  }

  /**
   * Sends `signal` to the runtime process itself, as Lambda's shutdown does when an extension is
   * registered (SIGTERM, then SIGKILL after about 500 ms), and waits up to `timeoutMs` for it to
   * exit. RIE's own shutdown cannot show this: it SIGKILLs the runtime.
   */
  async signalRuntime(signal: NodeJS.Signals, timeoutMs = 5_000): Promise<{ exited: boolean; ms: number }> {
    const runtime = descendants(this.pid).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/var/runtime/index.mjs');
      } catch {
        return false;
      }
    });
    if (runtime === undefined) throw new Error('no runtime process is running in this environment');
    const started = Date.now();
    process.kill(runtime, signal);
    // Not a child of ours: poll /proc until it is gone (or a zombie RIE has not reaped yet).
    const gone = () => {
      try {
        return readFileSync(`/proc/${runtime}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
      } catch {
        return true;
      }
    };
    while (!gone()) {
      if (Date.now() - started > timeoutMs) return { exited: false, ms: Date.now() - started };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { exited: true, ms: Date.now() - started };
  }

  /**
   * SIGTERM to RIE, which resets the sandbox and exits. The reset SIGKILLs the runtime: no SIGTERM
   * reaches the function (as on Lambda when no extension is registered). SIGKILL to RIE and the
   * runtime if RIE has not exited after `timeoutMs`.
   */
  async shutdown(timeoutMs = 5_000): Promise<{ exited: boolean; ms: number }> {
    const started = Date.now();
    if (this.#exited) return { exited: true, ms: 0 };
    const exited = new Promise<boolean>((resolve) => {
      this.#child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), timeoutMs).unref();
    });
    this.#child.kill('SIGTERM');
    const ok = await exited;
    if (!ok) {
      for (const pid of [this.pid, ...descendants(this.pid)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    return { exited: ok, ms: Date.now() - started };
  }
}
