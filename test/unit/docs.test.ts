/**
 * The README and docs/ hold together: every relative link resolves (the file, and the heading its
 * anchor names), and every TypeScript code block type-checks against the package's entry points
 * (`lambda-kafka`, `/esbuild`, `/middy`, mapped to src/), as a user's file would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';

const PAGES = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).map((name) => `docs/${name}`)].filter((page) =>
  page.endsWith('.md'),
);

/** The page's text with fenced code blocks blanked out (their lines kept), so nothing in a block counts. */
function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (line.trimStart().startsWith('```')) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  const text = prose(readFileSync(join(REPO_ROOT, page), 'utf8'));
  return new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] as string)));
}

function relativeLinks(page: string): { target: string; line: number }[] {
  const lines = prose(readFileSync(join(REPO_ROOT, page), 'utf8')).split('\n');
  return lines.flatMap((text, i) =>
    [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ target, line: i + 1 })),
  );
}

describe('the README and docs/', () => {
  it('have pages of one topic each, and a README of at most about 200 lines', () => {
    expect(PAGES.length).toBeGreaterThan(10);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(200);
    for (const page of PAGES) {
      const titles = prose(readFileSync(join(REPO_ROOT, page), 'utf8')).match(/^# .+$/gm) ?? [];
      expect(titles, `${page}: one title`).toHaveLength(1);
    }
  });

  it.each(PAGES)('%s: every relative link resolves, to a heading where it names one', (page) => {
    const broken: string[] = [];
    for (const { target, line } of relativeLinks(page)) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? join(REPO_ROOT, page) : resolve(dirname(join(REPO_ROOT, page)), path);
      if (!existsSync(file)) broken.push(`${page}:${line}: ${target}: no such file`);
      else if (anchor && file.endsWith('.md') && !anchors(relative(REPO_ROOT, file)).has(anchor))
        broken.push(`${page}:${line}: ${target}: no heading #${anchor} in ${relative(REPO_ROOT, file)}`);
    }
    expect(broken).toEqual([]);
  });

  it('every TypeScript code block type-checks against the package', () => {
    // Prepare: each block a module of its own, in a directory whose tsconfig maps the entry points
    const dir = join(REPO_ROOT, '.build', 'doc-blocks');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const blocks: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(REPO_ROOT, page), 'utf8');
      for (const [i, m] of [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].entries()) {
        const file = `${page.replace(/[/.]/g, '_')}_${i + 1}.ts`;
        writeFileSync(join(dir, file), m[1] as string);
        blocks.push(file);
      }
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: {
          noEmit: true,
          paths: {
            'lambda-kafka': ['../../src/index.ts'],
            'lambda-kafka/esbuild': ['../../src/esbuild.ts'],
            'lambda-kafka/middy': ['../../src/middy.ts'],
          },
        },
        include: ['*.ts'],
      }),
    );

    // Act
    let output = '';
    try {
      execFileSync(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    }

    // Assess
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(output, `blocks in ${dir}`).toBe('');
  }, 120_000);

  it('npm run docs builds the API reference from the types with no warning (typedoc.json treats warnings as errors)', () => {
    let output = '';
    let failed = false;
    try {
      output = execFileSync(join(REPO_ROOT, 'node_modules/.bin/typedoc'), [], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      failed = true;
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    }
    expect(failed, output).toBe(false);
    expect(output).not.toMatch(/warning/i);
    expect(existsSync(join(REPO_ROOT, '.build/api/index.html'))).toBe(true);
  }, 120_000);
});
