/**
 * Under AWS's own runtime (RIE + the Node RIC, from the unpacked zip in a minimal root), with the
 * broker down: every invocation answers with its classified error before the function timeout,
 * for the short timeout of a test and for serverless.yml's own 28 s. None is "Task timed out":
 * no native call of an abandoned attempt holds a libuv pool thread that the runtime client needs
 * to fetch the next invocation (UV_THREADPOOL_SIZE is left at its default of 4). The circuit
 * breaker opens after its threshold and then answers at once; once the broker is back, the first
 * invocation after the cool-down succeeds in the same environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopBroker } from '../../scripts/kafka/broker.js';
import type { BrokerConnection } from '../../scripts/kafka/connection.js';
import { listenerEnvironment } from '../../scripts/kafka/connection.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { RieEnvironment, type RieInvokeResult } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime } from '../../scripts/lambda/runtimes.js';
import { startTestBroker } from '../support/brokers.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { freshPackageZip } from '../support/package.js';

const RUNTIME = 'nodejs22.x';
const INVOCATIONS = 10;
const THRESHOLD = 3;
const COOLDOWN_MS = 5000;

let scratch: string;
let root: MinimalRoot;
let broker: BrokerConnection;
const topic = uniqueName('outage');
const started: RieEnvironment[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-outage-'));
  root = buildMinimalRoot(join(scratch, 'root'), ensureNodeRuntime(RUNTIME), await freshPackageZip(RUNTIME, scratch));
  broker = await startTestBroker('outage', { fresh: true });
  await createTopic(topic, 1, 'outage');
  await stopBroker('outage');
}, 600_000);
afterAll(async () => {
  await Promise.all(started.map((environment) => environment.shutdown()));
  await stopBroker('outage');
  rmSync(scratch, { recursive: true, force: true });
});

type Outcome = RieInvokeResult<{ sent: number }>;

async function produceRepeatedly(lambda: RieEnvironment, times: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < times; i++) {
    outcomes.push(await lambda.invoke<{ sent: number }>({ messages: [{ key: `k${i}`, value: `attempt ${i}` }] }));
  }
  return outcomes;
}

function describeRun(timeoutSeconds: number, outcomes: Outcome[]): string {
  return outcomes
    .map(
      (o, i) => `  #${i + 1} ${o.durationMs.toFixed(0)} ms ${o.timedOut ? 'TIMED OUT' : (o.error?.errorType ?? 'ok')}`,
    )
    .join('\n')
    .replace(/^/, `timeout ${timeoutSeconds} s:\n`);
}

describe('the produce function under RIE + RIC with the broker down', () => {
  it('answers every invocation with its classified error in time, opens the breaker, and recovers once the broker is back', async () => {
    // Prepare: two environments, serverless.yml's 28 s timeout and a short one
    const port = Number(broker.listeners.PLAINTEXT.bootstrapServers.split(':')[1]);
    const env = {
      ...listenerEnvironment(broker.listeners.PLAINTEXT),
      KAFKA_TOPICS: topic,
      KAFKA_CIRCUIT_BREAKER_THRESHOLD: String(THRESHOLD),
      KAFKA_CIRCUIT_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
    };
    const timeouts = [5, 28];
    const environments = await Promise.all(
      timeouts.map(async (timeoutSeconds) => {
        const lambda = await RieEnvironment.start({
          root,
          runtime: RUNTIME,
          handler: 'dist/produce/index.handler',
          env,
          timeoutSeconds,
          functionName: `produce-${timeoutSeconds}s`,
        });
        started.push(lambda);
        return lambda;
      }),
    );

    // Act: ten invocations each while the broker is down; then the broker back, and one more after the cool-down
    const runs = await Promise.all(environments.map((lambda) => produceRepeatedly(lambda, INVOCATIONS)));
    await startTestBroker('outage');
    await sleep(COOLDOWN_MS);
    const recovered = await Promise.all(
      environments.map((lambda) => lambda.invoke<{ sent: number }>({ messages: [{ value: 'back' }] })),
    );

    // Assess
    for (const [i, timeoutSeconds] of timeouts.entries()) {
      const outcomes = runs[i] as Outcome[];
      console.log(describeRun(timeoutSeconds, outcomes));
      for (const [n, outcome] of outcomes.entries()) {
        expect(outcome.timedOut, `invocation ${n + 1} (${timeoutSeconds} s)`).toBe(false);
        expect(outcome.output.join('\n')).not.toMatch(/Task timed out/);
        expect(outcome.durationMs).toBeLessThan(timeoutSeconds * 1000);
        expect(outcome.ok).toBe(false);
        if (n < THRESHOLD) {
          expect(outcome.error?.errorType).toBe('RetryError');
          expect(outcome.error?.errorMessage.split('\n')[0]).toMatch(
            new RegExp(
              `^Producer initialization failed: TRANSPORT \\(-195\\): connection refused by ipv4#127\\.0\\.0\\.1:${port}`,
            ),
          );
        } else {
          expect(outcome.error?.errorType).toBe('CircuitOpenError');
          expect(outcome.error?.errorMessage).toMatch(/failed 3 times in a row; failing fast/);
          expect(outcome.durationMs).toBeLessThan(100);
        }
      }
      // One runtime served them all: RIE resets the runtime only after a timeout.
      expect(outcomes.slice(1).every((o) => o.initDurationMs === undefined)).toBe(true);
      const back = recovered[i] as Outcome;
      expect(back.ok, JSON.stringify(back.error)).toBe(true);
      expect(back.value?.sent).toBe(1);
      expect(back.initDurationMs).toBeUndefined();
    }
    expect(process.env.UV_THREADPOOL_SIZE).toBeUndefined();
  }, 300_000);
});
