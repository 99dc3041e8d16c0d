/**
 * lambda-kafka/esbuild's binding check, against the binding this repository built for its tools'
 * Node and copies of it made wrong on purpose: another architecture (its ELF machine), macOS (a
 * Mach-O file), musl, a library Lambda lacks and a glibc too new (its dynamic strings), another Node
 * (the real NODE_MODULE_VERSION of this build against another major's).
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import {
  BindingMismatchError,
  type BindingTarget,
  bindingProblems,
  copyBinding,
  NODE_MODULE_VERSIONS,
  readNativeFile,
} from '../../src/esbuild.js';

const ADDON = 'build/Release/confluent-kafka-javascript.node';
const BUILT = readFileSync(join(REPO_ROOT, 'node_modules/@confluentinc/kafka-javascript', ADDON));
const HOST_MAJOR = Number(process.versions.node.split('.')[0]);
const HOST: BindingTarget = { architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64', nodeMajor: HOST_MAJOR };
const OTHER_MAJOR = HOST_MAJOR === 22 ? 24 : 22;

const scratch = mkdtempSync(join(tmpdir(), 'binding-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A binding directory holding `addon` as its .node file, and librdkafka's libraries where its RUNPATH looks. */
function binding(name: string, addon: Buffer): string {
  const dir = join(scratch, name);
  mkdirSync(dirname(join(dir, ADDON)), { recursive: true });
  writeFileSync(join(dir, ADDON), addon);
  mkdirSync(join(dir, 'build/deps'), { recursive: true });
  for (const lib of ['librdkafka.so.1', 'librdkafka++.so.1']) {
    writeFileSync(join(dir, 'build/Release', lib), '');
    writeFileSync(join(dir, 'build/deps', lib), '');
  }
  return dir;
}

/** The built addon with one string of its dynamic section replaced by another of the same length. */
function withString(from: string, to: string): Buffer {
  const copy = Buffer.from(BUILT);
  const at = copy.indexOf(`${from}\0`);
  expect(at, `${from} in the addon`).toBeGreaterThan(0);
  copy.write(`${to}\0`, at, 'latin1');
  return copy;
}

function problemsOf(dir: string, target: BindingTarget = HOST): string[] {
  return bindingProblems(dir, target).map((p) => `${p.file} ${p.problem}`);
}

describe('reading a native file', () => {
  it("reads this build's machine, libraries, symbol versions and Node ABI", () => {
    const dir = binding('as-built', BUILT);
    const info = readNativeFile(join(dir, ADDON));
    expect(info).toMatchObject({ format: 'elf', architecture: HOST.architecture, elf64le: true });
    expect(info.needed).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'librdkafka.so.1']));
    expect(info.versions.some((v) => v.startsWith('GLIBC_2.'))).toBe(true);
    expect(info.nodeModuleVersion).toBe(Number(process.versions.modules));
  });

  it('passes the build for the Node and architecture it was made for', () => {
    expect(problemsOf(binding('fits', BUILT))).toEqual([]);
  });
});

describe('a binding that would not load on the target is refused, naming what was found and the fix', () => {
  it('another Node major: the ABI it was compiled for against the one the runtime needs', () => {
    const dir = binding('other-node', BUILT);
    expect(problemsOf(dir, { ...HOST, nodeMajor: OTHER_MAJOR })).toEqual([
      `${ADDON} is compiled for Node ${HOST_MAJOR} (NODE_MODULE_VERSION ${process.versions.modules}); the function's Node ${OTHER_MAJOR} needs ${NODE_MODULE_VERSIONS[OTHER_MAJOR]}`,
    ]);
  });

  it('another architecture: the ELF machine', () => {
    const arm = Buffer.from(BUILT);
    arm.writeUInt16LE(HOST.architecture === 'arm64' ? 0x3e : 0xb7, 18);
    const other = HOST.architecture === 'arm64' ? 'x86-64' : 'aarch64';
    expect(problemsOf(binding('other-arch', arm))).toEqual([
      `${ADDON} is built for ${other}; the function's architecture ${HOST.architecture} needs ${HOST.architecture === 'arm64' ? 'aarch64' : 'x86-64'}`,
    ]);
  });

  it('macOS: a Mach-O file', () => {
    const macho = Buffer.alloc(32);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    expect(problemsOf(binding('darwin', macho))).toEqual([
      `${ADDON} is a macOS binary (Mach-O, arm64); Lambda runs Linux`,
    ]);
  });

  it("musl: the C library it links (Debian's musl-gcc names it libc.so)", () => {
    expect(problemsOf(binding('musl', withString('libc.so.6', 'libc.so')))).toEqual([
      `${ADDON} is built for musl libc (Alpine: needs libc.so); Lambda's Node.js runtimes have glibc`,
    ]);
  });

  it('a library Lambda lacks and the package does not hold', () => {
    expect(problemsOf(binding('needs-libz', withString('libm.so.6', 'libz.so.1')))).toEqual([
      `${ADDON} needs libz.so.1, which Lambda's Node.js runtimes do not have and the package does not hold`,
    ]);
  });

  it('a glibc newer than Amazon Linux 2023 has', () => {
    const newest = readNativeFile(join(binding('versions', BUILT), ADDON)).versions.find((v) =>
      /^GLIBC_2\.\d\d$/.test(v),
    );
    expect(newest, 'a GLIBC_2.xx version in the addon').toBeDefined();
    const problems = problemsOf(binding('new-glibc', withString(newest as string, 'GLIBC_2.39')));
    expect(problems).toEqual([
      `${ADDON} asks for GLIBC_2.39: newer than Amazon Linux 2023 has (glibc 2.34, GCC 11's libstdc++)`,
    ]);
  });

  it("the error names the binding, the target, every problem and what to run instead, and copyBinding's copy goes", () => {
    // Prepare: a project whose installed binding is this repository's
    const project = join(scratch, 'project');
    const task = join(scratch, 'task');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), '{"name":"p","private":true}');
    const modules = join(project, 'node_modules');
    mkdirSync(modules, { recursive: true });
    for (const name of ['@confluentinc', 'bindings', 'file-uri-to-path']) {
      symlinkSync(join(REPO_ROOT, 'node_modules', name), join(modules, name));
    }
    const target: BindingTarget = {
      architecture: HOST.architecture === 'arm64' ? 'x86_64' : 'arm64',
      nodeMajor: OTHER_MAJOR,
    };

    // Act
    let error: unknown;
    try {
      copyBinding(task, project, target);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(BindingMismatchError);
    const message = (error as Error).message;
    expect(message).toContain(
      `The Kafka binding in ${realpathSync(join(modules, '@confluentinc/kafka-javascript'))} would not load on Lambda (${target.architecture}, Node ${OTHER_MAJOR}, glibc 2.34):`,
    );
    expect(message).toContain(`${ADDON} is built for`);
    const arch = target.architecture === 'arm64' ? 'arm64' : 'x64';
    expect(message).toContain(
      `npm install @confluentinc/kafka-javascript --target_platform=linux --target_arch=${arch} --target_libc=glibc --target=${OTHER_MAJOR}.0.0`,
    );
    expect(() => readFileSync(join(task, 'node_modules/@confluentinc/kafka-javascript', ADDON))).toThrow(/ENOENT/);
    // The same copy for this machine, unchecked, is kept.
    expect(copyBinding(task, project, null)).toContain('@confluentinc/kafka-javascript');
    expect(readFileSync(join(task, 'node_modules/@confluentinc/kafka-javascript', ADDON)).equals(BUILT)).toBe(true);
  });
});
