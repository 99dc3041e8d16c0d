/**
 * One fresh process of the shapes scenario (scripts/bench/shapes.ts), started inside the cgroups of
 * one Lambda memory size: it loads one client (shape-clients.mjs) and nothing else, runs one task,
 * and reports on fd 3 in JSON lines — stdout is lambda-kafka's (its logs and EMF documents), a pipe
 * read by `cat` in the same CPU group, as Lambda reads a function's output (shape-run.ts).
 *
 *   node shape-child.mjs <lambda-kafka|raw|kafkajs|platformatic> <shape|fit-produce|fit-drain> '<options JSON>'
 *
 * shape:       first message → {"type":"acknowledged"} (the parent times the cold start to it), then
 *              warm-up and timed 1-message sends, then untimed + timed batches, then `steadyWarmUp`
 *              more untimed 1-message sends and `warm` timed again (JIT-compiled code by then).
 * cold:        first message → {"type":"acknowledged"}, then the warm-up and the timed 1-message sends of
 *              shape and nothing more (more cold starts and warm p50s per run, at little cost).
 * fit-produce: one 1-message send (connecting), then one of `fitMessages`, timed.
 * fit-drain:   reads `drainMessages` with a fresh group.
 * Every task ends with {"type":"result", …, "vmHwmBytes"}; a failure with {"type":"error"} and exit code 1.
 */
import { readFileSync, writeSync } from 'node:fs';
import { drains, lambdaContext, producers } from './shape-clients.mjs';

const [client, task, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}');

function report(message) {
  writeSync(3, `${JSON.stringify(message)}\n`);
}

/** The process's peak resident set (VmHWM), from the kernel's own count. */
function vmHwmBytes() {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : undefined;
}

/** CPU time of every thread of the process (librdkafka's included) since `before`, in µs. */
function cpuMicrosSince(before) {
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

async function timed(body) {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

/** One invocation: its Lambda context built first, as the runtime does before it calls the handler. */
function send(producer, prepared) {
  return producer.send(prepared, lambdaContext(options));
}

/** One invocation, timed from the handler's call to its answer (the context is built before the clock starts). */
async function timedSend(producer, prepared) {
  const context = lambdaContext(options);
  return timed(() => producer.send(prepared, context));
}

/** `warmUp` untimed 1-message sends, then `warm` timed: each one's ms, and the CPU per send over the timed ones. */
async function warmSends(producer, one) {
  for (let i = 0; i < options.warmUp; i++) await send(producer, one);
  const warmMs = [];
  const warmCpu = process.cpuUsage();
  for (let i = 0; i < options.warm; i++) warmMs.push(await timedSend(producer, one));
  return { warmMs, warmCpuMicros: cpuMicrosSince(warmCpu) / options.warm };
}

async function shape(producer) {
  const one = producer.prepare(1);
  const batch = producer.prepare(options.batchSize);
  await send(producer, one);
  report({ type: 'acknowledged' });
  const { warmMs, warmCpuMicros } = await warmSends(producer, one);
  await send(producer, batch);
  const contexts = Array.from({ length: options.batches }, () => lambdaContext(options));
  const batchCpu = process.cpuUsage();
  const batchMs = await timed(async () => {
    for (const context of contexts) await producer.send(batch, context);
  });
  // Read now: the 1-message sends below are not the batches' CPU.
  const batchCpuMicros = cpuMicrosSince(batchCpu);
  const messages = options.batches * options.batchSize;
  for (let i = 0; i < options.steadyWarmUp; i++) await send(producer, one);
  const steadyMs = [];
  for (let i = 0; i < options.warm; i++) steadyMs.push(await timedSend(producer, one));
  return {
    warmMs,
    steadyMs,
    warmCpuMicros,
    batchMessagesPerSecond: messages / (batchMs / 1000),
    batchCpuMicrosPerMessage: batchCpuMicros / messages,
  };
}

async function cold(producer) {
  const one = producer.prepare(1);
  await send(producer, one);
  report({ type: 'acknowledged' });
  return warmSends(producer, one);
}

async function fitProduce(producer) {
  const one = producer.prepare(1);
  const many = producer.prepare(options.fitMessages);
  await send(producer, one);
  return { wallMs: await timedSend(producer, many) };
}

const tasks = {
  shape: async () => shape(await producers[client](options)),
  cold: async () => cold(await producers[client](options)),
  'fit-produce': async () => fitProduce(await producers[client](options)),
  'fit-drain': () => drains[client](options, options.drainMessages),
};

/** An error with what it aggregates and what caused it (@platformatic/kafka reports a broker's refusal as a cause). */
function describeError(error, depth = 0) {
  if (depth > 3 || !error) return '';
  const inner = [...(error.errors ?? []), ...(error.cause ? [error.cause] : [])];
  const code = error.code ? ` [${error.code}]` : '';
  return [`${error.message ?? error}${code}`, ...inner.map((e) => `  ${describeError(e, depth + 1)}`)].join('\n');
}

try {
  if (!producers[client] || !tasks[task]) throw new Error(`unknown client or task: ${client} ${task}`);
  const result = await tasks[task]();
  report({ type: 'result', ...result, vmHwmBytes: vmHwmBytes() });
  process.exit(0);
} catch (error) {
  process.stderr.write(`${client} ${task}: ${error.stack ?? error}\n${describeError(error)}\n`);
  report({ type: 'error', message: describeError(error) });
  process.exit(1);
}
