/**
 * cgroup v1 groups sized as Lambda sizes a function (lambda-shape.ts): `cpu` with a CFS quota and
 * `memory` with a limit, one pair per memory size, under a parent named for the benchmark. They are
 * made inside the cgroups this process already runs in (from /proc/self/cgroup), so whatever
 * accounts for this process still accounts for its children. Every group made is removed again,
 * and groups an earlier run left behind are removed once they hold no process.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CFS_PERIOD_US, cpuQuotaUs, memoryLimitBytes, parseOomControl } from './lambda-shape.js';

/** Where cgroup v1 mounts the two controllers (the usual layout; cpu may be a link to cpu,cpuacct). */
export const CGROUP_ROOTS = { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory' } as const;
/** The parent of every group the benchmark makes. */
export const GROUP_PARENT = 'lambda-kafka-bench';

type Controller = keyof typeof CGROUP_ROOTS;

/** The pair of groups one memory size runs in. */
export interface LambdaCgroup {
  memoryMb: number;
  cpu: string;
  memory: string;
}

/** This process's group of `controller` in the v1 hierarchy ("4:memory:/a/b" → "/a/b"), or "/" when not listed. */
function ownGroup(controller: Controller): string {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers?.split(',').includes(controller) && path) return path;
    }
  } catch {}
  return '/';
}

