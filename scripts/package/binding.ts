/**
 * The binding as Lambda loads it: `@confluentinc/kafka-javascript` built from its npm tarball for
 * one Node major, with librdkafka's dependencies linked in statically, so that the `.node` file
 * and the two librdkafka libraries beside it need nothing from the system but glibc, libstdc++,
 * libgcc_s and libm (what every Lambda runtime has).
 *
 * Why a build of our own: the binding's source build links the build machine's shared OpenSSL,
 * zstd, lz4, Cyrus SASL and curl (CKJS_LINKING=dynamic), which Lambda does not have; its static
 * build downloads their sources, which an offline CI cannot. Here librdkafka's own configure
 * links the static archives the system's -dev packages ship (libssl.a, libcrypto.a, libz.a,
 * libzstd.a), uses its built-in lz4, and leaves out GSSAPI (Cyrus SASL, Kerberos only) and curl
 * (OIDC token fetching only): PLAIN, SCRAM and OAUTHBEARER with a token callback (MSK IAM) remain.
 *
 * Built once per (binding version, Node major, this recipe) into .build/binding/.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BINDING_PACKAGE,
  copyModule as copyRuntimeFiles,
  RUNTIME_FILES as USER_RUNTIME_FILES,
} from '../../src/esbuild.js';
import { REPO_ROOT } from '../kafka/layout.js';
import { emulation } from '../lambda/qemu.js';
import { type Architecture, type NodeRuntime, nodeArch } from '../lambda/runtimes.js';
import { nodeGypRebuild, toolchain, toolchainEnv } from '../lambda/toolchain.js';
import { BINDINGS_DIR } from './layout.js';

export { BINDING_PACKAGE };

/** librdkafka's configure: static dependencies from the system, nothing downloaded. */
const LIBRDKAFKA_CONFIGURE = [
  '--enable-static',
  '--disable-lz4-ext',
  '--disable-gssapi',
  '--disable-curl',
  '--enable-strip',
];

/** The static archives librdkafka links in, and the Debian/Ubuntu package that ships each. */
const STATIC_ARCHIVES: Record<string, string> = {
  'libssl.a': 'libssl-dev',
  'libcrypto.a': 'libssl-dev',
  'libz.a': 'zlib1g-dev',
  'libzstd.a': 'libzstd-dev',
};

/**
 * What goes into the package from each module: the files Node loads, and the licences (the rule the
 * library's users get from `lambda-kafka/esbuild`). build/Release is assembled here, from the build.
 */
const RUNTIME_FILES: Record<string, (file: string) => boolean> = Object.fromEntries(
  Object.entries(USER_RUNTIME_FILES).map(([name, keep]) => [
    name,
    (file: string) => !file.startsWith('build/') && keep(file),
  ]),
);

const JOBS = String(Math.max(1, availableParallelism()));

export const NATIVE_DIR = `node_modules/${BINDING_PACKAGE}/build/Release`;

export interface LambdaBinding {
  /** A directory holding node_modules/ with the binding and the two modules that load it. */
  dir: string;
  version: string;
  nodeMajor: number;
  architecture: Architecture;
  librdkafkaVersion: string;
  features: string[];
}

function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no ${name}: run npm install`);
  return version;
}

/** This file and the toolchain's settings: a change to either builds the bindings again. */
function recipeHash(): string {
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(readFileSync(fileURLToPath(new URL('../lambda/toolchain.ts', import.meta.url))));
  return hash.digest('hex').slice(0, 12);
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; what: string }) {
  try {
    execFileSync(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    const output = `${(error as { stdout?: Buffer }).stdout ?? ''}${(error as { stderr?: Buffer }).stderr ?? ''}`;
    const tail = output.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${options.what} failed (${command} ${args.join(' ')}):\n${tail}`, { cause: error });
  }
}

