/**
 * A warm function whose broker goes away, under AWS's own runtime (RIE + the Node RIC, from the
 * unpacked zip). Every connection goes through a proxy the test breaks on purpose and that counts
 * what it broke, so the functions' connection_errors_total can be compared with what happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { RieEnvironment } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime } from '../../scripts/lambda/runtimes.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { emf, logLines } from '../support/lambda.js';
import { freshPackageZip } from '../support/package.js';
import { type BreakableProxy, startBrokerBehindProxy } from '../support/proxy.js';

const RUNTIME = 'nodejs22.x';

let scratch: string;
let root: MinimalRoot;
let proxy: BreakableProxy;
const topic = uniqueName('warm-outage');
const started: RieEnvironment[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-warm-outage-'));
  root = buildMinimalRoot(join(scratch, 'root'), ensureNodeRuntime(RUNTIME), await freshPackageZip(RUNTIME, scratch));
  proxy = await startBrokerBehindProxy('proxied');
  await createTopic(topic, 1, 'proxied');
}, 600_000);
afterAll(async () => {
  await Promise.all(started.map((environment) => environment.shutdown()));
  await proxy.close();
  await stopBroker('proxied');
  rmSync(scratch, { recursive: true, force: true });
});

async function start(name: string, env: Record<string, string> = {}): Promise<RieEnvironment> {
  const lambda = await RieEnvironment.start({
    root,
    runtime: RUNTIME,
    handler: 'dist/produce/index.handler',
    functionName: name,
    timeoutSeconds: 28,
    env: {
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${proxy.port}`,
      KAFKA_TOPICS: topic,
      POWERTOOLS_SERVICE_NAME: 'lambda-kafka',
      ...env,
    },
  });
  started.push(lambda);
  return lambda;
}

const http = (messages: unknown[]) => ({
  version: '2.0',
  requestContext: { http: { method: 'POST', path: '/messages' } },
  body: JSON.stringify({ messages }),
  isBase64Encoded: false,
});

type HttpAnswer = { statusCode: number; body: string };

describe('a warm producer whose broker stops answering, under RIE + RIC', () => {
  it('names the cause in the log and answers 503 — at the deadline by default, within 3 s with KAFKA_PRODUCE_BROKERS_DOWN_TIMEOUT_MS — and exits within 500 ms of SIGTERM with 50 messages queued', async () => {
    // Prepare: two warm environments, one waiting while there is time (the default), one failing early
    const waiting = await start('produce-waits');
    const early = await start('produce-fails-early', { KAFKA_PRODUCE_BROKERS_DOWN_TIMEOUT_MS: '1000' });
    for (const lambda of [waiting, early]) {
      const warm = await lambda.invoke<HttpAnswer>(http([{ value: 'warm' }]));
      expect(warm.value?.statusCode, warm.value?.body).toBe(200);
    }

    // Act: nothing listens any more where the broker was
    await proxy.setMode('refuse');
    await sleep(1500);
    const [slow, fast] = await Promise.all(
      [waiting, early].map((lambda) => lambda.invoke<HttpAnswer>(http([{ value: 'during the outage' }]))),
    );
    const queued = await early.invoke<{ sent: number; failed: number }>({
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `q${i}`, value: `queued ${i}` })),
    });
    const sigterm = await early.signalRuntime('SIGTERM');
    await proxy.setMode('forward');
    // The next test counts every connection through the proxy: only its own environment may make any.
    await Promise.all([waiting.shutdown(), early.shutdown()]);

    // Assess
    const cause = new RegExp(`connection refused by ipv4#127\\.0\\.0\\.1:${proxy.port}`);
    for (const [name, answer] of [
      ['slow', slow],
      ['fast', fast],
    ] as const) {
      if (!answer) throw new Error(`no answer for ${name}`);
      console.log(
        `${name}: ${answer.durationMs.toFixed(0)} ms, HTTP ${answer.value?.statusCode}: ${answer.value?.body.slice(0, 300)}`,
      );
      expect(answer.timedOut).toBe(false);
      expect(answer.value?.statusCode).toBe(503);
      // The caller is told to retry later, that a retry can duplicate (the messages stay queued), and the request id;
      // the refused address is for the log only.
      expect(JSON.parse(answer.value?.body ?? '{}')).toEqual({
        error: expect.stringMatching(/^Kafka is unavailable: no message was acknowledged\. Retry later; /),
        reason: 'UNAVAILABLE',
        retrySafe: false,
        requestId: answer.requestId,
      });
      expect(answer.value?.body).not.toMatch(cause);
      const logged = logLines(answer.output).find((line) =>
        line.message.startsWith('HTTP 503, no message acknowledged: '),
      );
      expect(logged?.message, answer.output.join('\n')).toMatch(cause);
    }
    expect(slow?.durationMs).toBeGreaterThan(20_000);
    expect(slow?.durationMs).toBeLessThan(28_000);
    expect(fast?.durationMs).toBeLessThan(3000);
    expect(queued.value).toMatchObject({ sent: 0, failed: 50 });
    console.log(`SIGTERM with 50 messages queued: the runtime exited after ${sigterm.ms} ms`);
    expect(sigterm).toMatchObject({ exited: true });
    expect(sigterm.ms).toBeLessThan(500);
  }, 120_000);

  it('counts in connection_errors_total exactly the connections that failed, and logs them between invocations without a request id', async () => {
    // Prepare
    const lambda = await start('produce-counted');
    const before = proxy.failures;
    const first = await lambda.invoke<HttpAnswer>(http([{ value: 'before' }]));

    // Act: every connection reset for 4 s (librdkafka reconnects several times), then the broker back
    await proxy.setMode('reset');
    await sleep(4000);
    await proxy.setMode('forward');
    await sleep(2500);
    const second = await lambda.invoke<HttpAnswer>(http([{ value: 'after' }]));
    await sleep(2500);
    const third = await lambda.invoke<HttpAnswer>(http([{ value: 'later' }]));
    const caused = proxy.failures - before;

    // Assess
    for (const answer of [first, second, third]) expect(answer.value?.statusCode, answer.value?.body).toBe(200);
    const counted = [first, second, third]
      .flatMap((answer) => emf(answer.output))
      .reduce((sum, document) => sum + (document.connection_errors_total ?? 0), 0);
    console.log(`connections the proxy broke: ${caused}; connection_errors_total over the invocations: ${counted}`);
    expect(caused).toBeGreaterThan(2);
    // On a mismatch, the lines that report failed connections and the per-invocation counts say which went uncounted.
    const failed = logLines(lambda.output())
      .filter((line) => line.client !== undefined && /failed|Disconnected|suppressed/.test(line.message))
      .map((line) => `${line.timestamp} ${line.level} ${line.message}`);
    const perInvocation = [first, second, third].map((answer) =>
      emf(answer.output).map((document) => document.connection_errors_total),
    );
    expect(counted, `per invocation ${JSON.stringify(perInvocation)}\n${failed.join('\n')}`).toBe(caused);
    const between = logLines(lambda.output()).filter(
      (line) => line.client !== undefined && /Disconnected|Connect to/.test(line.message),
    );
    expect(between.length).toBeGreaterThan(0);
    for (const line of between) {
      expect(line.function_request_id).toBeUndefined();
      expect(line.cold_start).toBeUndefined();
    }
  }, 120_000);
});
