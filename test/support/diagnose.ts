/** `lambda-kafka diagnose` from the repository, on the host, as a user runs it. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { uniqueName } from './kafka.js';

/** Runs diagnose with `env` in an --env-file written to `dir`; resolves with its exit code and output. */
export function runDiagnose(
  env: Record<string, string>,
  dir: string,
  args: string[] = [],
): Promise<{ code: number; output: string }> {
  const file = join(dir, `${uniqueName('env')}.env`);
  writeFileSync(
    file,
    Object.entries(env)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join('\n'),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/lambda-kafka.mjs'), 'diagnose', '--env-file', file, ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}
