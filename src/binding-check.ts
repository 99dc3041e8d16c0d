/**
 * Whether a binding will load on the Lambda function it is packaged for, read from its native files
 * without loading them (the build machine may be a Mac, or x86_64 building for arm64): the format
 * and machine of each file (ELF for Linux; Mach-O is macOS, PE is Windows), the C library it links
 * (glibc, not musl), the libraries it needs (only what Lambda's Node.js runtimes have, or files the
 * package holds beside it), the newest glibc and libstdc++ symbol versions it asks for, and the Node
 * ABI (NODE_MODULE_VERSION) the addon was compiled for.
 *
 * The ELF reading is hand-written (about 150 lines): the npm ELF parsers are unmaintained, and
 * binutils' readelf is not on every build machine (macOS has none). It reads 64-bit little-endian
 * ELF only, which is what both Lambda architectures run.
 * https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A Lambda function's architecture, as Lambda names it. */
export type LambdaArchitecture = 'x86_64' | 'arm64';

/** What a function is packaged for: Lambda's architecture and the runtime's Node major. */
export interface BindingTarget {
  /** The function's architecture. */
  architecture: LambdaArchitecture;
  /** nodejs22.x: 22. */
  nodeMajor: number;
  /** The newest glibc the target has; Amazon Linux 2023 (every nodejs2x.x runtime): 2.34. */
  glibc?: string;
}

/** NODE_MODULE_VERSION per Node major (process.versions.modules), for the majors Lambda runs or ran. */
export const NODE_MODULE_VERSIONS: Readonly<Record<number, number>> = { 18: 108, 20: 115, 22: 127, 24: 137 };

/** ELF e_machine values, and R_*_RELATIVE per machine. */
const MACHINES: Record<number, { name: string; architecture?: LambdaArchitecture; relative?: number }> = {
  3: { name: 'i386 (32-bit x86)' },
  40: { name: 'arm (32-bit)' },
  62: { name: 'x86-64', architecture: 'x86_64', relative: 8 },
  183: { name: 'aarch64', architecture: 'arm64', relative: 1027 },
};
const E_MACHINE: Record<LambdaArchitecture, number> = { x86_64: 0x3e, arm64: 0xb7 };

/** Libraries every Lambda Node.js runtime has (Amazon Linux 2023): glibc's, libstdc++, libgcc_s, each architecture's loader. */
export const LAMBDA_LIBRARIES: ReadonlySet<string> = new Set([
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'libstdc++.so.6',
  'libgcc_s.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
]);

/** The newest symbol version of each family on Amazon Linux 2023: glibc 2.34, GCC 11's libstdc++ and libgcc_s. */
export const LAMBDA_SYMBOL_VERSIONS: Readonly<Record<string, string>> = {
  GLIBC: '2.34',
  GLIBCXX: '3.4.29',
  CXXABI: '1.3.13',
  GCC: '7.0.0',
};

/** What readNativeFile() found in a native file (an addon or a shared library). */
export interface NativeFileInfo {
  /** ELF (Linux), Mach-O (macOS), PE (Windows) or anything else. */
  format: 'elf' | 'mach-o' | 'pe' | 'other';
  /** ELF: e.g. "x86-64", "aarch64"; Mach-O: the CPU type; otherwise undefined. */
  machine?: string;
  /** The Lambda architecture an ELF file's machine runs on; undefined for any other machine or format. */
  architecture?: LambdaArchitecture;
  /** ELF files that are not 64-bit little-endian are not read further. */
  elf64le?: boolean;
  /** The shared libraries it needs (ELF DT_NEEDED), e.g. "libc.so.6". */
  needed: string[];
  /** Where it looks for them (ELF DT_RUNPATH, or DT_RPATH), e.g. "$ORIGIN/../deps". */
  runpath: string[];
  /** Symbol versions asked for, e.g. ["GLIBC_2.14", "GLIBCXX_3.4.21"]. */
  versions: string[];
  /** The addon's NODE_MODULE_VERSION, when the file is a Node addon and it could be read. */
  nodeModuleVersion?: number;
}

function format(head: Buffer): NativeFileInfo['format'] {
  if (head.readUInt32BE(0) === 0x7f454c46) return 'elf';
  const magic = head.readUInt32LE(0);
  if (magic === 0xfeedfacf || magic === 0xfeedface || head.readUInt32BE(0) === 0xcafebabe) return 'mach-o';
  if (head.toString('latin1', 0, 2) === 'MZ') return 'pe';
  return 'other';
}

