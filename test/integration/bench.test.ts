/** `npm run bench`'s harness, quick and on one scenario: it runs the clients and prints its tables. Nothing is timed here. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { remainingBenchGroups, unavailableBecause } from '../../scripts/bench/cgroups.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'scripts/bench/cli.ts'), ...args],
      { cwd: REPO_ROOT, timeout: 150_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run bench', () => {
  it('with --quick --only latency prints a markdown table with a figure for each of the three clients, and the machine', async () => {
    // Act
    const run = await bench('--quick', '--only', 'latency');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const header = lines.find((line) => line.startsWith('| measurement |'));
    expect(header).toContain('| lambda-kafka | raw binding | KafkaJS |');
    const rows = lines.filter((line) => line.startsWith('| 1-message invocation'));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const [, , , lambdaKafka, raw, kafkajs] = row.split('|').map((cell) => cell.trim());
      for (const figure of [lambdaKafka, raw, kafkajs]) expect(figure).toMatch(/^\d/);
    }
    const untraced = lines.find((line) => line.startsWith('| the same, KAFKA_TRACING=false, p50 |'));
    expect(untraced?.split('|')[3]?.trim()).toMatch(/^\d/);
    expect(run.stdout).toMatch(
      /Tracing with no OpenTelemetry SDK registered .*: p50 [\d.]+ ms against [\d.]+ ms with KAFKA_TRACING=false/,
    );
    expect(run.stdout).toMatch(/^Machine: .+ cores; load average/m);
    expect(run.stdout).toMatch(/librdkafka 2\.\d+/);
    // lambda-kafka's own output went to the sink, not into the report.
    expect(run.stdout).not.toContain('"_aws"');
  });

  it('with --quick --memory 512 --no-fit prints a row of figures per client for 512 MB and full, and leaves no cgroup behind', async () => {
    // Prepare: without cgroups (not root, cgroup v2 only) the run has "full" alone and says why.
    const unavailable = unavailableBecause();

    // Act
    const run = await bench('--quick', '--memory', '512', '--no-fit');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const shapes = unavailable ? ['full'] : ['512 MB', 'full'];
    for (const shape of shapes) {
      for (const client of [
        'lambda-kafka',
        'lambda-kafka, KAFKA_PRODUCE_LINGER_MS=5',
        'raw binding',
        'KafkaJS',
        '@platformatic/kafka',
      ]) {
        const row = lines.find((line) => line.startsWith(`| ${shape} | ${client} |`));
        expect(row, `${shape} ${client}\n${run.stdout}`).toBeDefined();
        // cold (over how many children: one each in a quick run), warm p50, warm p99, later p50, CPU per
        // invocation, 500/inv msg/s and CPU: all measured.
        const [cold, ...figures] = (row as string)
          .split('|')
          .map((cell) => cell.trim())
          .slice(3, 10);
        expect(cold, `${shape} ${client}: ${row}`).toMatch(/^\d[\d.]*k? \(1\)$/);
        for (const figure of figures) expect(figure, `${shape} ${client}: ${row}`).toMatch(/^\d[\d.]*k?$/);
      }
    }
    if (unavailable) expect(run.stdout).toContain(`only "full": ${unavailable}`);
    // The ratios: lambda-kafka over each of the three peers.
    expect(run.stdout).toMatch(/^\| full \| cold ms ↓ \| \d+\.\d\d× \| \d+\.\d\d× \| \d+\.\d\d× \|$/m);
    expect(run.stdout).toMatch(/^Shapes: children on Node v22\.\d+\.\d+ .*; @platformatic\/kafka 2\.\d+/m);
    expect(remainingBenchGroups()).toEqual([]);
  }, 180_000);
});
