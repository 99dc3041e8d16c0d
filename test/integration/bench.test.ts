/** `npm run bench`'s harness, quick and on one scenario: it runs the three clients and prints its table. Nothing is timed here. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'scripts/bench/cli.ts'), ...args],
      { cwd: REPO_ROOT, timeout: 120_000 },
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
    expect(run.stdout).toMatch(/^Machine: .+ cores; load average/m);
    expect(run.stdout).toMatch(/librdkafka 2\.\d+/);
    // lambda-kafka's own output went to the sink, not into the report.
    expect(run.stdout).not.toContain('"_aws"');
  });
});
