/**
 * AWS's own pieces of a Lambda execution environment, built from their published sources so that a
 * minimal root (scripts/lambda/minimal-root.ts) can run a function the way Lambda does:
 *
 * - the Runtime Interface Emulator (RIE), `aws-lambda-rie`: `go install` through the Go module proxy,
 *   with CGO off so that it is one static executable that needs nothing in the root;
 * - the Node.js Runtime Interface Client (RIC), npm `aws-lambda-ric`: its bundled index.mjs and the
 *   native client `rapid-client.node` (aws-lambda-cpp over a minimal curl, both from tarballs inside
 *   the npm package, linked in statically) built with node-gyp against the runtime's Node headers.
 *
 * For arm64 both are cross-built here: RIE with GOARCH=arm64, the RIC's curl, aws-lambda-cpp and
 * addon with Debian's aarch64 cross compilers (toolchain.ts); they run in an arm64 root under QEMU.
 *
 * Nothing comes from GitHub. Cached in .build/tools/, keyed by versions and build options.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BUILD_DIR } from '../package/layout.js';
import { checkNativeFiles } from '../package/native-check.js';
import { assertCommands, run, unpackNpmPackage } from './build-steps.js';
import { emulation, hostArchitecture } from './qemu.js';
import { type Architecture, ensureNodeRuntime, type LambdaRuntime, type NodeRuntime, nodeArch } from './runtimes.js';
import { nodeGypRebuild, toolchain, toolchainEnv } from './toolchain.js';

export const TOOLS_DIR = join(BUILD_DIR, 'tools');

export const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie';
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
export const RIC_VERSION = '4.0.2';
/** The Node-API C++ wrapper the RIC's binding.gyp includes (its package.json asks for ^8.3.1). */
const NODE_ADDON_API_VERSION = '8.9.2';

/** Static (no loader, no libc from the root), without the symbol table and file paths. */
const GO_INSTALL_FLAGS = ['-trimpath', '-ldflags=-s -w'];
/**
 * aws-lambda-cpp finds only what is under the curl just built: it links libdw or libbfd for nicer
 * stack traces when their -dev packages are installed, and Lambda's runtime has neither.
 */
const CMAKE_OPTIONS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DCMAKE_CXX_FLAGS=-fPIC',
  '-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY',
  '-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY',
  '-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY',
];
/** The files of the RIC that Lambda's runtime directory holds. */
const RIC_FILES = ['index.mjs', 'package.json', 'LICENSE', 'NOTICE', 'THIRD-PARTY-LICENSES'];

// Small builds on a shared machine: two jobs are enough.
const JOBS = String(Math.min(2, availableParallelism()));

const recipe = createHash('sha256')
  .update(JSON.stringify({ RIC_VERSION, NODE_ADDON_API_VERSION, CMAKE_OPTIONS, RIC_FILES }))
  .digest('hex')
  .slice(0, 12);

export interface RuntimeInterface {
  /** The static `aws-lambda-rie` executable. */
  rie: string;
  rieVersion: string;
  /** A directory holding the RIC as Lambda's /var/runtime does: index.mjs and rapid-client.node beside it. */
  ric: string;
  ricVersion: string;
  node: NodeRuntime;
}

/** RIE and the RIC built for `runtime`'s Node on `architecture`, built on first use. */
export function ensureRuntimeInterface(
  runtime: LambdaRuntime,
  log: (line: string) => void = () => {},
  architecture: Architecture = 'x86_64',
): RuntimeInterface {
  const node = ensureNodeRuntime(runtime, log, architecture);
  return {
    rie: ensureRie(log, architecture),
    rieVersion: RIE_VERSION,
    ric: ensureRic(node, log),
    ricVersion: RIC_VERSION,
    node,
  };
}

/**
 * `go install` of RIE into .build/tools/bin (GOBIN), its module cache in .build/tools/go. Go refuses
 * GOBIN for another architecture: an arm64 RIE lands in GOPATH/bin/linux_arm64, and is copied to
 * .build/tools/bin/linux_arm64/.
 */