const MACH_CPU: Record<number, string> = { 16777223: 'x86-64', 16777228: 'arm64' };

interface Section {
  name: string;
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

const SHT_RELA = 4;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_GNU_VERNEED = 0x6ffffffe;
const DT_NEEDED = 1;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/** A 64-bit little-endian ELF file's sections, dynamic entries, version needs and addon struct. */
class Elf {
  readonly sections: Section[];

  constructor(readonly data: Buffer) {
    const shoff = Number(data.readBigUInt64LE(40));
    const shentsize = data.readUInt16LE(58);
    const shnum = data.readUInt16LE(60);
    const raw = Array.from({ length: shnum }, (_, i) => {
      const at = shoff + i * shentsize;
      return {
        nameAt: data.readUInt32LE(at),
        type: data.readUInt32LE(at + 4),
        addr: Number(data.readBigUInt64LE(at + 16)),
        offset: Number(data.readBigUInt64LE(at + 24)),
        size: Number(data.readBigUInt64LE(at + 32)),
        link: data.readUInt32LE(at + 40),
        info: data.readUInt32LE(at + 44),
      };
    });
    const names = raw[data.readUInt16LE(62)];
    this.sections = raw.map((s) => ({ ...s, name: names ? this.string(names.offset + s.nameAt) : '' }));
  }

  /** The NUL-terminated string at file offset `at`. */
  string(at: number): string {
    const end = this.data.indexOf(0, at);
    return this.data.toString('latin1', at, end < 0 ? this.data.length : end);
  }

  /** The file offset of virtual address `addr`, in a section that has bytes in the file. */
  offsetOf(addr: number): number | undefined {
    const s = this.sections.find((c) => c.type !== SHT_NOBITS && addr >= c.addr && addr < c.addr + c.size && c.addr);
    return s ? s.offset + (addr - s.addr) : undefined;
  }

  dynamic(): { needed: string[]; runpath: string[] } {
    const needed: string[] = [];
    const runpath: string[] = [];
    for (const s of this.sections.filter((c) => c.type === SHT_DYNAMIC)) {
      const strings = this.sections[s.link];
      if (!strings) continue;
      for (let at = s.offset; at + 16 <= s.offset + s.size; at += 16) {
        const tag = Number(this.data.readBigInt64LE(at));
        if (tag === 0) break;
        const value = Number(this.data.readBigUInt64LE(at + 8));
        if (tag === DT_NEEDED) needed.push(this.string(strings.offset + value));
        if (tag === DT_RUNPATH || tag === DT_RPATH) runpath.push(...this.string(strings.offset + value).split(':'));
      }
    }
    return { needed, runpath };
  }

  versionNeeds(): string[] {
    const versions: string[] = [];
    for (const s of this.sections.filter((c) => c.type === SHT_GNU_VERNEED)) {
      const strings = this.sections[s.link];
      if (!strings) continue;
      let need = s.offset;
      for (let n = 0; n < s.info; n++) {
        const count = this.data.readUInt16LE(need + 2);
        let aux = need + this.data.readUInt32LE(need + 8);
        for (let a = 0; a < count; a++) {
          versions.push(this.string(strings.offset + this.data.readUInt32LE(aux + 8)));
          aux += this.data.readUInt32LE(aux + 12);
        }
        const next = this.data.readUInt32LE(need + 12);
        if (next === 0) break;
        need += next;
      }
    }
    return versions;
  }

