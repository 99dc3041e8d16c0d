/**
 * lambda-kafka as a library, tried as a user would: `npm pack`, the tarball installed into an empty
 * project offline (from the tarball and npm's cache), a handler in TypeScript importing only the
 * public API, type-checked with tsc against the shipped .d.ts, bundled with `lambda-kafka/esbuild`,
 * and run in the emulated Lambda against the local broker: it produces, consumes with its own
 * processor, and returns the health status, with the user's own Powertools Logger and Metrics (one
 * EMF document per invocation, holding both the user's metric and the library's). The same tarball is
 * checked as publishing tools check it: publint, Are the Types Wrong? (as an ESM-only package), and the
 * file list of `npm publish --dry-run`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { LambdaEnvironment } from '../../scripts/lambda/environment.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { emf, logLines, track } from '../support/lambda.js';

const scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-user-'));
let tarball: string;
let files: string[];

const version = (name: string) =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/**
 * A lockfile for the user's project: lambda-kafka from the tarball, and every package it (and the
 * build tools) needs at the version, URL and integrity this repository's lockfile has, so that
 * `npm ci --offline` finds each in npm's cache.
 */
function lockFor(manifest: { dependencies: Record<string, string> }, tools: string[]) {
  const repo = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as LockEntry & { version: string };
  const packages: Record<string, LockEntry> = {};
  const visit = (name: string, from: string) => {
    // Node's resolution over the lockfile's tree: nested first, then each parent up to the top.
    let base = from;
    for (;;) {
      const path = `${base ? `${base}/` : ''}node_modules/${name}`;
      const entry = repo.packages[path];
      if (entry) {
        if (packages[path]) return;
        // npm leaves `resolved` out of some entries; the registry's tarball URL is what the cache holds.
        const tarball = `${name.split('/').pop()}-${entry.version}.tgz`;
        packages[path] = { resolved: `https://registry.npmjs.org/${name}/-/${tarball}`, ...entry };
        for (const child of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(child, path);
        for (const peer of Object.keys(entry.peerDependencies ?? {})) {
          if (!entry.peerDependenciesMeta?.[peer]?.optional) visit(peer, path);
        }
        return;
      }
      if (!base) return;
      base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '';
    }
  };
  const requiredPeers = Object.keys(own.peerDependencies ?? {}).filter((p) => !own.peerDependenciesMeta?.[p]?.optional);
  for (const name of [...Object.keys(own.dependencies ?? {}), ...requiredPeers, ...tools]) visit(name, '');
  const { dependencies, peerDependencies, peerDependenciesMeta } = own;
  packages['node_modules/lambda-kafka'] = {
    version: own.version,
    resolved: 'file:lambda-kafka.tgz',
    dependencies,
    peerDependencies,
    peerDependenciesMeta,
  } as LockEntry;
  return {
    name: 'orders',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'orders', dependencies: manifest.dependencies }, ...packages },
  };
}

/** The user's handler: the public API only, their own Powertools instances, their own processor. */
const HANDLER = `
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import {
  type ConsumedMessage,
  consumeBatch,
  type DirectResult,
  type DrainResult,
  type HealthStatus,
  KafkaInitializer,
  type MessageProcessor,
  produce,
} from 'lambda-kafka';

const logger = new Logger({ serviceName: 'orders' });
const metrics = new Metrics({ namespace: 'Orders', serviceName: 'orders' });
const kafka = new KafkaInitializer({ logger, metrics });

const seen: ConsumedMessage[] = [];
const remember: MessageProcessor = async (message, { log }) => {
  seen.push(message);
  log.info('order received', { key: message.key });
};

type Event = { action: 'produce'; values: string[] } | { action: 'consume' } | { action: 'health' };
type Result = DirectResult | { drain: DrainResult; values: (string | null)[] } | HealthStatus;

const run = kafka.handler(async (event: Event, invocation): Promise<Result> => {
  metrics.addMetric('orders_invocations', MetricUnit.Count, 1);
  if (event.action === 'produce') {
    return (await produce(kafka, { messages: event.values.map((value) => ({ key: value, value })) }, invocation)) as DirectResult;
  }
  if (event.action === 'consume') {
    const drain = await consumeBatch(kafka, { idleMs: 1000 }, invocation, remember);
    return { drain, values: seen.map((m) => m.value?.toString('utf8') ?? null) };
  }
  return kafka.checkHealth(invocation);
});

// The library has added its metrics once run() returns: one document for both.
export const handler = async (event: Event, context: Context): Promise<Result> => {
  try {
    return await run(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
};
`;

