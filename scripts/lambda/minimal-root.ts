/**
 * A root file system with only what a Lambda Node.js runtime guarantees: the dynamic loader and
 * glibc, libstdc++ and libgcc_s (the libraries the runtime's `node` itself needs), the runtime's
 * `node` at /var/lang/bin/node, and the function's code unpacked at /var/task. In /etc only the user
 * database (Lambda's image has one: os.homedir() reads it, and the AWS SDK calls that when HOME is
 * unset, as it is on Lambda); no CA store, no other library: a package that leans on the build
 * machine fails to load here as it would on Lambda. Entered with chroot (as root) or unshare + chroot (as any user where user namespaces work).
 *
 * For another architecture than this machine's (arm64 on x86_64), the libraries are that
 * architecture's (Debian's multiarch libc6:arm64, libstdc++6:arm64), found by reading what its
 * `node` needs, and QEMU's static user-mode emulator is copied in to run it (qemu.ts): still only
 * glibc, libstdc++ and libgcc_s inside, and nothing the emulated program opens comes from outside.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readNativeFile } from '../../src/binding-check.js';
import { hostArchitecture, qemuBinary } from './qemu.js';
import type { Architecture, NodeRuntime } from './runtimes.js';

/** Lambda's own LD_LIBRARY_PATH (documented "Defined runtime environment variables"). */
export const LAMBDA_LD_LIBRARY_PATH =
  '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib';

export interface MinimalRoot {
  dir: string;
  /** Paths inside the root. */
  node: '/var/lang/bin/node';
  task: '/var/task';
  /** Host path of /var/task. */
  taskDir: string;
  /** The system libraries copied in (file names). */
  libraries: string[];
  /** The architecture of its node and libraries. */
  architecture: Architecture;
  /** Inside the root: QEMU's emulator for `node`, when it is built for another architecture. */
  emulator?: string;
}

/** Debian's multiarch directories per architecture. */
const MULTIARCH_DIRS: Record<string, string[]> = {
  arm64: ['/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu'],
  x86_64: ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'],
};

/**
 * The shared libraries another architecture's `bin` loads, found the way its loader would in
 * Debian's multiarch directories, from what each file needs (ldd cannot run a foreign binary).
 */
function foreignLibraries(bin: string, architecture: string): string[] {
  const dirs = MULTIARCH_DIRS[architecture] ?? [];
  const found = new Map<string, string>();
  const queue = [bin];
  for (let file = queue.shift(); file; file = queue.shift()) {
    for (const name of readNativeFile(file).needed) {
      if (found.has(name)) continue;
      const path = dirs.map((dir) => join(dir, name)).find((candidate) => existsSync(candidate));
      if (!path) {
        throw new Error(
          `${basename(bin)} for ${architecture} needs ${name}, which is not in ${dirs.join(' or ')}: apt-get install libc6:${architecture} libstdc++6:${architecture} (after dpkg --add-architecture ${architecture}).`,
        );
      }
      found.set(name, path);
      queue.push(path);
    }
  }
  return [...found.values()];
}

/** The shared libraries `bin` loads, as the host's loader resolves them (ldd). */
function loadedLibraries(bin: string): string[] {
  const output = execFileSync('ldd', [bin], { encoding: 'utf8' });
  return [...output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1] as string);
}

/** Builds the root in `dir` (which should be empty) with `node` and the zip `zip` unpacked at /var/task. */
export function buildMinimalRoot(dir: string, node: NodeRuntime, zip: string): MinimalRoot {
  for (const sub of ['lib64', 'var/lang/bin', 'var/task', 'var/runtime', 'opt', 'tmp']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  const libraries: string[] = [];
  const foreign = node.architecture !== hostArchitecture();
  for (const library of foreign ? foreignLibraries(node.bin, node.architecture) : loadedLibraries(node.bin)) {
    // Everything goes into /lib64 (where the x86-64 loader and Amazon Linux keep them).
    copyFileSync(realpathSync(library), join(dir, 'lib64', basename(library)));
    libraries.push(basename(library));
  }
  let emulator: string | undefined;
  if (foreign) {
    // The program interpreter arm64 binaries name (PT_INTERP), and the emulator that runs them.
    mkdirSync(join(dir, 'lib'), { recursive: true });
    for (const loader of libraries.filter((name) => name.startsWith('ld-linux-'))) {
      copyFileSync(join(dir, 'lib64', loader), join(dir, 'lib', loader));
    }
    const qemu = qemuBinary(node.architecture);
    emulator = `/usr/bin/${basename(qemu)}`;
    mkdirSync(join(dir, 'usr/bin'), { recursive: true });
    copyFileSync(qemu, join(dir, emulator));
    chmodSync(join(dir, emulator), 0o755);
  }
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n',
  );
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nsbx_user1051:x:990:\n');
  copyFileSync(node.bin, join(dir, 'var/lang/bin/node'));
  chmodSync(join(dir, 'var/lang/bin/node'), 0o755);
  execFileSync('unzip', ['-q', zip, '-d', join(dir, 'var/task')]);
  return {
    dir,
    node: '/var/lang/bin/node',
    task: '/var/task',
    taskDir: join(dir, 'var/task'),
    libraries,
    architecture: node.architecture,
    ...(emulator && { emulator }),
  };
}

/**
 * /dev/null in the root, as Lambda has it: a supervisor that starts the runtime with Go's os/exec (RIE)
 * opens it for the runtime's stdin. A device node needs CAP_MKNOD, which root has; elsewhere (a user
 * namespace) an empty file stands in, which reads as end-of-file just the same.
 */
export function addDevNull(dir: string): void {
  const path = join(dir, 'dev', 'null');
  if (existsSync(path)) return;
  mkdirSync(join(dir, 'dev'), { recursive: true });
  if (process.getuid?.() === 0) {
    execFileSync('mknod', ['-m', '666', path, 'c', '1', '3']);
  } else {
    writeFileSync(path, '', { mode: 0o666 });
  }
}

/** The command prefix that runs a program inside `root`: chroot as root, else in a user namespace. */
export function chrootCommand(root: string): { command: string; args: string[] } {
  // Absolute paths: the child's PATH is Lambda's, which does not have the host's sbin.
  const chroot = which('chroot');
  if (process.getuid?.() === 0) return { command: chroot, args: [root] };
  return { command: which('unshare'), args: ['--map-root-user', chroot, root] };
}

function which(command: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  throw new Error(`${command} is not installed: the minimal root is entered with it (coreutils / util-linux).`);
}

/** The environment Lambda gives a function, plus `env`. */
export function lambdaEnvironment(env: Record<string, string>): Record<string, string> {
  return {
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LD_LIBRARY_PATH: LAMBDA_LD_LIBRARY_PATH,
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
    ...env,
  };
}