  /**
   * NODE_MODULE_VERSION from the addon's `node::node_module` struct, which NODE_MODULE() puts in the
   * data section: { int nm_version; unsigned nm_flags; void* nm_dso_handle; const char* nm_filename;
   * register_func; context_register_func; const char* nm_modname; … }. It is found by its pointers,
   * which the loader relocates: nm_filename to the source file's name (…​.cc) and nm_modname to a name.
   */
  nodeModuleVersion(relativeType: number): number | undefined {
    const targets = new Map<number, number>();
    for (const s of this.sections.filter((c) => c.type === SHT_RELA)) {
      for (let at = s.offset; at + 24 <= s.offset + s.size; at += 24) {
        if (Number(this.data.readBigUInt64LE(at + 8) & 0xffffffffn) !== relativeType) continue;
        targets.set(Number(this.data.readBigUInt64LE(at)), Number(this.data.readBigInt64LE(at + 16)));
      }
    }
    const stringAt = (addr: number | undefined) => {
      const offset = addr === undefined ? undefined : this.offsetOf(addr);
      return offset === undefined ? undefined : this.string(offset);
    };
    const found = new Set<number>();
    for (const [slot, target] of targets) {
      if (!/\.(cc|cpp|cxx|c)$/.test(stringAt(target) ?? '')) continue;
      const base = this.offsetOf(slot - 16);
      const modname = stringAt(targets.get(slot + 24));
      if (base === undefined || !modname || !/^[\w.-]+$/.test(modname)) continue;
      const version = this.data.readInt32LE(base);
      const flags = this.data.readUInt32LE(base + 4);
      if (version > 0 && version < 10_000 && flags < 0x100 && this.data.readBigUInt64LE(base + 8) === 0n) {
        found.add(version);
      }
    }
    return found.size === 1 ? [...found][0] : undefined;
  }
}

/** Reads what the check needs from one native file. */
export function readNativeFile(path: string): NativeFileInfo {
  const data = readFileSync(path);
  const info: NativeFileInfo = {
    format: data.length >= 4 ? format(data) : 'other',
    needed: [],
    runpath: [],
    versions: [],
  };
  if (info.format === 'mach-o' && data.length >= 8) {
    const fat = data.readUInt32BE(0) === 0xcafebabe;
    info.machine = fat ? 'universal' : (MACH_CPU[data.readUInt32LE(4)] ?? 'unknown CPU');
  }
  if (info.format !== 'elf' || data.length < 64) return info;
  const machine = MACHINES[data.readUInt16LE(18)];
  info.machine = machine?.name ?? `ELF machine 0x${data.readUInt16LE(18).toString(16)}`;
  if (machine?.architecture) info.architecture = machine.architecture;
  info.elf64le = data[4] === 2 && data[5] === 1;
  if (!info.elf64le) return info;
  const elf = new Elf(data);
  Object.assign(info, elf.dynamic());
  info.versions = elf.versionNeeds();
  if (path.endsWith('.node') && machine?.relative !== undefined) {
    const version = elf.nodeModuleVersion(machine.relative);
    if (version !== undefined) info.nodeModuleVersion = version;
  }
  return info;
}

function isNative(path: string): boolean {
  if (path.endsWith('.node') || /\.(so(\.\d+)*|dylib|dll)$/.test(path)) return true;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && format(head) !== 'other';
  } finally {
    closeSync(fd);
  }
}

/** Every regular file under `dir`, depth first. */
export function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

/** a.b.c > x.y.z, numerically. */
export function newer(version: string, than: string): boolean {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
}

function nodeMajorOf(moduleVersion: number): string {
  const major = Object.entries(NODE_MODULE_VERSIONS).find(([, v]) => v === moduleVersion)?.[0];
  return major ? `Node ${major}` : `a Node other than ${Object.keys(NODE_MODULE_VERSIONS).join('/')}`;
}

/** One reason the binding would not load on the target. */
export interface BindingProblem {
  /** The native file, relative to the directory checked. */
  file: string;
  /** What was found, and what the target needs. */
  problem: string;
}

/** What to run to get a binding for `target`, for the error's last lines. */
export function bindingFix(target: BindingTarget): string {
  const arch = target.architecture === 'arm64' ? 'arm64' : 'x64';
  return [
    `Install the binding built for Lambda (linux, glibc, ${arch}, Node ${target.nodeMajor}) where you build the package:`,
    `  npm install @confluentinc/kafka-javascript --target_platform=linux --target_arch=${arch} --target_libc=glibc --target=${target.nodeMajor}.0.0`,
    "  (node-pre-gyp fetches the project's prebuilt binary for that target from GitHub; it needs nothing Lambda lacks),",
    `or build it on Linux ${arch} with Node ${target.nodeMajor} (a Lambda-like container, or CI on that architecture); lambda-kafka's own package for x86_64 is \`npm run package\` in its repository.`,
  ].join('\n');
}

/**
 * Every way the native files under `dir` (a binding's package directory, or a task directory with
 * node_modules/) would fail to load on `target`. Empty when they fit; a directory with no native
 * file at all is a problem too (the binding was installed without its native part).
 */
