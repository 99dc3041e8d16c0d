/**
 * npm run package [-- --param=runtime=nodejs24.x] [--param=architecture=arm64] [any other `serverless package` option]
 *
 * Builds the deployment package for the runtime and architecture serverless.yml selects (params
 * `runtime`, default nodejs22.x, and `architecture`, default x86_64), checks it, and runs
 * `serverless package`, whose template points at that zip.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../kafka/layout.js';
import { assertArchitecture, assertLambdaRuntime } from '../lambda/runtimes.js';
import { buildPackage, describePackage } from './package.js';

const SERVERLESS = join(REPO_ROOT, 'node_modules', '.bin', 'serverless');

function serverless(args: string[], capture: boolean): string {
  return execFileSync(SERVERLESS, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // serverless.yml is the one place the runtime is chosen; ask it, with the caller's options applied.
  const runtime = assertLambdaRuntime(
    serverless(['print', '--path', 'provider.runtime', '--format', 'text', ...args], true).trim(),
    'serverless.yml provider.runtime (param runtime)',
  );
  const architecture = assertArchitecture(
    serverless(['print', '--path', 'provider.architecture', '--format', 'text', ...args], true).trim(),
    'serverless.yml provider.architecture (param architecture)',
  );
  const built = await buildPackage(runtime, console.log, architecture);
  serverless(['package', ...args], false);
  for (const line of describePackage(built)) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
