/**
 * The deployment zip for the tests that run it: one writer at a time (test files run in parallel and
 * the zip is rewritten in place), rebuilt only when an input is newer than it.
 */
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { withLock } from '../../scripts/kafka/lock.js';
import type { Architecture, LambdaRuntime } from '../../scripts/lambda/runtimes.js';
import { PACKAGE_DIR, packageZip } from '../../scripts/package/layout.js';
import { buildPackage } from '../../scripts/package/package.js';

/** What the zip is built from. */
const INPUTS = ['src', 'handlers', 'scripts/package', 'esbuild.config.mjs', 'package-lock.json'];

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

/** Holds the packaging lock while `work` runs: nothing rewrites a zip under a reader that took it. */
export async function withPackageLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(PACKAGE_DIR, { recursive: true });
  return withLock(join(PACKAGE_DIR, '.lock'), work);
}

/**
 * A copy in `dir` of the zip for `runtime` and `architecture`, built (`buildPackage`, what `npm run package` runs
 * before the template) if it is missing or older than its inputs. Returns the copy's path.
 */
export async function freshPackageZip(
  runtime: LambdaRuntime,
  dir: string,
  architecture: Architecture = 'x86_64',
): Promise<string> {
  return withPackageLock(async () => {
    const zip = packageZip(runtime, architecture);
    const built = statSync(zip, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (built < Math.max(...INPUTS.map((input) => newestMtime(join(REPO_ROOT, input))))) {
      await buildPackage(runtime, () => {}, architecture);
    }
    const copy = join(dir, basename(zip));
    copyFileSync(zip, copy);
    return copy;
  });
}
