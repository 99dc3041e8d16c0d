/**
 * Small steps the tool builds share (scripts/lambda/ric.ts): run a command with its output kept for
 * the error, check that the tools a build needs exist, fetch an npm package's tarball. Modelled on
 * scripts/package/binding.ts, whose copies stay there because its recipe hash is its own source.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** What the step does, for the error: "building curl". */
  what: string;
}

/** Runs `command`; on failure throws with the step, the command line and the last 40 lines of its output. */
export function run(command: string, args: string[], options: RunOptions): string {
  try {
    return execFileSync(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    const tail = output.trim().split('\n').slice(-40).join('\n');
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} is not installed` : tail;
    throw new Error(`${options.what} failed (${command} ${args.join(' ')}):\n${reason}`, { cause: error });
  }
}

/** The environment without npm's settings: under `npm run`, e.g. a global nodedir would override --nodedir. */
export function withoutNpmConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_config_/i.test(key)));
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws one error naming every command of `needed` (command → how to install it) this machine lacks,
 * and what they are for.
 */
export function assertCommands(needed: Record<string, string>, purpose: string): void {
  const missing = Object.entries(needed).filter(([command]) => !hasCommand(command));
  if (missing.length === 0) return;
  throw new Error(
    `${purpose} needs ${missing.map(([command]) => command).join(', ')}, which this machine lacks. ` +
      `Install: ${missing.map(([command, how]) => `${command} (${how})`).join('; ')}.`,
  );
}

/** The npm package `spec` (name@version) unpacked into `into`, through npm's cache (works offline once cached). */
export function unpackNpmPackage(spec: string, into: string): void {
  mkdirSync(into, { recursive: true });
  const scratch = mkdtempSync(`${into}.pack-`);
  try {
    run('npm', ['pack', spec, '--pack-destination', scratch, '--silent'], {
      cwd: scratch,
      what: `fetching ${spec} from the npm registry`,
    });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} produced no tarball`);
    run('tar', ['-xzf', join(scratch, tarball), '-C', into, '--strip-components=1'], {
      cwd: into,
      what: `unpacking ${spec}`,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