export function bindingProblems(dir: string, target: BindingTarget): BindingProblem[] {
  const root = resolve(dir);
  const natives = existsSync(root) ? [...filesUnder(root)].filter(isNative) : [];
  const problems: BindingProblem[] = [];
  if (!natives.some((file) => file.endsWith('.node'))) {
    problems.push({
      file: relative(process.cwd(), root) || '.',
      problem: 'holds no .node file (the binding installed without its native part?)',
    });
  }
  const glibc = target.glibc ?? LAMBDA_SYMBOL_VERSIONS.GLIBC;
  const moduleVersion = NODE_MODULE_VERSIONS[target.nodeMajor];
  for (const path of natives) {
    const file = relative(root, path);
    const info = readNativeFile(path);
    const add = (problem: string) => problems.push({ file, problem });
    if (info.format === 'mach-o') {
      add(`is a macOS binary (Mach-O, ${info.machine}); Lambda runs Linux`);
      continue;
    }
    if (info.format === 'pe') {
      add('is a Windows binary (PE); Lambda runs Linux');
      continue;
    }
    if (info.format !== 'elf') continue;
    if (info.architecture !== target.architecture) {
      add(
        `is built for ${info.machine}; the function's architecture ${target.architecture} needs ${MACHINES[E_MACHINE[target.architecture]]?.name}`,
      );
      continue;
    }
    if (!info.elf64le) {
      add(`is not a 64-bit little-endian ELF file (${info.machine})`);
      continue;
    }
    const musl = info.needed.filter((lib) => /^(libc\.musl-|ld-musl-)/.test(lib) || lib === 'libc.so');
    if (musl.length > 0) {
      add(`is built for musl libc (Alpine: needs ${musl.join(', ')}); Lambda's Node.js runtimes have glibc`);
      continue;
    }
    const here = dirname(path);
    const searched = info.runpath.map((p) => resolve(p.replace(/\$ORIGIN|\$\{ORIGIN\}/g, here)));
    const missing = info.needed.filter(
      (lib) => !LAMBDA_LIBRARIES.has(lib) && ![here, ...searched].some((d) => existsSync(join(d, lib))),
    );
    if (missing.length > 0) {
      add(`needs ${missing.join(', ')}, which Lambda's Node.js runtimes do not have and the package does not hold`);
    }
    const tooNew = info.versions.filter((v) => {
      const [family, number] = v.split('_') as [string, string | undefined];
      const newest = family === 'GLIBC' ? glibc : LAMBDA_SYMBOL_VERSIONS[family];
      return newest !== undefined && number !== undefined && newer(number, newest);
    });
    if (tooNew.length > 0) {
      add(`asks for ${tooNew.join(', ')}: newer than Amazon Linux 2023 has (glibc ${glibc}, GCC 11's libstdc++)`);
    }
    if (path.endsWith('.node') && moduleVersion !== undefined) {
      if (info.nodeModuleVersion === undefined) {
        add(
          `its Node ABI (NODE_MODULE_VERSION) could not be read: load it with Node ${target.nodeMajor} on ${target.architecture} to be sure (checkImport)`,
        );
      } else if (info.nodeModuleVersion !== moduleVersion) {
        add(
          `is compiled for ${nodeMajorOf(info.nodeModuleVersion)} (NODE_MODULE_VERSION ${info.nodeModuleVersion}); the function's Node ${target.nodeMajor} needs ${moduleVersion}`,
        );
      }
    }
  }
  return problems;
}

/** The binding would not load on the function: every problem, and what to run to get one that would. */
export class BindingMismatchError extends Error {
  constructor(
    /** The binding's directory the message names. */
    readonly dir: string,
    /** What the function runs on. */
    readonly target: BindingTarget,
    /** Every problem found; never empty when thrown by assertBindingFits(). */
    readonly problems: BindingProblem[],
  ) {
    super(
      [
        `The Kafka binding in ${dir} would not load on Lambda (${target.architecture}, Node ${target.nodeMajor}, glibc ${target.glibc ?? LAMBDA_SYMBOL_VERSIONS.GLIBC}):`,
        ...problems.map((p) => `  ${p.file} ${p.problem}`),
        bindingFix(target),
      ].join('\n'),
    );
    this.name = 'BindingMismatchError';
  }
}

/**
 * Throws BindingMismatchError naming every problem when the binding under `dir` does not fit
 * `target`; `label` is the directory the error names (default `dir`), e.g. the installed binding a copy came from.
 */
export function assertBindingFits(dir: string, target: BindingTarget, label = dir): void {
  const problems = bindingProblems(dir, target);
  if (problems.length > 0) throw new BindingMismatchError(label, target, problems);
}
