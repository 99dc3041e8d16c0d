/**
 * The parent side of an emulated Lambda execution environment. Like Lambda, it freezes the
 * process (SIGSTOP) as soon as an invocation has returned and thaws it (SIGCONT) for the next one,
 * so nothing runs between invocations: not timers, not librdkafka's threads. An invocation that
 * outlives its timeout is reported as Lambda reports it, and the environment is discarded.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../kafka/layout.js';
import { chrootCommand, lambdaEnvironment } from './minimal-root.js';

export interface InvokeResult<T = unknown> {
  ok: boolean;
  value?: T;
  error?: { name: string; message: string };
  durationMs: number;
  /** Stdout lines (logs, EMF) written during this invocation. */
  output: string[];
}

export interface EnvironmentOptions {
  /** Path of the handler module, absolute or relative to `cwd`. TypeScript is run through tsx. */
  handler: string;
  exportName?: string;
  env?: Record<string, string>;
  /** Working directory of the environment (default: the repository root). */
  cwd?: string;
  /** The runtime script (default scripts/lambda/runtime.mjs); copy it next to a package to run that alone. */
  runtime?: string;
  /** Replace the environment instead of extending this process's (like Lambda, which starts clean). */
  cleanEnv?: boolean;
  /** Print the environment's output as it arrives (for the demo). */
  echo?: (line: string) => void;
  /**
   * Run inside this minimal root (scripts/lambda/minimal-root.ts) with its /var/lang/bin/node and
   * Lambda's environment variables; `handler` is then a path inside the root, e.g.
   * /var/task/dist/produce/index.mjs. Implies a clean environment.
   */
  root?: string;
  /** With `root`: the emulator inside it that runs its node (MinimalRoot.emulator, for another architecture). */
  emulator?: string;
}

export class LambdaEnvironment {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #next = 1;
  #partial = '';
  #exited = false;
  #frozen = false;

  private constructor(child: ChildProcess, echo?: (line: string) => void) {
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = this.#partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        this.#lines.push(line);
        echo?.(line);
      }
    });
    // Lambda sends both streams to the same log; Powertools writes WARN and ERROR to stderr.
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        this.#lines.push(line);
        echo?.(line);
      }
    });
    child.on('exit', () => {
      this.#exited = true;
    });
  }

  static async start(options: EnvironmentOptions): Promise<LambdaEnvironment> {
    const runtime = options.runtime ?? join(REPO_ROOT, 'scripts/lambda/runtime.mjs');
    const args = [options.handler, options.exportName ?? 'handler'];
    let child: ChildProcess;
    if (options.root) {
      // The runtime script goes where Lambda keeps its runtime; chroot execs the root's own node.
      copyFileSync(runtime, join(options.root, 'var/runtime/runtime.mjs'));
      const chroot = chrootCommand(options.root);
      child = fork('/var/runtime/runtime.mjs', args, {
        execPath: chroot.command,
        execArgv: [...chroot.args, ...(options.emulator ? [options.emulator] : []), '/var/lang/bin/node'],
        env: lambdaEnvironment(options.env ?? {}),
        silent: true,
      });
    } else {
      child = fork(runtime, args, {
        cwd: options.cwd ?? REPO_ROOT,
        execArgv: options.handler.endsWith('.ts') ? ['--import', 'tsx'] : [],
        env: options.cleanEnv ? { PATH: process.env.PATH ?? '', ...options.env } : { ...process.env, ...options.env },
        silent: true,
      });
    }
    const environment = new LambdaEnvironment(child, options.echo);
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message: { type: string }) =>
        message.type === 'ready' ? resolve() : reject(new Error('unexpected message')),
      );
      child.once('exit', (code) =>
        reject(new Error(`the environment exited during init (code ${code}):\n${environment.output().join('\n')}`)),
      );
    });
    environment.#freeze();
    return environment;
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** Everything the environment printed so far. */
  output(): string[] {
    return [...this.#lines];
  }

  #freeze(): void {
    if (!this.#exited && !this.#frozen) {
      this.#child.kill('SIGSTOP');
      this.#frozen = true;
    }
  }

  #thaw(): void {
    if (!this.#exited && this.#frozen) {
      this.#child.kill('SIGCONT');
      this.#frozen = false;
    }
  }

  async invoke<T = unknown>(event: unknown, timeoutMs: number): Promise<InvokeResult<T>> {
    if (this.#exited) throw new Error('this execution environment has exited');
    const id = this.#next++;
    const from = this.#lines.length;
    this.#thaw();
    const started = Date.now();
    const result = await new Promise<Omit<InvokeResult<T>, 'output'>>((resolve) => {
      const timer = setTimeout(() => {
        this.#child.off('message', onMessage);
        // Lambda discards an environment whose invocation timed out.
        this.#child.kill('SIGKILL');
        resolve({
          ok: false,
          error: { name: 'Sandbox.Timedout', message: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` },
          durationMs: Date.now() - started,
        });
      }, timeoutMs);
      const onMessage = (message: { type: string; id: number } & Omit<InvokeResult<T>, 'output'>) => {
        if (message.type !== 'result' || message.id !== id) return;
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        resolve(message);
      };
      this.#child.on('message', onMessage);
      this.#child.send({ type: 'invoke', id, event, timeoutMs });
    });
    // Let the last lines written before the response reach us, then freeze like Lambda does.
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.#freeze();
    return { ...result, output: this.#lines.slice(from) };
  }

  /** Sends a signal the way Lambda's shutdown does (SIGTERM), and waits for the process to exit. */
  async shutdown(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<{ exited: boolean; ms: number }> {
    const started = Date.now();
    if (this.#exited) return { exited: true, ms: 0 };
    this.#thaw();
    const exited = new Promise<boolean>((resolve) => {
      this.#child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), timeoutMs).unref();
    });
    this.#child.kill(signal);
    const ok = await exited;
    if (!ok) this.#child.kill('SIGKILL');
    return { exited: ok, ms: Date.now() - started };
  }
}
