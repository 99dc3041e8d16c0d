/**
 * Lambda's resource shapes, as the shapes scenario reproduces them: a function of M MB gets M MB of
 * memory and CPU in proportion to it, one full vCPU at 1769 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). These are the pure
 * parts: the CFS quota for M, the --memory list, and memory.oom_control (cgroups.ts applies them).
 */

/** The memory size at which a function has one full vCPU. */
export const ONE_VCPU_MB = 1769;
/** The CFS period every shape uses: its quota is the share of this period the group may run. */
export const CFS_PERIOD_US = 100_000;
/** Lambda's range of memory sizes, in MB. */
export const MEMORY_RANGE_MB = { min: 128, max: 10_240 } as const;
/** `--only shapes` without `--memory`: the smallest size, a common one, and one full vCPU. */
export const DEFAULT_MEMORY_SIZES: readonly number[] = [128, 512, ONE_VCPU_MB];

/** cpu.cfs_quota_us for a function of `memoryMb`: 128 MB → 7236 µs of every 100 ms (7.2 % of one core). */
export function cpuQuotaUs(memoryMb: number): number {
  return Math.round((CFS_PERIOD_US * memoryMb) / ONE_VCPU_MB);
}

/** memory.limit_in_bytes for a function of `memoryMb` (Lambda's MB are MiB). */
export function memoryLimitBytes(memoryMb: number): number {
  return memoryMb * 1024 * 1024;
}

/** "7.2 % of one core", "1.45 cores": what the quota gives, for the report's notes. */
export function describeCpuShare(memoryMb: number): string {
  const cores = cpuQuotaUs(memoryMb) / CFS_PERIOD_US;
  return cores < 1 ? `${(cores * 100).toFixed(1)} % of one core` : `${cores.toFixed(2)} cores`;
}

export class MemorySizeError extends Error {
  override name = 'MemorySizeError';
}

/**
 * `--memory 128,512,1769`: whole numbers of MB within Lambda's range, ascending, each once.
 * Throws naming every value that is not one.
 */
export function parseMemorySizes(text: string): number[] {
  const items = text.split(',').map((item) => item.trim());
  const bad = items.filter((item) => {
    if (!/^\d+$/.test(item)) return true;
    const value = Number(item);
    return value < MEMORY_RANGE_MB.min || value > MEMORY_RANGE_MB.max;
  });
  if (bad.length > 0) {
    throw new MemorySizeError(
      `--memory: ${bad.map((item) => JSON.stringify(item)).join(', ')} ${bad.length === 1 ? 'is not a' : 'are not'} whole number${bad.length === 1 ? '' : 's'} of MB between ${MEMORY_RANGE_MB.min} and ${MEMORY_RANGE_MB.max} (Lambda's range); give a comma list such as 128,512,1769`,
    );
  }
  return [...new Set(items.map(Number))].sort((a, b) => a - b);
}

/** memory.oom_control of cgroup v1 (`oom_kill_disable 0`, `under_oom 0`, `oom_kill 3`; oom_kill since Linux 4.13). */
export interface OomControl {
  oomKillDisable: boolean;
  underOom: boolean;
  /** Processes of the group the OOM killer ended; undefined on a kernel that does not count them. */
  oomKills: number | undefined;
}

export function parseOomControl(text: string): OomControl {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s+(\d+)$/.exec(line.trim());
    if (match) fields.set(match[1] as string, Number(match[2]));
  }
  return {
    oomKillDisable: fields.get('oom_kill_disable') === 1,
    underOom: fields.get('under_oom') === 1,
    oomKills: fields.get('oom_kill'),
  };
}