export function ensureRie(log: (line: string) => void = () => {}, architecture: Architecture = 'x86_64'): string {
  const cross = architecture !== hostArchitecture();
  const bin = cross
    ? join(TOOLS_DIR, 'bin', `linux_${nodeArch(architecture)}`, 'aws-lambda-rie')
    : join(TOOLS_DIR, 'bin', 'aws-lambda-rie');
  const stamp = `${bin}.version`;
  const want = `${RIE_MODULE}@${RIE_VERSION} ${GO_INSTALL_FLAGS.join(' ')}`;
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return bin;

  assertCommands(
    { go: 'Go 1.21 or newer, e.g. apt-get install golang-go; it fetches the Go 1.26 toolchain RIE needs' },
    'Building the Lambda Runtime Interface Emulator',
  );
  log(`Building ${RIE_MODULE}@${RIE_VERSION} for ${architecture} with go install (Go module proxy), first run only.`);
  mkdirSync(join(bin, '..'), { recursive: true });
  run('go', ['install', ...GO_INSTALL_FLAGS, `${RIE_MODULE}@${RIE_VERSION}`], {
    cwd: TOOLS_DIR,
    what: `go install of aws-lambda-rie for ${architecture}`,
    env: {
      ...process.env,
      CGO_ENABLED: '0',
      ...(cross ? { GOOS: 'linux', GOARCH: nodeArch(architecture) } : { GOBIN: join(TOOLS_DIR, 'bin') }),
      GOPATH: join(TOOLS_DIR, 'go'),
      // A writable module cache, so that rm -rf .build works.
      GOFLAGS: '-modcacherw',
    },
  });
  if (cross) cpSync(join(TOOLS_DIR, 'go', 'bin', `linux_${nodeArch(architecture)}`, 'aws-lambda-rie'), bin);
  // A dynamically linked RIE would look for a loader and a libc the root may not have.
  if (/program interpreter/.test(run('readelf', ['-lW', bin], { cwd: TOOLS_DIR, what: 'reading aws-lambda-rie' }))) {
    throw new Error(`${bin} is dynamically linked although CGO_ENABLED=0: delete it and check the go environment.`);
  }
  writeFileSync(stamp, `${want}\n`);
  return bin;
}

/** The RIC's ./configure options for curl, read from its own preinstall script so they follow its version. */
function curlConfigureOptions(preinstall: string): string[] {
  const script = readFileSync(preinstall, 'utf8');
  const block = /\.\/configure \\\n((?:[^\n]*\\\n)*[^\n]*)/.exec(script)?.[1];
  const options = (block ?? '').split(/[\s\\]+/).filter((word) => word.startsWith('--') && word !== '--prefix');
  if (options.length < 10)
    throw new Error(`${preinstall}: found no curl ./configure options; the RIC changed its build`);
  return options;
}

/**
 * curl and aws-lambda-cpp from the tarballs in the RIC package, built as its preinstall script does
 * (same curl options) into a prefix: static archives and headers. Independent of Node, built once.
 */
