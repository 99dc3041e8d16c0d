/**
 * The library page (docs/library.md) says what the package exports: every name its examples
 * import from lambda-kafka, lambda-kafka/esbuild or lambda-kafka/middy exists there, and every value
 * those entry points export is named in the section.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

const ENTRY_POINTS: Record<string, string> = {
  'lambda-kafka': 'src/index.ts',
  'lambda-kafka/esbuild': 'src/esbuild.ts',
  'lambda-kafka/middy': 'src/middy.ts',
};

const section = readFileSync(join(REPO_ROOT, 'docs/library.md'), 'utf8');

/** `import { a, type B } from 'lambda-kafka…'` in the section's examples: names per entry point. */
function importedNames(): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const match of section.matchAll(/import\s*\{([^}]+)\}\s*from\s*'(lambda-kafka(?:\/\w+)?)'/g)) {
    const list = (match[1] as string)
      .split(',')
      .map((n) => n.trim().replace(/^type\s+/, ''))
      .filter(Boolean);
    names.set(match[2] as string, [...(names.get(match[2] as string) ?? []), ...list]);
  }
  return names;
}

/** Every name an entry point exports, values and types, from its source. */
function exportedNames(file: string): Set<string> {
  const source = readFileSync(join(REPO_ROOT, file), 'utf8');
  const names = new Set<string>();
  for (const match of source.matchAll(/export\s+(?:type\s+)?\{([^}]+)\}/g)) {
    for (const part of (match[1] as string).split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  for (const match of source.matchAll(/export\s+(?:async\s+)?(?:function|const|class|interface|type)\s+(\w+)/g)) {
    names.add(match[1] as string);
  }
  return names;
}

describe('the library page', () => {
  it('imports only names the entry points export', () => {
    const imported = importedNames();
    expect([...imported.keys()].sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    for (const [entry, names] of imported) {
      const exported = exportedNames(ENTRY_POINTS[entry] as string);
      expect(
        names.filter((name) => !exported.has(name)),
        entry,
      ).toEqual([]);
    }
  });

  it('names every value the entry points export', async () => {
    for (const file of Object.values(ENTRY_POINTS)) {
      const module = (await import(join(REPO_ROOT, file))) as Record<string, unknown>;
      const unnamed = Object.keys(module).filter(
        (name) => !section.includes(`\`${name}`) && !section.includes(` ${name},`),
      );
      expect(unnamed, file).toEqual([]);
    }
  });
});
