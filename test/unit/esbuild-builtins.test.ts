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
import { inspect } from 'node:util';
import * as path from 'path';
const loaded = () => process.moduleLoadList.filter((m) => m === 'NativeModule crypto').length;
export const before = loaded();
export function use() {
  return { n: randomInt(0, 1), cert: typeof X509Certificate, text: inspect({ a: 1 }), sep: path.sep, after: loaded() };
}
`;

describe('bundleFunction', () => {
  it("imports no built-in as an ES module, loads one only when it is used, and gives the module's values", async () => {
    // Prepare
    writeFileSync(join(dir, 'entry.ts'), ENTRY);
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
    expect(readFileSync(out, 'utf8')).not.toMatch(/from\s*["'](node:)?(crypto|util|path)["']/);
    expect(JSON.parse(printed)).toEqual({ before: 0, n: 0, cert: 'function', text: '{ a: 1 }', sep: '/', after: 1 });
  });
});
