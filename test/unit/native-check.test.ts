/** The package check reads real ELF files, built here with the system's gcc, as the loader would see them. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertDeployable, checkNativeFiles } from '../../scripts/package/native-check.js';

const scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-elf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A package directory with shared objects compiled from `sources` (path → C code, link flags). */
function packageWith(name: string, sources: Record<string, { code: string; flags?: string[] }>): string {
  const dir = join(scratch, name);
  for (const [path, { code, flags = [] }] of Object.entries(sources)) {
    const out = join(dir, path);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(`${out}.c`, code);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', out, `${out}.c`, ...flags], { cwd: join(out, '..') });
    rmSync(`${out}.c`);
  }
  return dir;
}

describe('the native-file check of the deployment package', () => {
  it('accepts a library that needs only glibc', () => {
    const dir = packageWith('plain', { 'addon.node': { code: 'int answer(void) { return 42; }' } });
    expect(checkNativeFiles(dir).problems).toEqual([]);
  });

  it('refuses a symbol newer than glibc 2.34, naming it (arc4random is GLIBC_2.36)', () => {
    const dir = packageWith('new-glibc', {
      'addon.node': { code: '#include <stdlib.h>\nunsigned int r(void) { return arc4random(); }' },
    });
    expect(checkNativeFiles(dir).problems).toEqual([
      expect.stringMatching(
        /^addon\.node needs GLIBC_2\.(3[5-9]|[4-9]\d) from libc\.so\.6, newer than Amazon Linux 2023's glibc 2\.34/,
      ),
    ]);
  });

  it('finds a library shipped beside the addon through RUNPATH $ORIGIN, or in lib/ (on Lambda LD_LIBRARY_PATH)', () => {
    const dir = packageWith('shipped', {
      'native/libdep.so': { code: 'int dep(void) { return 1; }', flags: ['-Wl,-soname,libdep.so'] },
      'native/addon.node': {
        code: 'int dep(void); int f(void) { return dep(); }',
        flags: ['-L.', '-ldep', '-Wl,-rpath,$ORIGIN'],
      },
      'lib/libother.so': { code: 'int other(void) { return 2; }', flags: ['-Wl,-soname,libother.so'] },
      'addon2.node': { code: 'int other(void); int g(void) { return other(); }', flags: ['-Llib', '-lother'] },
    });
    expect(checkNativeFiles(dir).problems).toEqual([]);
  });

  it('refuses a library neither the runtime nor the package has, naming the file and the library', () => {
    const dir = packageWith('missing', {
      'addon.node': { code: '#include <zlib.h>\nconst char *v(void) { return zlibVersion(); }', flags: ['-lz'] },
    });
    expect(() => assertDeployable(dir, 'Lambda nodejs22.x')).toThrow(
      /would not load on Lambda nodejs22\.x: 1 problem\n {2}✗ addon\.node needs libz\.so\.1, which Lambda's runtime does not provide and the package does not contain/,
    );
  });
});
