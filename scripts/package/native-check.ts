/**
 * Refuses a deployment package that Lambda cannot load: every ELF file in it (found by its magic
 * number, whatever its name) may need only what every Lambda Node.js runtime provides — glibc,
 * libstdc++, libgcc_s — no newer than Amazon Linux 2023's, or libraries the package itself holds
 * where the loader will look (the file's RUNPATH, or /var/task/lib and /var/task, which Lambda puts
 * on LD_LIBRARY_PATH). Read with binutils' readelf.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { filesUnder, LAMBDA_LIBRARIES, LAMBDA_SYMBOL_VERSIONS, newer } from '../../src/binding-check.js';

/**
 * The newest symbol version of each family on Amazon Linux 2023, in the error's words. The versions,
 * and the libraries every runtime has, are the library's own (src/binding-check.ts): the ones
 * `lambda-kafka/esbuild` checks users' bindings against.
 */
const VERSION_NAMES: Record<string, string> = {
  GLIBC: 'glibc',
  GLIBCXX: "GCC 11's libstdc++",
  CXXABI: "GCC 11's libstdc++",
  GCC: "GCC 11's libgcc_s",
};

/** "glibc 2.34", "GCC 11's libstdc++ (GLIBCXX_3.4.29)"… */
function newestDescribed(family: string, newest: string): string {
  return family === 'GLIBC' ? `glibc ${newest}` : `${VERSION_NAMES[family]} (${family}_${newest})`;
}

/** Where Lambda's loader looks besides RUNPATH: LD_LIBRARY_PATH has /var/task/lib and /var/task. */
const TASK_LIBRARY_DIRS = ['lib', '.'];

export interface NativeFile {
  /** Path relative to the package root. */
  path: string;
  machine: string;
  soname?: string;
  needed: string[];
  runpath: string[];
  /** Symbol versions required, per library. */
  versions: Record<string, string[]>;
}

export interface NativeCheck {
  files: NativeFile[];
  problems: string[];
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

function readelf(args: string[], file: string): string {
  try {
    return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('readelf is not installed: the package check needs binutils (apt-get install binutils).');
    }
    throw error;
  }
}

export function describeElf(root: string, path: string): NativeFile {
  const header = readelf(['-h'], path);
  const dynamic = readelf(['-d'], path);
  const versionInfo = readelf(['-V'], path);
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dynamic)?.[1];
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] as string);
  const runpath = [...dynamic.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/g)].flatMap((m) =>
    (m[1] as string).split(':'),
  );
  const versions: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of versionInfo.split('\n')) {
    const file = /File: (\S+)/.exec(line);
    if (file) {
      current = file[1] as string;
      versions[current] ??= [];
      continue;
    }
    const name = /^\s+0x[0-9a-f]+:\s+Name: (\S+)/.exec(line);
    if (name && current) versions[current]?.push(name[1] as string);
  }
  return {
    path: relative(root, path),
    machine: /Machine:\s+(.+)/.exec(header)?.[1]?.trim() ?? 'unknown',
    ...(soname && { soname }),
    needed,
    runpath,
    versions,
  };
}

/** Where the loader finds `library` for `file` inside the package, if anywhere. */
function packagedLocation(root: string, file: NativeFile, library: string): string | undefined {
  const origin = dirname(join(root, file.path));
  const dirs = [
    ...file.runpath.map((entry) => entry.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin)),
    ...TASK_LIBRARY_DIRS.map((dir) => join(root, dir)),
  ];
  for (const dir of dirs) {
    const candidate = resolve(dir, library);
    if (candidate.startsWith(resolve(root)) && existsSync(candidate)) return relative(root, candidate);
  }
  return undefined;
}

/**
 * The loader's view: starting from each file nothing in the package depends on (the addons), every
 * library it needs must be a system one, one already loaded under that name (RUNPATH is not
 * inherited, but a loaded library satisfies later needs by its soname), or found in the package.
 */
function missingLibraries(root: string, files: NativeFile[]): string[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const needed = new Set(files.flatMap((file) => file.needed));
  const roots = files.filter((file) => !file.soname || !needed.has(file.soname));
  const problems = new Set<string>();
  for (const start of roots) {
    const loaded = new Map<string, NativeFile>();
    const queue = [start];
    for (let file = queue.shift(); file; file = queue.shift()) {
      for (const library of file.needed) {
        if (LAMBDA_LIBRARIES.has(library) || loaded.has(library)) continue;
        const found = packagedLocation(root, file, library);
        const dependency = found ? byPath.get(found) : undefined;
        if (!dependency) {
          problems.add(
            `${file.path} needs ${library}, which Lambda's runtime does not provide and the package does not contain: ` +
              'link it statically, or ship it beside the file (with RUNPATH $ORIGIN) or in lib/',
          );
          continue;
        }
        loaded.set(library, dependency);
        queue.push(dependency);
      }
    }
  }
  return [...problems];
}

/** readelf's name of each Lambda architecture's ELF machine. */
const READELF_MACHINE: Record<string, string> = { x86_64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };

/** Every problem of every native file under `root`, each naming the file and the fix. */
export function checkNativeFiles(root: string, architecture = 'x86_64'): NativeCheck {
  const files = [...filesUnder(root)].filter(isElf).map((path) => describeElf(root, path));
  const problems: string[] = [];
  for (const file of files) {
    if (file.machine !== READELF_MACHINE[architecture]) {
      problems.push(`${file.path} is built for ${file.machine}, not ${architecture} (the functions' architecture)`);
    }
    for (const [library, names] of Object.entries(file.versions)) {
      if (!LAMBDA_LIBRARIES.has(library)) continue;
      for (const name of names) {
        const [, family, version] = /^([A-Z]+)_([0-9.]+)$/.exec(name) ?? [];
        const newest = family ? LAMBDA_SYMBOL_VERSIONS[family] : undefined;
        if (!family || !newest || !version || !newer(version, newest)) continue;
        problems.push(
          `${file.path} needs ${name} from ${library}, newer than Amazon Linux 2023's ${newestDescribed(family, newest)}: ` +
            'build it on a system no newer than that, or link that dependency statically',
        );
      }
    }
  }
  problems.push(...missingLibraries(root, files));
  return { files, problems };
}

/** Throws one error listing every problem; returns the native files when there is none. */
export function assertDeployable(root: string, target: string, architecture = 'x86_64'): NativeFile[] {
  const { files, problems } = checkNativeFiles(root, architecture);
  if (problems.length > 0) {
    throw new Error(
      `The deployment package would not load on ${target}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((problem) => `  ✗ ${problem}`).join('\n'),
    );
  }
  return files;
}