/** Every tool and archive the build needs, checked before it starts: one error naming all that is missing. */
function checkPrerequisites(architecture: Architecture): void {
  const tools = toolchain(architecture);
  const gcc = `${tools.prefix}gcc`;
  const missing: string[] = [];
  const packages = new Set<string>(tools.compilers);
  for (const tool of [gcc, `${tools.prefix}g++`, 'make', 'python3', `${tools.prefix}strip`, 'tar', 'npm']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      missing.push(`the command ${tool}`);
    }
  }
  if (!missing.includes(`the command ${gcc}`)) {
    for (const [archive, pkg] of Object.entries(STATIC_ARCHIVES)) {
      const path = execFileSync(gcc, [`-print-file-name=${archive}`], { encoding: 'utf8' }).trim();
      if (!path.startsWith('/') || !existsSync(path)) {
        missing.push(`${archive} for ${architecture}`);
        packages.add(`${pkg}${tools.multiarch}`);
      }
    }
  }
  if (missing.length === 0) return;
  const multiarch = tools.multiarch ? `dpkg --add-architecture ${tools.multiarch.slice(1)} && apt-get update && ` : '';
  const apt = packages.size > 0 ? ` On Debian/Ubuntu: ${multiarch}apt-get install ${[...packages].join(' ')}.` : '';
  throw new Error(
    `Building the Lambda binding for ${architecture} needs ${missing.join(', ')}, which this machine lacks.${apt} ` +
      '(gcc, g++, make and python3 build the addon; the static archives of OpenSSL, zlib and zstd are linked into librdkafka.)',
  );
}

function copyModule(name: string, from: string, to: string): void {
  copyRuntimeFiles(name, from, to, RUNTIME_FILES[name]);
}

