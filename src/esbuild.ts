/**
 * Bundling a Lambda function that uses lambda-kafka (`lambda-kafka/esbuild`), as this project
 * bundles its own: esbuild cannot bundle a native addon, and the binding's loader looks for its
 * package root at run time (confluent-kafka-javascript#320), so the binding stays external and is
 * copied beside the bundle, into node_modules/, with only the files Node loads.
 *
 * ```ts
 * import { bundleFunction, copyBinding, checkImport } from 'lambda-kafka/esbuild';
 * const task = 'build/my-function';                    // what you zip
 * await bundleFunction({ entry: 'src/handler.ts', outdir: `${task}/dist` });
 * copyBinding(task);                                   // from your node_modules
 * checkImport(task, 'dist/index.mjs');                 // loads as Lambda will, or throws why
 * ```
 *
 * The binding copied is the one installed: its `.node` file only loads in the Node major it was
 * built for, and on Lambda only if it is built for the function's architecture, for glibc, and
 * needs no library Lambda lacks (the prebuilt binary from GitHub does not). copyBinding() checks
 * what it copied against the function's target (binding-check.ts) and refuses a misfit, naming it.
 * esbuild is a peer dependency: this module is for build time.
 *
 * @module lambda-kafka/esbuild
 */

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';
import { assertBindingFits, type BindingTarget } from './binding-check.js';

export {
  assertBindingFits,
  BindingMismatchError,
  type BindingProblem,
  type BindingTarget,
  bindingProblems,
  type LambdaArchitecture,
  type NativeFileInfo,
  NODE_MODULE_VERSIONS,
  readNativeFile,
} from './binding-check.js';

/** What copyBinding() checks against unless told: Lambda's default architecture and nodejs22.x. */
export const DEFAULT_TARGET: BindingTarget = { architecture: 'x86_64', nodeMajor: 22 };

/** The native Kafka binding's package, which is left out of the bundle and copied beside it instead. */
export const BINDING_PACKAGE = '@confluentinc/kafka-javascript';

/** What is never bundled: the native binding, and the MSK IAM signer (an optional dependency, loaded on use). */
export const EXTERNAL: readonly string[] = [BINDING_PACKAGE, 'aws-msk-iam-sasl-signer-js'];

/** What goes into the package from each module: the files Node loads, and the licences. */
export const RUNTIME_FILES: Readonly<Record<string, (file: string) => boolean>> = {
  [BINDING_PACKAGE]: (file) =>
    file === 'package.json' ||
    file === 'librdkafka.js' ||
    /^LICENSE/.test(file) ||
    (file.startsWith('lib/') && file.endsWith('.js')) ||
    // The addon and librdkafka's libraries: beside it (the prebuilt binary, this project's Lambda
    // build) or in build/deps (a source build, whose RUNPATH is $ORIGIN/../deps).
    /^build\/(Release|deps)\/[^/]+\.(node|so(\.\d+)*)$/.test(file),
  bindings: (file) => ['package.json', 'bindings.js', 'LICENSE.md'].includes(file),
  'file-uri-to-path': (file) => ['package.json', 'index.js', 'LICENSE'].includes(file),
};

/** What bundleFunction() and buildOptions() take. */
export interface BundleOptions {
  /** The handler's source file. */
  entry: string;
  /** Where `index.mjs` (and lazily loaded chunks/) go, e.g. `<task>/dist/<function>`. */
  outdir: string;
  /** The Lambda runtime's Node major (nodejs22.x: 22). */
  nodeMajor?: number;
  /** Minify the bundle. Default true. */
  minify?: boolean;
  /** Write a source map beside the bundle. Default true. */
  sourcemap?: boolean;
  /** More modules to leave out of the bundle. */
  external?: readonly string[];
}

const BUILTIN = new RegExp(`^(node:.+|${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})$`);

/**
 * A built-in module loaded when one of its exports is first read, not when it is imported (a
 * bundled library may import one it only uses on a rare path: Powertools' Logger loads node:crypto
 * for log sampling). For `import` statements only: esbuild's interop copies a CommonJS module's own
 * keys onto an object whose prototype is the module; this proxy has none and is its own prototype,
 * so each named export read falls through to it and loads the module then. What `require()` gets,
 * and a built-in that is itself a function (node:events, node:stream, node:assert…), is the module.
 */
const LAZY_BUILTIN = `((id) => {
  let loaded;
  const load = () => (loaded ??= process.getBuiltinModule(id));
  const proxy = new Proxy(Object.create(null), {
    // esbuild's interop asks for __esModule, which no built-in has: answered without loading it.
    get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
    has: (_, key) => key in load(),
    ownKeys: () => [],
    getPrototypeOf: () => proxy,
  });
  return proxy;
})`;

/**
 * Node's built-in modules taken with process.getBuiltinModule() (Node 20.16 / 22.3) instead of ESM
 * imports, those imported by `import` statements each when first used. An ESM import of a built-in
 * builds a facade that reads every export, which runs the lazy getters behind them: `node:util`
 * loaded util/colors, util/diff and TextDecoder's encoding module. Importing the produce bundle took
 * about 50 ms of CPU at Node 22 on a full core, 33 ms this way; a 128 MB function has 7 % of a core,
 * so that is about 240 ms of every cold start. One caveat of the lazy form: enumerating an imported
 * built-in's namespace (`Object.keys(fs)` after `import * as fs`) finds no export.
 */