const BUILD = `
import { bundleFunction, checkImport, copyBinding } from 'lambda-kafka/esbuild';
await bundleFunction({ entry: 'src/handler.ts', outdir: 'task/dist', nodeMajor: Number(process.versions.node.split('.')[0]) });
// For Lambda (x86_64, Node 22) this machine's source build is refused; to run here, copied unchecked.
try {
  copyBinding('task');
  console.log('not refused');
} catch (error) {
  console.log(JSON.stringify({ refused: error.name, message: error.message }));
}
console.log(copyBinding('task', undefined, null).join(','));
checkImport('task', 'dist/index.mjs');
`;

beforeAll(() => {
  // Pack: prepack compiles lib/ (ESM, .d.ts, source maps).
  const packed = run('npm', ['pack', '--pack-destination', scratch, '--json'], REPO_ROOT);
  const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(scratch, (info as { filename: string }).filename);
  files = (info as { files: { path: string }[] }).files.map((f) => f.path);

  // An empty project, installed offline from the tarball and npm's cache (npm ci: by the tarballs'
  // integrity, which the cache holds once this repository was installed; `npm install --offline`
  // would also need the registry's package documents, which `npm ci` never caches).
  const project = join(scratch, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  cpSync(tarball, join(project, 'lambda-kafka.tgz'));
  const tools = ['esbuild', 'typescript', '@types/node', '@types/aws-lambda'];
  const manifest = {
    name: 'orders',
    private: true,
    type: 'module',
    dependencies: {
      'lambda-kafka': 'file:lambda-kafka.tgz',
      ...Object.fromEntries(tools.map((name) => [name, version(name)])),
    },
  };
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lockFor(manifest, tools), null, 2));
  // The binding's install script builds librdkafka (90 s, or a download where GitHub is reachable);
  // its build is taken from this repository's node_modules below: same version, same Node.
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
  for (const dir of ['Release', 'deps']) {
    cpSync(
      join(REPO_ROOT, 'node_modules/@confluentinc/kafka-javascript/build', dir),
      join(project, 'node_modules/@confluentinc/kafka-javascript/build', dir),
      { recursive: true },
    );
  }
  writeFileSync(join(project, 'src/handler.ts'), HANDLER);
  writeFileSync(join(project, 'build.mjs'), BUILD);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['src'],
    }),
  );
}, 600_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('the packed library in a project of its own', () => {
  it('ships compiled ESM with types and source maps, the CLI, and nothing from the tests or the local Kafka', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'lib/index.js',
        'lib/index.d.ts',
        'lib/index.js.map',
        'lib/esbuild.js',
        'lib/esbuild.d.ts',
        'lib/middy.js',
        'lib/middy.d.ts',
        'bin/lambda-kafka.mjs',
        'package.json',
        'README.md',
        'CHANGELOG.md',
      ]),
    );
    expect(files.filter((f) => /^(test|scripts|src|handlers|\.kafka|\.build|dist)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(
      readFileSync(join(scratch, 'project/node_modules/lambda-kafka/package.json'), 'utf8'),
    ) as { exports: Record<string, unknown>; engines: Record<string, string>; bin: Record<string, string> };
    expect(Object.keys(manifest.exports)).toEqual(['.', './esbuild', './middy', './package.json']);
    expect(manifest.engines.node).toBeDefined();
    expect(manifest.bin['lambda-kafka']).toBe('bin/lambda-kafka.mjs');
  });

  it('type-checks a handler against the shipped .d.ts, bundles it with lambda-kafka/esbuild, and runs it: produce, consume, health', async () => {
    // Prepare
    const project = join(scratch, 'project');
    run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project);
    const [refusal, copied] = run(process.execPath, ['build.mjs'], project).trim().split('\n');
    const topic = uniqueName('library');
    await createTopic(topic, 1);
    const lambda = track(
      await LambdaEnvironment.start({
        handler: join(project, 'task/dist/index.mjs'),
        cwd: join(project, 'task'),
        cleanEnv: true,
        env: {
          PATH: process.env.PATH as string,
          ...envFor('PLAINTEXT'),
          KAFKA_TOPICS: topic,
          KAFKA_CONSUMER_GROUP_ID: uniqueName('library-group'),
          KAFKA_CONSUMER_INIT_DELAY: '0.5',
          AWS_LAMBDA_FUNCTION_NAME: 'orders',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      }),
    );

    // Act
    const produced = await lambda.invoke<{ sent: number }>(
      { action: 'produce', values: ['a-1', 'a-2', 'a-3'] },
      20_000,
    );
    const consumed = await lambda.invoke<{ drain: { processed: number }; values: string[] }>(
      { action: 'consume' },
      30_000,
    );
    const health = await lambda.invoke<{ status: string; reasons: string[] }>({ action: 'health' }, 20_000);

    // Assess
    expect(copied).toBe('@confluentinc/kafka-javascript,bindings,file-uri-to-path');
    // The repository's binding is built for this machine's Node and links the system's libraries.
    const { refused, message } = JSON.parse(refusal as string) as { refused: string; message: string };
    expect(refused).toBe('BindingMismatchError');
    expect(message).toContain(
      `is compiled for Node ${process.versions.node.split('.')[0]} (NODE_MODULE_VERSION ${process.versions.modules}); the function's Node 22 needs 127`,
    );
    expect(message).toMatch(
      /build\/deps\/librdkafka\.so\.1 needs .*libssl\.so\.3.*, which Lambda's Node\.js runtimes do not have/,
    );
    expect(message).toContain(
      'npm install @confluentinc/kafka-javascript --target_platform=linux --target_arch=x64 --target_libc=glibc --target=22.0.0',
    );
    expect(readdirSync(join(project, 'task/node_modules/@confluentinc/kafka-javascript/build/Release'))).toEqual(
      expect.arrayContaining(['confluent-kafka-javascript.node']),
    );
    expect(produced.ok, produced.error?.message).toBe(true);
    expect(produced.value?.sent).toBe(3);
    expect(consumed.ok, consumed.error?.message).toBe(true);
    expect(consumed.value?.drain.processed).toBe(3);
    expect(consumed.value?.values).toEqual(['a-1', 'a-2', 'a-3']);
    expect(health.ok, health.error?.message).toBe(true);
    expect(health.value?.status, JSON.stringify(health.value?.reasons)).toBe('healthy');
    for (const invocation of [produced, consumed, health]) {
      // One EMF document per invocation: the user's namespace, their metric and the library's.
      const documents = emf(invocation.output);
      expect(documents).toHaveLength(1);
      const warnings = logLines(invocation.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR');
      expect(documents[0], JSON.stringify(warnings)).toMatchObject({
        orders_invocations: 1,
        connection_errors_total: 0,
      });
    }
    expect(emf(produced.output)[0]?.messages_produced).toBe(3);
    expect(emf(consumed.output)[0]?.messages_consumed).toBe(3);
    const [document] = produced.output.filter((l) => l.startsWith('{"_aws"'));
    const namespaces = (JSON.parse(document as string) as { _aws: { CloudWatchMetrics: { Namespace: string }[] } })._aws
      .CloudWatchMetrics;
    expect(namespaces.map((m) => m.Namespace)).toEqual(['Orders']);
    // The library logged through a child of the user's Logger: their service name on its lines.
    const lines = logLines(consumed.output);
    expect(lines.find((l) => l.message === 'order received')?.service).toBe('orders');
    expect(lines.find((l) => /Consumer connected successfully/.test(l.message))?.service).toBe('orders');
  });
});

