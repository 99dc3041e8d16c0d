/**
 * One emulated Lambda execution environment: a long-lived process that loads a handler once
 * (module scope survives between invocations, as in Lambda) and runs invocations sent over IPC,
 * each with a context whose getRemainingTimeInMillis() runs on the real clock.
 * Plain JavaScript with no dependencies, so that it can also run a packaged bundle from an empty
 * directory. Started by LambdaEnvironment: node [--import tsx] runtime.mjs <module> [export]
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modulePath, exportName = 'handler'] = process.argv.slice(2);
if (!modulePath || !process.send) {
  console.error('usage: runtime.mjs <handler module> [export], started by LambdaEnvironment (with IPC)');
  process.exit(2);
}

// Lambda starts a function in its task root (a minimal root's chroot starts at /).
if (process.env.LAMBDA_TASK_ROOT) process.chdir(process.env.LAMBDA_TASK_ROOT);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local-function';
const module = await import(pathToFileURL(resolve(modulePath)).href);
const handler = module[exportName];
if (typeof handler !== 'function') {
  console.error(`${modulePath} has no exported function "${exportName}"`);
  process.exit(2);
}

process.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const started = Date.now();
  const end = started + message.timeoutMs;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => end - Date.now(),
  };
  let reply;
  try {
    reply = { ok: true, value: await handler(message.event, context) };
  } catch (error) {
    reply = { ok: false, error: { name: error?.name ?? 'Error', message: error?.message ?? String(error) } };
  }
  process.send?.({ type: 'result', id: message.id, durationMs: Date.now() - started, ...reply });
});

process.send({ type: 'ready' });
