/**
 * The deployment package run by AWS's own runtime pieces: the Runtime Interface Emulator and the
 * Node.js Runtime Interface Client, inside a minimal root (the runtime's node, glibc, libstdc++,
 * libgcc_s; no shell, no /etc), invoked over HTTP as Lambda invokes a function. The three functions
 * round-trip messages through the local broker over SASL_SSL; a function that outlives its timeout
 * is reported as timed out and the same environment serves the next invocation from a fresh runtime.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerEnvironment, readConnection } from '../../scripts/kafka/connection.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { freePort, RieEnvironment, type RieInvokeResult, type RieOptions } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../../scripts/lambda/runtimes.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import { iamEnv, issueIamCredentials } from '../support/iam.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { logLines } from '../support/lambda.js';
import { freshPackageZip } from '../support/package.js';

const RUNTIMES = Object.keys(LAMBDA_RUNTIMES) as LambdaRuntime[];

/** A handler that sleeps as long as the event asks and tells which runtime process served it. */
const SLEEPER = `let invocations = 0;
export const handler = async (event) => {
  invocations += 1;
  console.log('sleeping', event.sleepMs ?? 0);
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs ?? 0));
  return { pid: process.pid, invocations };
};
`;

/**
 * A handler whose module reads a file every 50 ms in the background (a libuv pool job each time) and
 * reports how many reads completed.
 */
const READER = `import { readFile } from 'node:fs/promises';
let reads = 0;
setInterval(() => void readFile('/var/task/rie-test/reader.mjs').then(() => { reads += 1; }), 50).unref();
export const handler = async () => ({ reads });
`;

/** The packages of the OpenTelemetry layer, from this repository's node_modules, and where a layer puts them. */
const OTEL_PACKAGES = ['api', 'sdk-trace-base', 'sdk-trace', 'core', 'resources', 'semantic-conventions'];
const OTEL_LAYER = 'opt/nodejs/node_modules/@opentelemetry';
/** What a tracing layer's wrapper does (ADOT's registers its SDK so): here, each span printed as a JSON line. */
const OTEL_REGISTER = `const { trace } = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const exporter = {
  export(spans, done) {
    for (const s of spans) {
      const { traceId, spanId } = s.spanContext();
      process.stdout.write(JSON.stringify({ otel_span: s.name, traceId, spanId, parent: s.parentSpanContext?.spanId, kind: s.kind, attributes: s.attributes, links: s.links.map((l) => l.context.spanId) }) + '\\n');
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
`;

interface PrintedSpan {
  otel_span: string;
  traceId: string;
  spanId: string;
  parent?: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: string[];
}

function printedSpans(output: readonly string[]): PrintedSpan[] {
  return output.filter((line) => line.startsWith('{"otel_span"')).map((line) => JSON.parse(line) as PrintedSpan);
}

/** One line per invocation, for comparing cold and warm starts under RIE with other runs. */
function report(runtime: string, name: string, result: RieInvokeResult): void {
  const init = result.initDurationMs === undefined ? 'warm' : `cold, init ${result.initDurationMs.toFixed(0)} ms`;
  console.log(
    `[rie ${runtime}] ${name}: ${init}; RIE duration ${result.durationMs.toFixed(0)} ms; round trip ${result.roundTripMs.toFixed(0)} ms`,
  );
}

