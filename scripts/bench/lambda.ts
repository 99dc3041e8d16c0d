/**
 * lambda-kafka's functions, wired in-process exactly as handlers/*.ts wire them: one
 * KafkaInitializer per "execution environment", its handler() wrapper around the function's logic,
 * called with a fake Lambda context. Every call is therefore a whole invocation: begin, the work,
 * waiting for native calls, and the EMF flush at the end (to the stdout sink).
 */
import { randomUUID } from 'node:crypto';
import { type ConsumeEvent, consumeBatch } from '../../src/consume/consume.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { MessageProcessor } from '../../src/consume/processor.js';
import type { HealthStatus } from '../../src/init/health.js';
import { KafkaInitializer } from '../../src/init/initializer.js';
import type { Invocation, InvocationContext } from '../../src/init/invocation.js';
import { type DirectResult, type ProduceEvent, produce } from '../../src/produce/produce.js';
import type { BenchContext } from './context.js';

/** How long each fake invocation may run (a Lambda timeout). */
const TIMEOUT_MS = 60_000;

export function fakeContext(functionName: string): InvocationContext {
  const deadline = Date.now() + TIMEOUT_MS;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: randomUUID(), functionName };
}

/** The library's environment for the broker's PLAINTEXT listener, as a deployment would set it. */
export function lambdaEnv(ctx: BenchContext, extra: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: ctx.bootstrap,
    KAFKA_CLIENT_ID: 'bench-lambda-kafka',
    AWS_LAMBDA_FUNCTION_NAME: 'bench-lambda-kafka',
    ...extra,
  };
}

export interface LambdaFunction<E, R> {
  kafka: KafkaInitializer;
  invoke(event: E): Promise<R>;
  shutdown(): Promise<void>;
}

function lambdaFunction<E, R>(
  env: Record<string, string>,
  name: string,
  logic: (kafka: KafkaInitializer) => (event: E, invocation: Invocation) => Promise<R>,
): LambdaFunction<E, R> {
  const kafka = new KafkaInitializer({ env, handleSigterm: false });
  const handler = kafka.handler(logic(kafka));
  return {
    kafka,
    invoke: (event) => handler(event, fakeContext(name)),
    shutdown: async () => {
      // shutdown() leaves a standalone admin client to the process's exit (src/init/shutdown.ts);
      // this process goes on to the next scenario, so it is closed here (a shared one stays open).
      const ready = kafka.getHealthStatus().statistics.stages.admin.state === 'ready';
      const admin = ready
        ? await kafka.handler((_e: unknown, inv) => kafka.admin(inv))({}, fakeContext(name))
        : undefined;
      await kafka.shutdown('benchmark done');
      admin?.close();
    },
  };
}

/** handlers/produce.ts */
export function produceFunction(env: Record<string, string>): LambdaFunction<ProduceEvent, DirectResult> {
  return lambdaFunction(
    env,
    'bench-produce',
    (kafka) => (event: ProduceEvent, invocation) => produce(kafka, event, invocation) as Promise<DirectResult>,
  );
}

/** handlers/consume.ts with `processor` in place of logMessage. */
export function consumeFunction(
  env: Record<string, string>,
  processor: MessageProcessor,
): LambdaFunction<ConsumeEvent, DrainResult> {
  return lambdaFunction(
    env,
    'bench-consume',
    (kafka) => (event: ConsumeEvent, invocation) => consumeBatch(kafka, event, invocation, processor),
  );
}

/** handlers/health-check.ts */
export function healthFunction(env: Record<string, string>): LambdaFunction<unknown, HealthStatus> {
  return lambdaFunction(env, 'bench-health', (kafka) => (_event: unknown, invocation) => kafka.checkHealth(invocation));
}

/** Fails loudly when an invocation did not deliver everything: a benchmark of failures measures nothing. */
export function assertDelivered(result: DirectResult, expected: number): void {
  if (result.sent !== expected) {
    const first = result.results.find((r) => !r.ok) as { error?: string } | undefined;
    throw new Error(`lambda-kafka sent ${result.sent} of ${expected} messages: ${first?.error ?? 'no error given'}`);
  }
}
