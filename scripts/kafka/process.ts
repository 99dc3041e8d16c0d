/**
 * The broker JVM as an operating-system process: launch it detached with a pid file,
 * find it again by that pid file, signal it and wait for it to exit.
 * Shared by the single broker and the nodes of a local cluster.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { javaCommand } from './jars.js';
import type { BrokerLayout } from './layout.js';
import { javaArgs } from './server-config.js';

/** The pid of this broker's JVM, if the pid file names a live process that is that JVM. */
export function runningPid(layout: BrokerLayout): number | undefined {
  if (!existsSync(layout.pidFile)) return undefined;
  const pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const command = execFileSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' });
    // A recycled pid belongs to some other process: never signal it.
    return command.includes('kafka.Kafka') && command.includes(layout.propertiesFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it is gone for our purposes.
    const stat = execFileSync('ps', ['-p', String(pid), '-o', 'stat='], { encoding: 'utf8' }).trim();
    return stat !== '' && !stat.startsWith('Z');
  } catch {
    return false;
  }
}

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Starts `kafka.Kafka` on the layout's server.properties, detached so it outlives this process; returns its pid. */
export function launchBroker(layout: BrokerLayout, heap = '512m'): number {
  rmSync(layout.serverLog, { force: true });
  const out = openSync(layout.stdoutLog, 'w');
  const child = spawn(javaCommand(), [...javaArgs(layout, heap), 'kafka.Kafka', layout.propertiesFile], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid as number;
  child.unref();
  writeFileSync(layout.pidFile, `${pid}\n`);
  return pid;
}

/**
 * Signals the broker of `layout` (if this tooling started it) and resolves once its JVM is gone.
 * SIGTERM lets Kafka shut down in a controlled way; past `timeoutMs` it is killed.
 */
export async function terminateBroker(
  layout: BrokerLayout,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<boolean> {
  const pid = runningPid(layout);
  rmSync(layout.pidFile, { force: true });
  if (!pid) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return true;
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** The last lines of a broker's logs, for an error message that explains a failed start. */
export function logTails(layout: BrokerLayout): string {
  return (
    `Last lines of ${layout.serverLog}:\n${tail(layout.serverLog, 30)}\n` +
    `Last lines of ${layout.stdoutLog}:\n${tail(layout.stdoutLog, 15)}`
  );
}