function ensureRicDependencies(log: (line: string) => void, architecture: Architecture): string {
  const tools = toolchain(architecture);
  const target = tools.prefix ? `-${nodeArch(architecture)}` : '';
  const dir = join(TOOLS_DIR, 'ric', `aws-lambda-ric-${RIC_VERSION}-deps${target}-${recipe}`);
  if (existsSync(join(dir, 'prefix', 'lib', 'libaws-lambda-runtime.a'))) return dir;

  assertCommands(
    {
      gcc: 'apt-get install gcc',
      'g++': 'apt-get install g++',
      make: 'apt-get install make',
      cmake: 'apt-get install cmake',
      xz: 'apt-get install xz-utils',
      python3: 'node-gyp needs it: apt-get install python3',
      strip: 'apt-get install binutils',
    },
    `Building aws-lambda-ric ${RIC_VERSION} (its native client, with curl and aws-lambda-cpp)`,
  );
  mkdirSync(join(TOOLS_DIR, 'ric'), { recursive: true });
  const work = `${dir}.work`;
  rmSync(work, { recursive: true, force: true });
  const pkg = join(work, 'package');
  log(
    `Building aws-lambda-ric ${RIC_VERSION}'s native dependencies (curl, aws-lambda-cpp) for ${architecture}, first run only.`,
  );
  const env = { ...process.env, ...toolchainEnv(tools) };
  const host = tools.prefix ? [`--host=${tools.prefix.slice(0, -1)}`] : [];
  const cmakeCross = tools.prefix
    ? [
        '-DCMAKE_SYSTEM_NAME=Linux',
        `-DCMAKE_SYSTEM_PROCESSOR=${tools.prefix.split('-')[0]}`,
        `-DCMAKE_C_COMPILER=${tools.prefix}gcc`,
        `-DCMAKE_CXX_COMPILER=${tools.prefix}g++`,
      ]
    : [];
  unpackNpmPackage(`aws-lambda-ric@${RIC_VERSION}`, pkg);
  unpackNpmPackage(`node-addon-api@${NODE_ADDON_API_VERSION}`, join(work, 'node_modules', 'node-addon-api'));
  const prefix = join(work, 'prefix');
  const extract = (archive: string, to: string) => {
    mkdirSync(to, { recursive: true });
    run('tar', ['-xJf', join(pkg, 'deps', archive), '--no-same-owner', '-C', to], {
      cwd: to,
      what: `unpacking ${archive}`,
    });
  };

  extract('curl.tar.xz', join(work, 'curl'));
  log('  curl: configure and make (about a minute on two cores)');
  const curl = { cwd: join(work, 'curl'), env, what: `building curl for aws-lambda-ric (${architecture})` };
  const options = curlConfigureOptions(join(pkg, 'scripts', 'preinstall.sh'));
  run('./configure', [`--prefix=${prefix}`, ...host, ...options], curl);
  run('make', ['-j', JOBS], curl);
  run('make', ['install'], curl);

  extract('aws-lambda-cpp.tar.xz', join(work, 'aws-lambda-cpp'));
  log('  aws-lambda-cpp: cmake and make');
  const build = join(work, 'aws-lambda-cpp', 'build');
  mkdirSync(build);
  const cpp = { cwd: build, env, what: `building aws-lambda-cpp for aws-lambda-ric (${architecture})` };
  const configured = run(
    'cmake',
    ['..', `-DCMAKE_INSTALL_PREFIX=${prefix}`, `-DCMAKE_FIND_ROOT_PATH=${prefix}`, ...CMAKE_OPTIONS, ...cmakeCross],
    cpp,
  );
  if (/Enhanced stack-traces are enabled/.test(configured)) {
    throw new Error(`aws-lambda-cpp found libdw or libbfd outside ${prefix}; it must not link them:\n${configured}`);
  }
  run('make', ['-j', JOBS], cpp);
  run('make', ['install'], cpp);

  const staged = join(work, 'staged');
  mkdirSync(staged);
  for (const keep of ['package', 'prefix', 'node_modules']) renameSync(join(work, keep), join(staged, keep));
  rmSync(join(staged, 'package', 'deps'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(work, { recursive: true, force: true });
  return dir;
}

/** The RIC with its native client built for `node`'s major: a directory to copy into /var/runtime. */
export function ensureRic(node: NodeRuntime, log: (line: string) => void = () => {}): string {
  const { architecture } = node;
  const tools = toolchain(architecture);
  const dir = join(
    TOOLS_DIR,
    'ric',
    `aws-lambda-ric-${RIC_VERSION}-node${node.major}-${nodeArch(architecture)}-${recipe}`,
  );
  const stamp = join(dir, 'ric.json');
  if (existsSync(stamp)) return dir;

  const deps = ensureRicDependencies(log, architecture);
  log(`  aws-lambda-ric ${RIC_VERSION}: rapid-client.node for Node.js ${node.version} on ${architecture} (node-gyp)`);
  const work = `${dir}.work`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(join(deps, 'package', 'src', 'native'), join(work, 'native'), { recursive: true });
  // binding.gyp reads DEPS_PREFIX for the static archives and asks node for node-addon-api's paths.
  const gyp = nodeGypRebuild(node, JOBS, { DEPS_PREFIX: join(deps, 'prefix'), NODE_PATH: join(deps, 'node_modules') });
  run(gyp.command, gyp.args, {
    cwd: join(work, 'native'),
    what: `building aws-lambda-ric's rapid-client.node for Node.js ${node.version} on ${architecture}`,
    env: gyp.env,
  });

  const staged = join(work, 'staged');
  mkdirSync(staged);
  for (const file of RIC_FILES) cpSync(join(deps, 'package', file), join(staged, file));
  const addon = join(staged, 'rapid-client.node');
  cpSync(join(work, 'native', 'build', 'Release', 'rapid-client.node'), addon);
  run(`${tools.prefix}strip`, ['--strip-unneeded', addon], { cwd: staged, what: 'stripping rapid-client.node' });

  const { problems } = checkNativeFiles(staged, architecture);
  if (problems.length > 0) {
    throw new Error(
      `aws-lambda-ric's native client would not load on Lambda:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`,
    );
  }
  // It must load in the Node it was built for. Loading it creates the client from AWS_LAMBDA_RUNTIME_API
  // (a null pointer without it), connecting nothing yet.
  const runner = [...emulation(architecture), node.bin];
  const probe = run(
    runner[0] as string,
    [...runner.slice(1), '-p', `Object.keys(require(${JSON.stringify(addon)})).sort().join()`],
    {
      cwd: staged,
      what: `loading rapid-client.node in Node.js ${node.version}`,
      env: { PATH: process.env.PATH, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' },
    },
  ).trim();
  if (probe !== 'done,error,next') throw new Error(`rapid-client.node exports ${probe}, not done, error and next`);
  writeFileSync(join(staged, 'ric.json'), `${JSON.stringify({ version: RIC_VERSION, node: node.version }, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(work, { recursive: true, force: true });
  log(`  ready: ${dir}`);
  return dir;
}
