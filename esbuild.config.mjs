/**
 * Bundles each handler into dist/<name>/index.mjs (ESM, minified, with source maps), keeping the
 * native binding external: esbuild cannot bundle a native addon, and the binding's loader looks
 * for its package root (confluent-kafka-javascript#320). The deployment package ships the binding
 * built for the Lambda runtime beside the bundles (scripts/package/).
 *
 *   node esbuild.config.mjs [--node 22]     bundle for that Node major (default 22, nodejs22.x)
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));

export const HANDLERS = ['produce', 'consume', 'health-check', 'forward'];

/**
 * The binding cannot be bundled; the AWS SDK and the MSK IAM signer are loaded only if present.
 * protobufjs and avro-js are Powertools Kafka's optional peers, imported only for a Protobuf or Avro
 * schema (the forward function decodes JSON), so they are not installed and cannot be bundled.
 */
export const EXTERNAL = ['@confluentinc/kafka-javascript', 'aws-msk-iam-sasl-signer-js', 'protobufjs', 'avro-js'];

/** Bundles every handler for Node `nodeMajor` into `outdir` (default dist/), replacing what was there. */
export async function bundleHandlers({ nodeMajor = 22, outdir = join(root, 'dist') } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  await Promise.all(
    HANDLERS.map((name) =>
      build({
        entryPoints: { index: join(root, 'handlers', `${name}.ts`) },
        outdir: join(outdir, name),
        outExtension: { '.js': '.mjs' },
        // What is imported on first use only (the AWS SDK behind secret references) goes to chunks/,
        // loaded when used: every cold start would otherwise parse it.
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        bundle: true,
        platform: 'node',
        target: `node${nodeMajor}`,
        format: 'esm',
        minify: true,
        sourcemap: true,
        external: EXTERNAL,
        // Bundled CommonJS code may call require(); ESM has none unless we make one.
        banner: {
          js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        },
        logLevel: 'warning',
      }),
    ),
  );
  return HANDLERS.map((name) => join(outdir, name, 'index.mjs'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { node: { type: 'string', default: '22' } } });
  const files = await bundleHandlers({ nodeMajor: Number(values.node) });
  console.log(`Bundled ${files.map((file) => file.slice(root.length + 1)).join(', ')}`);
}
