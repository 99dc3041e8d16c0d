/**
 * One emulated Lambda execution environment: a long-lived process that loads a handler once
 * (module scope survives between invocations, as in Lambda) and runs invocations sent over IPC,
 * each with a context whose getRemainingTimeInMillis() runs on the real clock.
 * Usage (through LambdaEnvironment): node --import tsx scripts/lambda/runtime.ts <module> <export>
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

interface InvokeMessage {
  type: 'invoke';
  id: number;
  event: unknown;
  timeoutMs: number;
}

type Handler = (event: unknown, context: object) => Promise<unknown>;

const [modulePath, exportName = 'handler'] = process.argv.slice(2);
if (!modulePath || !process.send) {
  console.error('usage: runtime.ts <handler module> [export], started by LambdaEnvironment (with IPC)');
  process.exit(2);
}

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local-function';
const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
const handler = module[exportName] as Handler;
if (typeof handler !== 'function') {
  console.error(`${modulePath} has no exported function "${exportName}"`);
  process.exit(2);
}

function serializeError(error: unknown) {
  const e = error as Error & { classification?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error) };
}

process.on('message', async (message: InvokeMessage) => {
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
  let reply: object;
  try {
    reply = { ok: true, value: await handler(message.event, context) };
  } catch (error) {
    reply = { ok: false, error: serializeError(error) };
  }
  process.send?.({ type: 'result', id: message.id, durationMs: Date.now() - started, ...reply });
});

process.send({ type: 'ready' });
