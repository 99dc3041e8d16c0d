/**
 * The deployment package for one Lambda runtime: the handler bundles and the binding built for that
 * runtime's Node major, staged, checked and zipped.
 *
 *   1. the binding for the runtime (scripts/package/binding.ts; cached in .build/binding/)
 *   2. the bundles (esbuild.config.mjs), for the same Node major
 *   3. staged in .build/package/<runtime>/: only the files a function loads
 *   4. refused unless every native file needs nothing Lambda lacks (native-check.ts)
 *   5. each bundle imported from the staged tree by the runtime's own Node, with no other module path
 *   6. zipped reproducibly into .build/package/lambda-kafka-<runtime>.zip
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleHandlers, bundleSigner, HANDLERS } from '../../esbuild.config.mjs';
import { assertBindingFits, BINDING_PACKAGE, checkImport } from '../../src/esbuild.js';
import { emulation } from '../lambda/qemu.js';
import { type Architecture, ensureNodeRuntime, type LambdaRuntime, type NodeRuntime } from '../lambda/runtimes.js';
import { ensureLambdaBinding, type LambdaBinding, NATIVE_DIR } from './binding.js';
import { PACKAGE_DIR, packageName, packageZip } from './layout.js';
import { assertDeployable, type NativeFile } from './native-check.js';

/** One fixed time for every entry, so the same inputs give the same zip (and the same CodeSha256). */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

export interface BuiltPackage {
  runtime: LambdaRuntime;
  architecture: Architecture;
  node: NodeRuntime;
  binding: LambdaBinding;
  staged: string;
  zip: string;
  zipBytes: number;
  nativeFiles: (NativeFile & { bytes: number })[];
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/**
 * Imports every bundle from the staged tree with the runtime's Node and nothing else on the module
 * path; another architecture's Node runs under QEMU (a wrapper script, since checkImport takes one
 * executable), with the host's multiarch glibc: the minimal root's test is the one without them.
 */
function assertBundlesLoad(staged: string, node: NodeRuntime): void {
  const runner = emulation(node.architecture);
  let bin = node.bin;
  if (runner.length > 0) {
    bin = join(staged, '..', `.node-${packageName(node.runtime, node.architecture)}.sh`);
    writeFileSync(bin, `#!/bin/sh\nexec ${runner.join(' ')} ${node.bin} "$@"\n`, { mode: 0o755 });
  }
  try {
    for (const name of HANDLERS) checkImport(staged, `dist/${name}/index.mjs`, bin);
  } finally {
    if (bin !== node.bin) rmSync(bin, { force: true });
  }
}

/** A zip with sorted entries, fixed times and world-readable files (Lambda runs the code as another user). */
function zipTree(dir: string, zip: string): void {
  const files = [...walk(dir)].map((file) => relative(dir, file)).sort();
  for (const file of files) {
    chmodSync(join(dir, file), 0o644);
    utimesSync(join(dir, file), FIXED_MTIME, FIXED_MTIME);
  }
  rmSync(zip, { force: true });
  try {
    execFileSync('zip', ['-X', '-D', '-q', '-9', zip, '-@'], { cwd: dir, input: files.join('\n'), stdio: 'pipe' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('zip is not installed: apt-get install zip (it writes the deployment package).');
    }
    throw error;
  }
}

export async function buildPackage(
  runtime: LambdaRuntime,
  log: (line: string) => void = console.log,
  architecture: Architecture = 'x86_64',
): Promise<BuiltPackage> {
  const node = ensureNodeRuntime(runtime, log, architecture);
  const binding = ensureLambdaBinding(node, log);

  const staged = join(PACKAGE_DIR, packageName(runtime, architecture));
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(staged, { recursive: true });
  await bundleHandlers({ nodeMajor: node.major, outdir: join(staged, 'dist') });
  cpSync(join(binding.dir, 'node_modules'), join(staged, 'node_modules'), { recursive: true });
  // serverless.yml offers AWS_MSK_IAM (mskClusterArn): the functions load the signer only then.
  await bundleSigner({ nodeMajor: node.major, nodeModules: join(staged, 'node_modules') });

  const native = assertDeployable(staged, `Lambda ${runtime} (Amazon Linux 2023, ${architecture})`, architecture);
  // The check users get from lambda-kafka/esbuild, on the package as staged: architecture, glibc, Node ABI.
  assertBindingFits(join(staged, 'node_modules', BINDING_PACKAGE), { architecture, nodeMajor: node.major });
  assertBundlesLoad(staged, node);

  const zip = packageZip(runtime, architecture);
  zipTree(staged, zip);
  return {
    runtime,
    architecture,
    node,
    binding,
    staged,
    zip,
    zipBytes: statSync(zip).size,
    nativeFiles: native.map((file) => ({ ...file, bytes: statSync(join(staged, file.path)).size })),
  };
}

export function describePackage(built: BuiltPackage): string[] {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return [
    `${relative(process.cwd(), built.zip)}: ${mb(built.zipBytes)} for ${built.runtime} (Node.js ${built.node.version}, ${built.architecture})`,
    `  binding ${built.binding.version}, librdkafka ${built.binding.librdkafkaVersion} (${built.binding.features.join(',')})`,
    ...built.nativeFiles.map(
      (file) =>
        `  ${file.path.startsWith(NATIVE_DIR) ? file.path.slice(NATIVE_DIR.length + 1) : file.path}: ${mb(file.bytes)}, needs ${file.needed.join(' ')}`,
    ),
    '  every native file needs only glibc ≤ 2.34, libstdc++, libgcc_s, libm or a library in the package',
  ];
}
