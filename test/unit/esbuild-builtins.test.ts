/** lambda-kafka/esbuild takes Node's built-ins without ESM facades, and loads each on first use. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/esbuild.js';

const dir = mkdtempSync(join(tmpdir(), 'lk-builtins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENTRY = `
import { randomInt, X509Certificate } from 'node:crypto';
import EventEmitter from 'node:events';
import { inspect } from 'node:util';
import * as path from 'path';
import { fsExports } from './dep.cjs';
const loaded = () => process.moduleLoadList.filter((m) => m === 'NativeModule crypto').length;
export const before = loaded();
class Emitter extends EventEmitter {}
export function use() {
  const emitter = new Emitter();
  let heard = false;
  emitter.on('x', () => { heard = true; });
  emitter.emit('x');
  return { n: randomInt(0, 1), cert: typeof X509Certificate, text: inspect({ a: 1 }), sep: path.sep, heard, fsExports: fsExports > 10, after: loaded() };
}
`;
/** A CommonJS dependency that require()s a built-in and enumerates it (graceful-fs does). */
const DEP = `const fs = require('fs'); exports.fsExports = Object.keys(fs).length;`;

describe('bundleFunction', () => {
  it("imports no built-in as an ES module, loads an imported one only when it is used, and gives each module's values (a class to extend, a module to enumerate)", async () => {
    // Prepare
    writeFileSync(join(dir, 'entry.ts'), ENTRY);
    writeFileSync(join(dir, 'dep.cjs'), DEP);
    const out = await bundleFunction({ entry: join(dir, 'entry.ts'), outdir: join(dir, 'out'), minify: false });

    // Act
    const printed = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(out)}); console.log(JSON.stringify({ before: m.before, ...m.use() }));`,
      ],
      { encoding: 'utf8' },
    );

    // Assess
    expect(readFileSync(out, 'utf8')).not.toMatch(/from\s*["'](node:)?(crypto|events|util|path|fs)["']/);
    expect(JSON.parse(printed)).toEqual({
      before: 0,
      n: 0,
      cert: 'function',
      text: '{ a: 1 }',
      sep: '/',
      heard: true,
      fsExports: true,
      after: 1,
    });
  });
});
