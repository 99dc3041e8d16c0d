/** The shapes scenario's pure parts: Lambda's CPU share per memory size, --memory, oom_control, log levels, the tables. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inCpuGroup, inGroup } from '../../scripts/bench/cgroups.js';
import {
  cpuQuotaUs,
  describeCpuShare,
  MemorySizeError,
  memoryLimitBytes,
  parseMemorySizes,
  parseOomControl,
} from '../../scripts/bench/lambda-shape.js';
import { type ChildOutcome, isWarnOrError, startReader } from '../../scripts/bench/shape-run.js';
import { renderRatios, renderShapeTable, type ShapeSamples } from '../../scripts/bench/shapes-report.js';

describe("a Lambda function's CPU share", () => {
  it('is one full core of every 100 ms period at 1769 MB', () => {
    expect(cpuQuotaUs(1769)).toBe(100_000);
  });

  it('is in proportion to memory below and above it, rounded to a microsecond', () => {
    expect(cpuQuotaUs(128)).toBe(7236);
    expect(cpuQuotaUs(512)).toBe(28_943);
    expect(cpuQuotaUs(3538)).toBe(200_000);
  });

  it('reads as a share of one core below one core, as cores above', () => {
    expect(describeCpuShare(128)).toBe('7.2 % of one core');
    expect(describeCpuShare(10_240)).toBe('5.79 cores');
  });

  it('comes with a memory limit of the same number of MiB', () => {
    expect(memoryLimitBytes(128)).toBe(134_217_728);
  });
});

describe('--memory', () => {
  it('takes a comma list of whole MB, ascending and each once', () => {
    expect(parseMemorySizes('1769, 128,512,128')).toEqual([128, 512, 1769]);
    expect(parseMemorySizes('10240')).toEqual([10_240]);
  });

  it('names every value outside Lambda’s range of 128 to 10240 MB, or not a whole number', () => {
    expect(() => parseMemorySizes('64,512,1.5,,abc,20000')).toThrow(MemorySizeError);
    expect(() => parseMemorySizes('64,512,1.5,,abc,20000')).toThrow(
      /^--memory: "64", "1\.5", "", "abc", "20000" are not whole numbers of MB between 128 and 10240/,
    );
    expect(() => parseMemorySizes('127')).toThrow(/"127" is not a whole number of MB between 128 and 10240/);
  });
});

describe('memory.oom_control', () => {
  it("counts the group's OOM kills", () => {
    expect(parseOomControl('oom_kill_disable 0\nunder_oom 1\noom_kill 2\n')).toEqual({
      oomKillDisable: false,
      underOom: true,
      oomKills: 2,
    });
  });

  it('has no count on a kernel older than 4.13', () => {
    expect(parseOomControl('oom_kill_disable 1\nunder_oom 0\n').oomKills).toBeUndefined();
  });
});

describe('the shell that starts a child inside its groups', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-cgroup-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('writes the pid of the command it becomes into both groups, and passes the arguments through unchanged', () => {
    // Prepare: plain files stand in for the two cgroup.procs.
    const group = { memoryMb: 128, cpu: join(scratch, 'cpu'), memory: join(scratch, 'memory') };
    for (const dir of [group.cpu, group.memory]) execFileSync('mkdir', ['-p', dir]);
    for (const dir of [group.cpu, group.memory]) writeFileSync(join(dir, 'cgroup.procs'), '');

    // Act
    const [command, args] = inGroup(group, '/bin/sh', ['-c', 'echo "$$ $1"', 'sh', "it's $HOME"]);
    const printed = execFileSync(command, args, { encoding: 'utf8' }).trim();

    // Assess
    const [pid, ...rest] = printed.split(' ');
    expect(rest.join(' ')).toBe("it's $HOME");
    expect(readFileSync(join(group.cpu, 'cgroup.procs'), 'utf8').trim()).toBe(pid);
    expect(readFileSync(join(group.memory, 'cgroup.procs'), 'utf8').trim()).toBe(pid);
  });

  it("puts a helper into the CPU group only, so that its memory and its files' pages are not the function's", () => {
    // Prepare
    const group = { memoryMb: 128, cpu: join(scratch, 'cpu-only'), memory: join(scratch, 'memory-untouched') };
    for (const dir of [group.cpu, group.memory]) execFileSync('mkdir', ['-p', dir]);
    for (const dir of [group.cpu, group.memory]) writeFileSync(join(dir, 'cgroup.procs'), '');

    // Act
    const [command, args] = inCpuGroup(group, '/bin/sh', ['-c', 'echo "$$"']);
    const pid = execFileSync(command, args, { encoding: 'utf8' }).trim();

    // Assess
    expect(readFileSync(join(group.cpu, 'cgroup.procs'), 'utf8').trim()).toBe(pid);
    expect(readFileSync(join(group.memory, 'cgroup.procs'), 'utf8')).toBe('');
  });
});

describe("the reader of a shape child's stdout", () => {
  it('has every line the child wrote once the child has ended, and nothing is left behind', async () => {
    // Prepare: a child writing 10,000 lines (about 100 KB), more than a pipe holds (64 KB), so the reader
    // must keep up as Lambda's does.
    const reader = startReader(undefined);
    const lines = 10_000;

    // Act
    const child = spawn('/bin/sh', ['-c', `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i + 1)); done`], {
      stdio: ['ignore', reader.input, 'ignore'],
    });
    reader.input.destroy();
    await new Promise((resolve) => child.on('close', resolve));
    await reader.done;
    const text = reader.text();

    // Assess
    const written = text.split('\n').filter((line) => line !== '');
    expect(written).toHaveLength(lines);
    expect(written.at(-1)).toBe(`line ${lines - 1}`);
    expect(reader.text()).toBe('');
  });
});

describe('WARN/ERROR lines', () => {
  it("go by Powertools' JSON level where there is one", () => {
    expect(isWarnOrError('{"level":"WARN","message":"Broker down"}')).toBe(true);
    expect(isWarnOrError('{"level":"ERROR","message":"x"}')).toBe(true);
    expect(isWarnOrError('{"level":"INFO","message":"an error was retried"}')).toBe(false);
  });

  it('are plain lines that say warning or error otherwise', () => {
    expect(isWarnOrError('(node:12) Warning: something')).toBe(true);
    expect(isWarnOrError('raw fit-drain: Error: broker transport failure')).toBe(true);
    expect(isWarnOrError('connected')).toBe(false);
  });
});

describe("a shape's table", () => {
  const succeeded = (coldMs: number): ChildOutcome => ({
    coldMs,
    result: {
      warmMs: [1, 2, 3],
      steadyMs: [0.5, 1.5, 1, 4],
      warmCpuMicros: 300,
      batchMessagesPerSecond: 10_000,
      batchCpuMicrosPerMessage: 20,
      vmHwmBytes: 64 * 1024 * 1024,
    },
    peak: { bytes: 64 * 1024 * 1024, from: 'VmHWM' },
    oomKilled: false,
    lines: 10,
    warnErrorLines: 1,
  });
  const killed: ChildOutcome = {
    failure: 'platformatic shape was killed by the OOM killer',
    oomKilled: true,
    peak: { bytes: 128 * 1024 * 1024, from: 'cgroup' },
    lines: 0,
    warnErrorLines: 0,
  };

  const startedCold = (coldMs: number, warmMs = [4, 5, 6]): ChildOutcome => ({
    coldMs,
    result: { warmMs, warmCpuMicros: 100 * (warmMs[1] ?? 0), vmHwmBytes: 60 * 1024 * 1024 },
    oomKilled: false,
    lines: 3,
    warnErrorLines: 0,
  });
  const none = { 'lambda-kafka': [], 'lambda-kafka-linger': [], raw: [], kafkajs: [], platformatic: [] };

  it('has medians of the rounds that succeeded, says how many did, and marks a cgroup peak', () => {
    const shape: ShapeSamples = {
      label: '128 MB',
      heading: '128 MB',
      outcomes: {
        'lambda-kafka': [succeeded(100), succeeded(300), succeeded(200)],
        'lambda-kafka-linger': [succeeded(100)],
        raw: [succeeded(100), killed, succeeded(300)],
        kafkajs: [succeeded(100), succeeded(100), succeeded(100)],
        platformatic: [killed, killed, killed],
      },
      coldOnly: none,
    };

    const rows = renderShapeTable(shape).split('\n').slice(2);

    expect(rows[0]).toBe(
      '| 128 MB | lambda-kafka | 200 (3) | 2.00 | 3.00 | 1.25 | 300 | 10.0k | 20.0 | 64.0 | 0 | 1 of 10 |',
    );
    expect(rows[2]).toMatch(/^\| 128 MB \| raw binding \| 200 \(2\/3\) \| .* \| 64\.0 † \| 1 of 3 \|/);
    expect(rows[4]).toBe(
      '| 128 MB | @platformatic/kafka | failed | failed | failed | failed | failed | failed | failed | 128 † | 3 of 3 | 0 of 0 |',
    );
  });

  it("takes cold starts and warm 1-message figures over the shape's children and the cold-only ones, failed ones counted apart", () => {
    const shape: ShapeSamples = {
      label: '128 MB',
      heading: '128 MB',
      outcomes: { ...none, 'lambda-kafka': [succeeded(100), succeeded(300), succeeded(200)], raw: [succeeded(100)] },
      coldOnly: {
        ...none,
        'lambda-kafka': [startedCold(400, [4, 5, 6]), startedCold(500, [7, 8, 9])],
        raw: [startedCold(90), killed],
      },
    };

    const rows = renderShapeTable(shape).split('\n').slice(2);

    // Cold: the median of 100, 300, 200, 400, 500. Warm p50: of the children's p50s 2, 2, 2, 5, 8; p99:
    // of 3, 3, 3, 6, 9; CPU: of 300, 300, 300, 500, 800. Later p50 and the batches: the shape children's.
    expect(rows[0]).toBe(
      '| 128 MB | lambda-kafka | 300 (5) | 2.00 | 3.00 | 1.25 | 300 | 10.0k | 20.0 | 64.0 | 0 | 1 of 10 |',
    );
    // raw: one shape child (p50 2) and one cold-only (p50 5) succeeded, one was killed.
    expect(rows[2]).toMatch(
      /^\| 128 MB \| raw binding \| 95\.0 \(2\/3\) \| 3\.50 \(2\/3 children\) \| 4\.50 \(2\/3 children\) \| 1\.25 \|/,
    );
    expect(renderRatios([shape])).toContain('| 128 MB | cold ms ↓ | 3.16× |');
  });

  it('gives each ratio an interval over the children where both clients have three or more', () => {
    const shape: ShapeSamples = {
      label: '512 MB',
      heading: '512 MB',
      outcomes: {
        ...none,
        'lambda-kafka': [succeeded(100), succeeded(100), succeeded(100)],
        raw: [succeeded(50), succeeded(50), succeeded(50)],
        kafkajs: [succeeded(100)],
      },
      coldOnly: {
        ...none,
        'lambda-kafka': [startedCold(100, [2, 3, 4]), startedCold(100, [4, 6, 8])],
        raw: [startedCold(50, [2, 2, 2]), startedCold(50, [2, 2, 2])],
      },
    };

    const rows = renderRatios([shape]).split('\n');

    // Warm p50: lambda-kafka's children 2, 2, 2, 3, 6 against the raw binding's 2 × 5. A resample's
    // median is 2 in 68 % of them and 6 (three draws of five are the 6) in 5.8 %: the central 95 % is
    // 1 to 3. Cold: every child the same, so the interval is the ratio itself. KafkaJS has one child:
    // its ratios have no interval.
    expect(rows).toContain('| 512 MB | warm p50 ms ↓ | 1.00× (1.00–3.00) | 1.00× | — |');
    expect(rows).toContain('| 512 MB | cold ms ↓ | 2.00× (2.00–2.00) | 1.00× | — |');
  });
});
