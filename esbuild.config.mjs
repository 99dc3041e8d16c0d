/**
 * Bundles each handler into dist/<name>/index.mjs (ESM, minified, with source maps), keeping the
 * native binding external: it ships in node_modules (scripts/packaging.cjs). Then proves the
 * bundles load: the package's files are copied into an empty directory and each bundle is
 * imported from there by plain node; a bundle that would not find the binding fails the build.
 *
 *   node esbuild.config.mjs            build and check
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const { RUNTIME_FILES } = createRequire(import.meta.url)('./scripts/packaging.cjs');

export const HANDLERS = ['produce', 'consume', 'health-check'];

/** The binding cannot be bundled; the AWS SDK and the MSK IAM signer are loaded only if present. */
const EXTERNAL = ['@confluentinc/kafka-javascript', 'aws-msk-iam-sasl-signer-js', '@aws-sdk/*'];

async function bundle(name) {
  await build({
    entryPoints: [join(root, 'handlers', `${name}.ts`)],
    outfile: join(root, 'dist', name, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: true,
    external: EXTERNAL,
    // Bundled CommonJS code may call require(); ESM has none unless we make one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}

function toRegExp(pattern) {
  const source = pattern
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** The files serverless.yml packages, relative to the repository root. */
export function packagedFiles() {
  const patterns = RUNTIME_FILES.map(toRegExp);
  const roots = [
    'dist',
    'node_modules/@confluentinc/kafka-javascript',
    'node_modules/bindings',
    'node_modules/file-uri-to-path',
  ];
  return roots
    .filter((dir) => statSync(join(root, dir), { throwIfNoEntry: false })?.isDirectory())
    .flatMap((dir) => [...walk(join(root, dir))].map((file) => relative(root, file)))
    .filter((file) => patterns.some((pattern) => pattern.test(file)));
}

/** Copies the package into an empty directory and imports every bundle there with plain node. */
export function checkPackage() {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-kafka-package-'));
  try {
    for (const file of packagedFiles()) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(root, file), join(dir, file));
    }
    for (const name of HANDLERS) {
      const script = `const m = await import('./dist/${name}/index.mjs'); if (typeof m.handler !== 'function') throw new Error('no handler export'); process.exit(0);`;
      try {
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: dir,
          env: { PATH: process.env.PATH, KAFKA_BOOTSTRAP_SERVERS: 'localhost:9092' },
          stdio: 'pipe',
        });
      } catch (error) {
        throw new Error(`dist/${name}/index.mjs does not load from the deployment package's files:\n${error.stderr}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await Promise.all(HANDLERS.map(bundle));
  checkPackage();
  console.log(
    `Built ${HANDLERS.map((name) => `dist/${name}/index.mjs`).join(', ')}; each loads from the packaged files alone.`,
  );
}