describe.each(RUNTIMES)('the %s package under RIE and the RIC, in a minimal root', (runtime) => {
  let scratch: string;
  let root: MinimalRoot;
  const started: RieEnvironment[] = [];
  const start = async (options: Omit<RieOptions, 'root' | 'runtime'>) => {
    const environment = await RieEnvironment.start({ root, runtime, ...options });
    started.push(environment);
    return environment;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), `lambda-kafka-rie-${runtime}-`));
    const zip = await freshPackageZip(runtime, scratch);
    root = buildMinimalRoot(join(scratch, 'root'), ensureNodeRuntime(runtime), zip);
    mkdirSync(join(root.dir, 'opt', 'certs'), { recursive: true });
    copyFileSync(readConnection().listeners.SASL_SSL.caFile as string, join(root.dir, 'opt', 'certs', 'ca.pem'));
    mkdirSync(join(root.taskDir, 'rie-test'));
    writeFileSync(join(root.taskDir, 'rie-test', 'sleeper.mjs'), SLEEPER);
    writeFileSync(join(root.taskDir, 'rie-test', 'reader.mjs'), READER);
    // An OpenTelemetry "layer" where Lambda puts layers (/opt/nodejs/node_modules, on NODE_PATH): the
    // API and the SDK, and a preload that registers the SDK with an exporter that prints each span.
    for (const name of OTEL_PACKAGES) {
      cpSync(join(REPO_ROOT, 'node_modules', '@opentelemetry', name), join(root.dir, OTEL_LAYER, name), {
        recursive: true,
      });
    }
    writeFileSync(join(root.dir, 'opt', 'otel-register.cjs'), OTEL_REGISTER);
  }, 600_000);
  afterAll(async () => {
    await Promise.all(started.map((environment) => environment.shutdown()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('produces, consumes and checks health over SASL_SSL with a CA file, cold and then warm', async () => {
    // Prepare: serverless.yml's function settings, pointed at the local broker's SASL_SSL listener
    const topic = uniqueName(`rie-${runtime}`);
    await createTopic(topic, 2);
    const env = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'lambda-kafka',
      POWERTOOLS_METRICS_NAMESPACE: 'LambdaKafka',
      ...listenerEnvironment(readConnection().listeners.SASL_SSL),
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('rie-group'),
      KAFKA_CONSUMER_INIT_DELAY: '1',
    };
    const [first, ...rest] = ['one', 'two', 'three'].map((word) => `${topic}-${word}`);
    const messages = (keys: string[]) => ({ messages: keys.map((key) => ({ key, value: `${key} under RIE` })) });

    // Act
    const producer = await start({ handler: 'dist/produce/index.handler', env, timeoutSeconds: 30 });
    const produceCold = await producer.invoke<{ sent: number }>(messages([first as string]));
    const produceWarm = await producer.invoke<{ sent: number }>(messages(rest));
    // The default processor logs each message's key at DEBUG.
    const consumer = await start({
      handler: 'dist/consume/index.handler',
      env: { ...env, POWERTOOLS_LOG_LEVEL: 'DEBUG' },
      timeoutSeconds: 60,
    });
    const consumeCold = await consumer.invoke<DrainResult>({ idleMs: 1500 });
    const consumeWarm = await consumer.invoke<DrainResult>({ idleMs: 500 });
    const checker = await start({ handler: 'dist/health-check/index.handler', env, timeoutSeconds: 30 });
    const healthCold = await checker.invoke<HealthStatus>({});
    const healthWarm = await checker.invoke<HealthStatus>({});

    // Assess
    for (const [name, result] of Object.entries({
      produceCold,
      produceWarm,
      consumeCold,
      consumeWarm,
      healthCold,
      healthWarm,
    })) {
      report(runtime, name, result);
      expect(result.ok, `${name}: ${JSON.stringify(result.error)}\n${result.output.join('\n')}`).toBe(true);
      expect(result.timedOut).toBe(false);
      expect(result.initDurationMs === undefined, `${name} cold or warm`).toBe(name.endsWith('Warm'));
      expect(result.output.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${result.requestId}\\t`));
    }
    expect([produceCold.value?.sent, produceWarm.value?.sent]).toEqual([1, 2]);
    expect(consumeCold.value?.processed).toBe(3);
    expect(consumeWarm.value?.processed).toBe(0);
    const consumed = logLines(consumeCold.output).filter((line) => line.message === 'Message');
    expect(consumed.map((line) => line.key).sort()).toEqual([first, ...rest].sort());
    expect(healthCold.value?.status, JSON.stringify(healthCold.value?.reasons)).toBe('healthy');
    expect(healthWarm.value?.status, JSON.stringify(healthWarm.value?.reasons)).toBe('healthy');
    // The runtime is the RIC, started by the bootstrap with Lambda's environment.
    expect(logLines(produceCold.output)[0]).toMatchObject({ service: 'lambda-kafka' });
    expect(producer.diagnostics().join('\n')).toMatch(/INIT RTDONE\(status: success\)/);
  }, 180_000);

  it('produces, consumes and checks health with AWS_MSK_IAM: the package carries the signer, and the broker checks its token', async () => {
    // Prepare: role credentials as Lambda sets them; the signer is bundled into the package's node_modules
    const topic = uniqueName(`rie-iam-${runtime}`);
    await createTopic(topic, 1);
    const env = {
      POWERTOOLS_SERVICE_NAME: 'lambda-kafka',
      ...iamEnv(issueIamCredentials()),
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('rie-iam-group'),
    };
    const producer = await start({ handler: 'dist/produce/index.handler', env, timeoutSeconds: 30 });
    const consumer = await start({ handler: 'dist/consume/index.handler', env, timeoutSeconds: 30 });
    const checker = await start({ handler: 'dist/health-check/index.handler', env, timeoutSeconds: 30 });

    // Act
    const sent = await producer.invoke<{ sent: number }>({ messages: [{ key: 'iam', value: `signed in ${runtime}` }] });
    const drained = await consumer.invoke<DrainResult>({ idleMs: 1000 });
    const checked = await checker.invoke<HealthStatus>({});

    // Assess
    expect(checked.value?.status, JSON.stringify(checked.value?.reasons)).toBe('healthy');
    for (const result of [sent, drained, checked]) {
      expect(result.ok, `${JSON.stringify(result.error)}\n${result.output.join('\n')}`).toBe(true);
      expect(logLines(result.output).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
    }
    expect(sent.value?.sent).toBe(1);
    expect(drained.value?.processed).toBe(1);
  }, 120_000);

  it('traces a message from produce to consume with an OpenTelemetry SDK from a layer: the package finds the API on NODE_PATH', async () => {
    // Prepare: the layer above, registered by NODE_OPTIONS as a wrapper would
    const topic = uniqueName(`rie-otel-${runtime}`);
    await createTopic(topic, 1);
    const env = {
      NODE_OPTIONS: '--require /opt/otel-register.cjs',
      // Lambda sets it for every process of the environment; the emulation's bootstrap only for the runtime's.
      NODE_PATH: '/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
      ...listenerEnvironment(readConnection().listeners.PLAINTEXT),
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('rie-otel-group'),
    };
    const producer = await start({ handler: 'dist/produce/index.handler', env, timeoutSeconds: 30 });
    const consumer = await start({ handler: 'dist/consume/index.handler', env, timeoutSeconds: 30 });

    // Act
    const sent = await producer.invoke<{ sent: number }>({ messages: [{ key: 'traced', value: runtime }] });
    const drained = await consumer.invoke<DrainResult>({ idleMs: 1000 });

    // Assess: the send span, and the batch span its child in the same trace
    expect(sent.ok, `${JSON.stringify(sent.error)}\n${sent.output.join('\n')}`).toBe(true);
    expect(drained.value?.processed, drained.output.join('\n')).toBe(1);
    const [send] = printedSpans(sent.output);
    const [batch] = printedSpans(drained.output);
    expect(send).toMatchObject({ otel_span: `send ${topic}`, kind: 3 });
    expect(send?.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic });
    expect(batch).toMatchObject({
      otel_span: `process ${topic}`,
      kind: 4,
      traceId: send?.traceId,
      parent: send?.spanId,
    });
    expect(batch?.links).toEqual([send?.spanId]);
  }, 120_000);

  it('reports an invocation that outlives AWS_LAMBDA_FUNCTION_TIMEOUT as timed out, and the environment serves the next from a fresh runtime', async () => {
    // Prepare
    const lambda = await start({ handler: 'rie-test/sleeper.handler', timeoutSeconds: 3 });

    // Act
    const before = await lambda.invoke<{ pid: number; invocations: number }>({ sleepMs: 1 });
    const late = await lambda.invoke({ sleepMs: 10_000 });
    const after = await lambda.invoke<{ pid: number; invocations: number }>({ sleepMs: 1 });

    // Assess
    expect(before).toMatchObject({ ok: true, timedOut: false, value: { invocations: 1 } });
    expect(late).toMatchObject({
      ok: false,
      timedOut: true,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' },
    });
    expect(late.durationMs).toBe(3000);
    expect(late.roundTripMs).toBeLessThan(6_000);
    expect(late.output).toEqual(expect.arrayContaining([expect.stringMatching(/\tINFO\tsleeping 10000$/)]));
    expect(after).toMatchObject({ ok: true, timedOut: false, value: { invocations: 1 } });
    expect(after.value?.pid).not.toBe(before.value?.pid);
    expect(after.initDurationMs).toBeGreaterThan(0);
    expect(lambda.diagnostics().join('\n')).toMatch(/Reset initiated: Timeout/);
  }, 60_000);

  it('starts on two other ports when one it was given is taken before RIE can listen on it', async () => {
    // Prepare: the runtime API's port (the second handed out) is already held, as when an outgoing
    // connection is given it. (A listener held on the first would answer the start's own probe.)
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const taken = (held.address() as AddressInfo).port;
    const handedOut: number[] = [];
    const port = async () => {
      const next = handedOut.length === 1 ? taken : await freePort();
      handedOut.push(next);
      return next;
    };
    const log: string[] = [];

    try {
      // Act
      const lambda = await start({ handler: 'rie-test/sleeper.handler', port, log: (line) => log.push(line) });
      const answer = await lambda.invoke<{ invocations: number }>({ sleepMs: 1 });

      // Assess
      expect(answer).toMatchObject({ ok: true, value: { invocations: 1 } });
      expect(handedOut).toHaveLength(4);
      expect(log.filter((line) => line.includes('a port was taken'))).toEqual([
        expect.stringMatching(/a port was taken before it could listen \(attempt 1\)/),
      ]);
    } finally {
      held.close();
    }
  }, 60_000);

  it('keeps the runtime running between invocations (no freeze), one libuv pool thread held by the RIC waiting for the next', async () => {
    // Prepare: the default pool of 4 threads, and a pool of 1, which the RIC's pending request takes
    const [four, one] = await Promise.all(
      ['4', '1'].map((size) => start({ handler: 'rie-test/reader.handler', env: { UV_THREADPOOL_SIZE: size } })),
    );
    const readsAfterASecond = async (lambda: RieEnvironment) => {
      await lambda.invoke({});
      await sleep(1000);
      return (await lambda.invoke<{ reads: number }>({})).value?.reads;
    };

    // Act
    const [withFour, withOne] = [
      await readsAfterASecond(four as RieEnvironment),
      await readsAfterASecond(one as RieEnvironment),
    ];

    // Assess: LambdaEnvironment (SIGSTOP between invocations) would give 0 with either pool.
    expect(withFour).toBeGreaterThanOrEqual(5);
    // At most a read that slipped in while the pool thread was between two of the RIC's requests.
    expect(withOne).toBeLessThanOrEqual(1);
  }, 30_000);
});
