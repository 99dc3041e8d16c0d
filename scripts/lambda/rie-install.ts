/**
 * Puts AWS's runtime pieces into a minimal root where a Lambda image keeps them: the RIC in
 * /var/runtime (index.mjs with rapid-client.node beside it), a /var/runtime/bootstrap that starts it
 * as the Lambda Node.js runtime's bootstrap does, RIE at /usr/local/bin/aws-lambda-rie, and the
 * /dev/null RIE opens for the runtime's stdin.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addDevNull, type MinimalRoot } from './minimal-root.js';
import { ensureRuntimeInterface, type RuntimeInterface } from './ric.js';
import { LAMBDA_NODE_FLAGS, type LambdaRuntime } from './runtimes.js';

/** Paths inside the root. */
export const RIE_IN_ROOT = '/usr/local/bin/aws-lambda-rie';
export const BOOTSTRAP_IN_ROOT = '/var/runtime/bootstrap';

/**
 * The runtime's bootstrap: Lambda's module path, heap limits from the memory size (a tenth for the
 * young generation, half of that per semi-space, the rest for the old one), AWS_EXECUTION_ENV, and
 * then node running the RIC in place of this process, with Lambda's node options.
 * A Node script rather than Lambda's shell script because the minimal root has no shell; execve
 * keeps one process, as `exec` does there, so RIE supervises the runtime itself.
 * With `emulator` (an arm64 root on x86_64, no binfmt_misc): the kernel cannot start an arm64 node,
 * but it can start QEMU's static emulator, so the script's interpreter line and the execve go
 * through it, with node as its argument.
 */
export function bootstrapScript(runtime: LambdaRuntime, nodeMajor: number, emulator?: string): string {
  const modulePath = [
    `/opt/nodejs/node${nodeMajor}/node_modules`,
    '/opt/nodejs/node_modules',
    '/var/runtime/node_modules',
    '/var/runtime',
    '/var/task',
  ].join(':');
  const node = emulator ? [emulator, '/var/lang/bin/node'] : ['/var/lang/bin/node'];
  return `#!${node.join(' ')}
// ${BOOTSTRAP_IN_ROOT} for ${runtime}, written by scripts/lambda/rie-install.ts.
const env = { ...process.env, AWS_EXECUTION_ENV: 'AWS_Lambda_${runtime}' };
if (!env.NODE_PATH) env.NODE_PATH = '${modulePath}';
const memory = Number.parseInt(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '', 10);
const heap = [];
if (memory > 0) {
  const young = Math.floor(memory / 10);
  heap.push(\`--max-semi-space-size=\${Math.floor(young / 2)}\`, \`--max-old-space-size=\${memory - young}\`);
}
const args = [...${JSON.stringify(LAMBDA_NODE_FLAGS).replaceAll('"', "'")}, ...heap, '/var/runtime/index.mjs'];
process.execve('${node[0]}', ${JSON.stringify(node).replaceAll('"', "'")}.concat(args), env);
`;
}

/**
 * Puts `content` (a file to copy, or the text) at `to` by renaming a new file over it: a root may
 * have a RIE or a runtime running from the old one, which must keep the file it has open.
 */
function replaceFile(to: string, content: { copy: string } | { text: string }, mode = 0o644): void {
  const next = `${to}.next-${process.pid}`;
  if ('copy' in content) copyFileSync(content.copy, next);
  else writeFileSync(next, content.text);
  chmodSync(next, mode);
  renameSync(next, to);
}

/**
 * Installs RIE and the RIC built for `runtime` into `root` (built on first use, cached in
 * .build/tools/). Returns what was installed.
 */
export function installRuntimeInterface(
  root: MinimalRoot,
  runtime: LambdaRuntime,
  log: (line: string) => void = () => {},
): RuntimeInterface {
  const pieces = ensureRuntimeInterface(runtime, log, root.architecture);
  const runtimeDir = join(root.dir, 'var', 'runtime');
  mkdirSync(runtimeDir, { recursive: true });
  for (const file of readdirSync(pieces.ric)) replaceFile(join(runtimeDir, file), { copy: join(pieces.ric, file) });
  const bootstrap = bootstrapScript(runtime, pieces.node.major, root.emulator);
  replaceFile(join(root.dir, BOOTSTRAP_IN_ROOT), { text: bootstrap }, 0o755);
  mkdirSync(join(root.dir, 'usr', 'local', 'bin'), { recursive: true });
  replaceFile(join(root.dir, RIE_IN_ROOT), { copy: pieces.rie }, 0o755);
  addDevNull(root.dir);
  return pieces;
}
