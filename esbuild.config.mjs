/**
 * Bundles each handler into dist/<name>/index.mjs (ESM, minified, with source maps) with the helper
 * the library offers its users (src/esbuild.ts, `lambda-kafka/esbuild`): the native binding stays
 * external, since esbuild cannot bundle a native addon and the binding's loader looks for its
 * package root (confluent-kafka-javascript#320). The deployment package ships the binding built for
 * the Lambda runtime beside the bundles (scripts/package/).
 *
 *   npx tsx esbuild.config.mjs [--node 22]     bundle for that Node major (default 22, nodejs22.x)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { bundleFunction } from './src/esbuild.js';

const root = dirname(fileURLToPath(import.meta.url));

export const HANDLERS = ['produce', 'consume', 'health-check', 'forward'];

/**
 * protobufjs and avro-js are Powertools Kafka's optional peers, imported only for a Protobuf or Avro
 * schema (the forward function decodes JSON), so they are not installed and cannot be bundled.
 */
const OPTIONAL_PEERS = ['protobufjs', 'avro-js'];

/** Bundles every handler for Node `nodeMajor` into `outdir` (default dist/), replacing what was there. */
export async function bundleHandlers({ nodeMajor = 22, outdir = join(root, 'dist') } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  return Promise.all(
    HANDLERS.map((name) =>
      bundleFunction({
        entry: join(root, 'handlers', `${name}.ts`),
        outdir: join(outdir, name),
        nodeMajor,
        external: OPTIONAL_PEERS,
      }),
    ),
  );
}

const SIGNER = 'aws-msk-iam-sasl-signer-js';

/**
 * The MSK IAM signer, which the bundles import only with KAFKA_SASL_MECHANISM=AWS_MSK_IAM, as one
 * bundled file in `nodeModules`/aws-msk-iam-sasl-signer-js (with the AWS SDK pieces it uses): the
 * package's own tree is dozens of packages. Returns the file written.
 */
export async function bundleSigner({ nodeMajor = 22, nodeModules }) {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve(`${SIGNER}/package.json`), 'utf8'));
  const dir = join(nodeModules, SIGNER);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  await build({
    entryPoints: [require.resolve(SIGNER)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${nodeMajor}`,
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const { name, version, license } = manifest;
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name, version, license, main: 'index.js' }, null, 2)}\n`,
  );
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { node: { type: 'string', default: '22' } } });
  const files = await bundleHandlers({ nodeMajor: Number(values.node) });
  console.log(`Bundled ${files.map((file) => file.slice(root.length + 1)).join(', ')}`);
}