/** The entry points in package.json's "exports" that hold code (and types), beside ./package.json. */
const ENTRY_POINTS = { '.': 'index', './esbuild': 'esbuild', './middy': 'middy' } as const;

/** What attw's JSON report says of one entry point under one module resolution. */
type AttwResolution = { resolution?: { fileName: string }; implementationResolution?: { fileName: string } };
type AttwReport = {
  analysis: {
    entrypoints: Record<string, { resolutions: Record<string, AttwResolution> }>;
    problems: { kind: string; entrypoint?: string; resolutionKind?: string }[];
  };
};

describe('the tarball, checked as publishing tools check it', () => {
  it('passes publint with no error (warnings and suggestions are printed)', async () => {
    // Prepare: the bytes npm would upload, as an ArrayBuffer of their own.
    const data = readFileSync(tarball);
    const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;

    // Act
    const { messages, pkg } = await publint({ pack: { tarball: bytes }, level: 'suggestion' });

    // Assess
    const listed = (type: string) =>
      messages.filter((m) => m.type === type).map((m) => `${m.code}: ${formatMessage(m, pkg, { color: false })}`);
    for (const line of [...listed('warning'), ...listed('suggestion')]) console.warn(`publint: ${line}`);
    expect(listed('error'), 'publint errors in the packed tarball').toEqual([]);
  });

  it('has types that resolve for every entry point in ESM (attw --profile esm-only), reading only the tarball', () => {
    // Act: --no-definitely-typed so that attw never asks the registry for @types packages.
    const attw = spawnSync(
      'npx',
      ['--no-install', 'attw', tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'json'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Assess
    expect(attw.stdout.trim().startsWith('{'), `attw printed no JSON report:\n${attw.stdout}${attw.stderr}`).toBe(true);
    const { analysis } = JSON.parse(attw.stdout) as AttwReport;
    // The esm-only profile leaves out what an ESM-only package does not offer: require() (node16-cjs) and the
    // resolution without "exports" (node10). Anything else is a problem for ESM users.
    const ignored = new Set(['node10', 'node16-cjs']);
    const problems = analysis.problems.filter((p) => !p.resolutionKind || !ignored.has(p.resolutionKind));
    expect(problems, 'attw problems for ESM users').toEqual([]);
    expect(attw.status, `attw --profile esm-only failed:\n${attw.stderr}`).toBe(0);
    expect(Object.keys(analysis.entrypoints).sort()).toEqual(['.', './esbuild', './middy', './package.json']);
    for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
      for (const kind of ['node16-esm', 'bundler']) {
        const resolved = analysis.entrypoints[entry]?.resolutions[kind];
        expect(resolved?.resolution?.fileName, `types of ${entry} under ${kind}`).toBe(
          `/node_modules/lambda-kafka/lib/${file}.d.ts`,
        );
        expect(resolved?.implementationResolution?.fileName, `JavaScript of ${entry} under ${kind}`).toBe(
          `/node_modules/lambda-kafka/lib/${file}.js`,
        );
      }
    }
  });

  it('publishes exactly lib/ (each module of src/ as .js with its source map and .d.ts), the CLI, package.json, README, CHANGELOG and LICENSE (npm publish --dry-run)', () => {
    // Prepare: what should ship, from src/: tsc writes four files in lib/ for each module.
    const modules = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -'.ts'.length));
    const expected = [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'bin/lambda-kafka.mjs',
      'package.json',
      ...modules.flatMap((m) => [`lib/${m}.js`, `lib/${m}.js.map`, `lib/${m}.d.ts`]),
    ].sort();

    // Act: lib/ is the one beforeAll's pack compiled (--ignore-scripts: no second build). Never a real
    // publish: --dry-run, --offline (npm does not ask the registry whether the version exists) and a registry
    // nothing listens on.
    const output = run(
      'npm',
      ['publish', '--dry-run', '--json', '--offline', '--ignore-scripts', '--registry', 'http://127.0.0.1:9/'],
      REPO_ROOT,
    );

    // Assess
    // npm 11 keys the report by package name; npm 10 printed the package's report itself.
    const parsed = JSON.parse(output.slice(output.indexOf('{'))) as Record<string, unknown>;
    const report = (parsed['lambda-kafka'] ?? parsed) as { files?: { path: string }[] };
    const published = (report.files ?? []).map((f) => f.path).sort();
    expect(published.length, `npm publish --dry-run listed no files:\n${output}`).toBeGreaterThan(0);
    expect(
      published.filter((f) => !expected.includes(f)),
      'published but should not be (a stale lib/ file from a removed module?)',
    ).toEqual([]);
    expect(
      expected.filter((f) => !published.includes(f)),
      'should be published but is not',
    ).toEqual([]);
    expect(published, 'npm publish and npm pack ship different files').toEqual([...files].sort());
  });
});