/** The parent directories the benchmark's groups live in: inside this process's groups, and (earlier runs) at the root. */
function parents(controller: Controller): string[] {
  const root = CGROUP_ROOTS[controller];
  return [...new Set([join(root, ownGroup(controller), GROUP_PARENT), join(root, GROUP_PARENT)])];
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

/** Every group of the benchmark that exists now, parents included, any run's (none once a run has ended). */
export function remainingBenchGroups(): string[] {
  return (Object.keys(CGROUP_ROOTS) as Controller[])
    .flatMap(parents)
    .filter((parent) => existsSync(parent))
    .flatMap((parent) => [parent, ...subdirectories(parent)]);
}

function holdsNoProcess(group: string): boolean {
  try {
    return readFileSync(join(group, 'cgroup.procs'), 'utf8').trim() === '';
  } catch {
    return false;
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * rmdir of a group, retried for up to `waitMs` while it is busy: a process killed a moment ago
 * leaves its group only once it has exited. Synchronous, so that it also runs on SIGINT and 'exit'.
 */
function removeGroup(dir: string, waitMs: number): string | undefined {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code !== 'EBUSY' || Date.now() >= until) return `${dir}: ${(error as Error).message}`;
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}

/** Why the benchmark cannot make its groups here, or undefined when it can try. */
export function unavailableBecause(): string | undefined {
  if (process.platform !== 'linux') return `cgroups are Linux's; this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0) return `making cgroups needs root; this process runs as uid ${uid}`;
  const v1 =
    existsSync(join(CGROUP_ROOTS.cpu, 'cpu.cfs_quota_us')) &&
    existsSync(join(CGROUP_ROOTS.memory, 'memory.limit_in_bytes'));
  if (v1) return undefined;
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return 'this machine has cgroup v2 only (unified hierarchy at /sys/fs/cgroup); the shapes use cgroup v1 cpu and memory';
  }
  return `cgroup v1 cpu and memory are not mounted at ${CGROUP_ROOTS.cpu} and ${CGROUP_ROOTS.memory}`;
}

export class BenchCgroups {
  /** Directories made by this run, in the order made (removed in reverse). */
  readonly #made: string[] = [];

  private constructor() {}

  /**
   * Groups for this run, after removing the empty ones earlier runs left; or why there can be none
   * (not Linux, not root, no cgroup v1 cpu and memory, a parent that cannot be made).
   */
  static open(): { cgroups: BenchCgroups; leftoversRemoved: number } | { unavailable: string } {
    const reason = unavailableBecause();
    if (reason) return { unavailable: reason };
    let leftoversRemoved = 0;
    for (const parent of (Object.keys(CGROUP_ROOTS) as Controller[]).flatMap(parents)) {
      for (const group of subdirectories(parent)) {
        if (holdsNoProcess(group) && removeGroup(group, 0) === undefined) leftoversRemoved++;
      }
      // Still in use by a run going on beside this one: then it stays, and that run removes it.
      if (existsSync(parent) && removeGroup(parent, 0) === undefined) leftoversRemoved++;
    }
    const cgroups = new BenchCgroups();
    try {
      for (const controller of Object.keys(CGROUP_ROOTS) as Controller[])
        cgroups.#mkdir(parents(controller)[0] as string);
    } catch (error) {
      cgroups.removeAll();
      return { unavailable: `the cgroup directories cannot be made: ${(error as Error).message}` };
    }
    return { cgroups, leftoversRemoved };
  }

  #mkdir(dir: string): void {
    if (existsSync(dir)) return;
    mkdirSync(dir);
    this.#made.push(dir);
  }

  /** The pair of groups for a function of `memoryMb`, named `<memoryMb>mb-<this pid>`. */
  create(memoryMb: number): LambdaCgroup {
    const name = `${memoryMb}mb-${process.pid}`;
    const group: LambdaCgroup = {
      memoryMb,
      cpu: join(parents('cpu')[0] as string, name),
      memory: join(parents('memory')[0] as string, name),
    };
    this.#mkdir(group.cpu);
    writeFileSync(join(group.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    writeFileSync(join(group.cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUs(memoryMb)));
    this.#mkdir(group.memory);
    writeFileSync(join(group.memory, 'memory.limit_in_bytes'), String(memoryLimitBytes(memoryMb)));
    return group;
  }

  /**
   * Removes every group this run made (the parents too, unless another run still uses them);
   * returns what could not be removed. Kill the groups' processes first: a busy group is waited
   * for up to `waitMs`.
   */
  removeAll(waitMs = 2000): string[] {
    const problems: string[] = [];
    for (const dir of this.#made.splice(0).reverse()) {
      const isParent = dir.endsWith(`/${GROUP_PARENT}`);
      const problem = removeGroup(dir, isParent ? 0 : waitMs);
      if (problem && !isParent) problems.push(problem);
    }
    return problems;
  }
}

/** Before a child starts: memory.max_usage_in_bytes back to the group's current usage (v1 resets on any write). */
export function resetPeak(group: LambdaCgroup): void {
  writeFileSync(join(group.memory, 'memory.max_usage_in_bytes'), '0');
}

/** The group's peak memory since resetPeak(), page cache included. */
export function peakBytes(group: LambdaCgroup): number {
  return Number(readFileSync(join(group.memory, 'memory.max_usage_in_bytes'), 'utf8').trim());
}

/** Processes the OOM killer ended in the group so far (0 on a kernel that does not count them). */
export function oomKills(group: LambdaCgroup): number {
  return parseOomControl(readFileSync(join(group.memory, 'memory.oom_control'), 'utf8')).oomKills ?? 0;
}

/**
 * `command args…` started inside `group`: a shell puts itself into both groups, then becomes the
 * command (exec keeps its pid), so the command is constrained from its first instruction.
 */
export function inGroup(group: LambdaCgroup, command: string, args: readonly string[]): [string, string[]] {
  const script = 'cpu=$1 memory=$2; shift 2; echo $$ > "$cpu" && echo $$ > "$memory" && exec "$@"';
  return [
    '/bin/sh',
    ['-c', script, GROUP_PARENT, join(group.cpu, 'cgroup.procs'), join(group.memory, 'cgroup.procs'), command, ...args],
  ];
}

/**
 * `command args…` started inside the CPU group of `group` only: for a helper whose CPU counts in the
 * function's share (the reader of its stdout) while its memory, and its files' page cache, do not.
 */
export function inCpuGroup(group: LambdaCgroup, command: string, args: readonly string[]): [string, string[]] {
  const script = 'cpu=$1; shift; echo $$ > "$cpu" && exec "$@"';
  return ['/bin/sh', ['-c', script, GROUP_PARENT, join(group.cpu, 'cgroup.procs'), command, ...args]];
}