export const builtinsWithoutFacades: Plugin = {
  name: 'builtins-without-esm-facades',
  setup(build) {
    build.onResolve({ filter: BUILTIN }, (args) => {
      const path = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      if (args.kind === 'import-statement') return { path, namespace: 'node-builtin-lazy' };
      if (args.kind === 'require-call' || args.kind === 'dynamic-import') return { path, namespace: 'node-builtin' };
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin-lazy' }, (args) => {
      const callable = typeof process.getBuiltinModule(args.path) === 'function';
      const take = callable ? 'process.getBuiltinModule' : LAZY_BUILTIN;
      return { contents: `module.exports = ${take}(${JSON.stringify(args.path)});`, loader: 'js' };
    });
  },
};

/** esbuild's options for a Lambda handler using lambda-kafka: ESM for Node `nodeMajor`, the binding external. */
export function buildOptions(options: BundleOptions): BuildOptions {
  return {
    entryPoints: { index: options.entry },
    outdir: options.outdir,
    outExtension: { '.js': '.mjs' },
    // What is imported on first use only (the AWS SDK behind secret references) goes to chunks/,
    // loaded when used: every cold start would otherwise parse it.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: `node${options.nodeMajor ?? 22}`,
    format: 'esm',
    minify: options.minify ?? true,
    sourcemap: options.sourcemap ?? true,
    external: [...EXTERNAL, ...(options.external ?? [])],
    plugins: [builtinsWithoutFacades],
    // Bundled CommonJS code may call require(); ESM has none unless we make one.
    banner: {
      js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  };
}

/** Bundles one handler; returns the path of its `index.mjs`. */
export async function bundleFunction(options: BundleOptions): Promise<string> {
  const { build } = await import('esbuild');
  await build(buildOptions(options));
  return join(options.outdir, 'index.mjs');
}

/** Copies the files of module directory `from` that `keep` selects (default: RUNTIME_FILES[name]) into `to`. */
export function copyModule(
  name: string,
  from: string,
  to: string,
  keep: (file: string) => boolean = RUNTIME_FILES[name] as (file: string) => boolean,
): void {
  const walk = (dir: string): string[] =>
    readdirSync(join(from, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      return entry.isDirectory() ? walk(path) : [path];
    });
  for (const file of walk('').filter(keep)) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(from, file), join(to, file));
  }
}

/**
 * Copies the installed binding (and `bindings`, `file-uri-to-path`, which load it) into
 * `<taskDir>/node_modules`, resolved from `projectDir` (default: the current directory), and checks
 * the copy against `target` — the function's architecture and Node major (default x86_64, Node 22)
 * — throwing BindingMismatchError, with what was found and what to run instead, when it would not
 * load there (the copy is removed then). `null` copies without checking: a binding for this machine,
 * to run the task here.
 */
export function copyBinding(
  taskDir: string,
  projectDir = process.cwd(),
  target: BindingTarget | null = DEFAULT_TARGET,
): string[] {
  const require = createRequire(join(resolve(projectDir), 'package.json'));
  const copied: string[] = [];
  const root = (name: string, base?: string) => {
    const from = base ? createRequire(join(base, 'package.json')) : require;
    return dirname(from.resolve(`${name}/package.json`));
  };
  const binding = root(BINDING_PACKAGE);
  if (!existsSync(join(binding, 'build', 'Release'))) {
    throw new Error(
      `${binding} has no build/Release: the binding was installed without its native part (npm install --ignore-scripts?); run npm rebuild ${BINDING_PACKAGE}`,
    );
  }
  for (const name of Object.keys(RUNTIME_FILES)) {
    const from = name === BINDING_PACKAGE ? binding : root(name, binding);
    copyModule(name, from, join(taskDir, 'node_modules', name));
    copied.push(name);
  }
  if (target !== null) {
    const copy = join(taskDir, 'node_modules', BINDING_PACKAGE);
    try {
      assertBindingFits(copy, target, binding);
    } catch (error) {
      rmSync(copy, { recursive: true, force: true });
      throw error;
    }
  }
  return copied;
}

/**
 * Imports `handlerFile` (relative to `taskDir`) with `node` from inside `taskDir` and nothing else
 * on the module path, as Lambda does, and checks it exports `handler`; throws with Node's own
 * error otherwise (a missing module, a binding built for another Node major).
 */
export function checkImport(taskDir: string, handlerFile: string, node = process.execPath): void {
  const script = `const m = await import('./${handlerFile.replace(/^\.\//, '')}'); if (typeof m.handler !== 'function') throw new Error('no handler export');`;
  try {
    execFileSync(node, ['--input-type=module', '-e', script], {
      cwd: taskDir,
      env: { PATH: process.env.PATH, KAFKA_BOOTSTRAP_SERVERS: 'localhost:9092' },
      stdio: 'pipe',
    });
  } catch (error) {
    throw new Error(`${handlerFile} does not load from ${taskDir}:\n${(error as { stderr?: Buffer }).stderr ?? error}`);
  }
}