/** The published package unpacked into `into` (from npm's cache when offline): a pristine build tree. */
function unpackBinding(version: string, into: string): void {
  mkdirSync(into, { recursive: true });
  const scratch = mkdtempSync(join(BINDINGS_DIR, '.pack-'));
  try {
    run('npm', ['pack', `${BINDING_PACKAGE}@${version}`, '--pack-destination', scratch, '--silent'], {
      cwd: scratch,
      what: `fetching ${BINDING_PACKAGE}@${version} from the npm registry`,
    });
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz')) as string;
    run('tar', ['-xzf', join(scratch, tarball), '-C', into, '--strip-components=1'], { cwd: into, what: 'unpacking' });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * librdkafka as the binding bundles it, configured to link its dependencies statically, installed
 * into a prefix. It does not depend on Node, so one build serves every runtime.
 */
function ensureLibrdkafka(version: string, architecture: Architecture, log: (line: string) => void): string {
  const prefix = join(BINDINGS_DIR, `librdkafka-of-${version}-${nodeArch(architecture)}-${recipeHash()}`);
  const tools = toolchain(architecture);
  const env = { ...process.env, ...toolchainEnv(tools) };
  const arch = tools.prefix ? [`--arch=${tools.prefix.split('-')[0]}`] : [];
  if (existsSync(join(prefix, 'lib', 'librdkafka.so.1'))) return prefix;
  const work = `${prefix}.work`;
  rmSync(work, { recursive: true, force: true });
  unpackBinding(version, work);
  const source = join(work, 'deps', 'librdkafka');
  log(
    `  librdkafka for ${architecture}: configure (static OpenSSL, zlib, zstd; built-in lz4; no GSSAPI, no curl)${tools.prefix ? `, cross-compiled with ${tools.prefix}gcc` : ''}`,
  );
  run(
    './configure',
    [`--prefix=${prefix}.install`, `--libdir=${prefix}.install/lib`, ...arch, ...LIBRDKAFKA_CONFIGURE],
    { cwd: source, env, what: `configuring librdkafka for ${architecture}` },
  );
  log('  librdkafka: make (about a minute and a half on two cores; once for all runtimes)');
  rmSync(`${prefix}.install`, { recursive: true, force: true });
  run('make', ['-j', JOBS, 'libs', 'install-subdirs'], {
    cwd: source,
    env,
    what: `building librdkafka for ${architecture}`,
  });
  rmSync(prefix, { recursive: true, force: true });
  renameSync(`${prefix}.install`, prefix);
  rmSync(work, { recursive: true, force: true });
  return prefix;
}

/**
 * The binding for `node`'s major, built if this recipe has not built it yet. Returns the directory
 * whose node_modules/ goes into the deployment package as it is.
 */
export function ensureLambdaBinding(node: NodeRuntime, log: (line: string) => void = () => {}): LambdaBinding {
  const version = lockedVersion(BINDING_PACKAGE);
  const { architecture } = node;
  const tools = toolchain(architecture);
  const dir = join(
    BINDINGS_DIR,
    `kafka-javascript-${version}-node${node.major}-${nodeArch(architecture)}-${recipeHash()}`,
  );
  const stamp = join(dir, 'binding.json');
  if (existsSync(stamp)) return { dir, ...(JSON.parse(readFileSync(stamp, 'utf8')) as Omit<LambdaBinding, 'dir'>) };

  checkPrerequisites(architecture);
  mkdirSync(BINDINGS_DIR, { recursive: true });
  log(
    `Building ${BINDING_PACKAGE} ${version} for Node.js ${node.major} (${node.runtime}, ${architecture}) with static dependencies.`,
  );
  const prefix = ensureLibrdkafka(version, architecture, log);
  const work = `${dir}.work`;
  rmSync(work, { recursive: true, force: true });
  const source = join(work, 'source');
  unpackBinding(version, source);

  // BUILD_LIBRDKAFKA=0: the binding's gyp links the librdkafka built above (found through these
  // flags) instead of configuring its own copy; RUNPATH $ORIGIN finds the libraries beside the addon.
  log(`  addon: node-gyp against the headers of Node.js ${node.version} (${architecture})`);
  const gyp = nodeGypRebuild(node, JOBS, {
    BUILD_LIBRDKAFKA: '0',
    CXXFLAGS: `-I${prefix}/include/librdkafka`,
    LDFLAGS: `-L${prefix}/lib -Wl,-rpath,'$$ORIGIN'`,
    // The addon's gyp file asks node for the NAN headers; NAN comes from this project's node_modules.
    NODE_PATH: join(REPO_ROOT, 'node_modules'),
  });
  run(gyp.command, gyp.args, {
    cwd: source,
    what: `building the addon for Node.js ${node.version} (${architecture})`,
    env: gyp.env,
  });

  const staged = join(work, 'staged');
  const moduleDir = join(staged, 'node_modules', BINDING_PACKAGE);
  copyModule(BINDING_PACKAGE, source, moduleDir);
  for (const name of ['bindings', 'file-uri-to-path']) {
    copyModule(name, join(REPO_ROOT, 'node_modules', name), join(staged, 'node_modules', name));
  }
  const release = join(staged, NATIVE_DIR);
  mkdirSync(release, { recursive: true });
  cpSync(
    join(source, 'build', 'Release', 'confluent-kafka-javascript.node'),
    join(release, 'confluent-kafka-javascript.node'),
  );
  for (const lib of ['librdkafka.so.1', 'librdkafka++.so.1']) cpSync(join(prefix, 'lib', lib), join(release, lib));
  run(`${tools.prefix}strip`, ['--strip-unneeded', ...readdirSync(release).map((file) => join(release, file))], {
    cwd: release,
    what: 'stripping the native files',
  });

  // It must load in the Node it was built for (under QEMU for another architecture); ask it what it can do.
  const runner = [...emulation(architecture), node.bin];
  const probe = execFileSync(
    runner[0] as string,
    [
      ...runner.slice(1),
      '-p',
      `const k = require(${JSON.stringify(moduleDir)}); JSON.stringify({ v: k.librdkafkaVersion, f: k.features })`,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH } },
  );
  const { v, f } = JSON.parse(probe) as { v: string; f: string[] };
  const info = { version, nodeMajor: node.major, architecture, librdkafkaVersion: v, features: f };
  writeFileSync(join(staged, 'binding.json'), `${JSON.stringify(info, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(work, { recursive: true, force: true });
  log(`  ready: librdkafka ${v} (${f.join(',')}) in ${dir}`);
  return { dir, ...info };
}
