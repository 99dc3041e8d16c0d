/**
 * Scenario 5: a fresh `node` process per round per client, timed from spawn() to the line the
 * child prints once its first message is acknowledged (cold-child.mjs). lambda-kafka runs its
 * bundled produce function (esbuild.config.mjs, as deployed; logs at INFO as deployed) with every
 * staged check on: KAFKA_STARTUP_HEALTH_CHECK=true and KAFKA_TOPICS set.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleHandlers } from '../../esbuild.config.mjs';
import { REPO_ROOT } from '../kafka/layout.js';
import { type BenchContext, rounds, withTopic } from './context.js';
import type { ScenarioResult } from './report.js';
import { interleave } from './rounds.js';
import { median } from './stats.js';

const CHILD = fileURLToPath(new URL('./cold-child.mjs', import.meta.url));
const MARKER = 'BENCH-ACKNOWLEDGED';
const CHILD_TIMEOUT_MS = 30_000;

/** Milliseconds from spawn() to the child's marker; resolves once the child has exited too. */
function coldRun(client: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CHILD, client], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let acknowledgedAfter: number | undefined;
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (acknowledgedAfter === undefined && (stdout + chunk).includes(MARKER)) {
        acknowledgedAfter = performance.now() - started;
      }
      stdout = (stdout + chunk).slice(-4096);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (acknowledgedAfter !== undefined) return resolve(acknowledgedAfter);
      reject(
        new Error(`the ${client} child ended (${signal ?? code}) without an acknowledgement:\n${stderr}${stdout}`),
      );
    });
  });
}

export function runColdStart(ctx: BenchContext): Promise<ScenarioResult> {
  return withTopic(ctx, 'bench-cold', async (topic) => {
    const count = rounds(ctx, 20, 3);
    const outdir = join(REPO_ROOT, 'dist', 'bench');
    ctx.progress(`cold start: bundling the handlers into ${outdir}`);
    await bundleHandlers({ outdir });
    const base = { ...process.env, BENCH_BOOTSTRAP: ctx.bootstrap, BENCH_TOPIC: topic };
    const lambdaKafkaEnv = {
      ...base,
      BENCH_BUNDLE: join(outdir, 'produce', 'index.mjs'),
      KAFKA_BOOTSTRAP_SERVERS: ctx.bootstrap,
      KAFKA_TOPICS: topic,
      KAFKA_STARTUP_HEALTH_CHECK: 'true',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-cold',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    ctx.progress(`cold start: ${count} rounds of a fresh process per client`);
    const baseline: number[] = [];
    const samples = await interleave(
      count,
      {
        // Each round starts with a process that does nothing: Node's own share of every figure.
        lambdaKafka: async () => {
          baseline.push(await coldRun('baseline', base));
          return coldRun('lambda-kafka', lambdaKafkaEnv);
        },
        raw: () => coldRun('raw', base),
        kafkajs: () => coldRun('kafkajs', base),
      },
      ctx.progress,
    );
    return {
      rows: [
        {
          measurement: 'fresh process → first acknowledged message',
          unit: 'ms ↓',
          values: {
            lambdaKafka: median(samples.lambdaKafka ?? []),
            raw: median(samples.raw ?? []),
            kafkajs: median(samples.kafkajs ?? []),
          },
          rounds: count,
        },
      ],
      notes: [
        `cold start: spawn() of \`node\` (${process.version}) to the child's line after its first acknowledgement; lambda-kafka: the bundled produce function (dist/bench/produce/index.mjs from esbuild.config.mjs), KAFKA_STARTUP_HEALTH_CHECK=true, KAFKA_TOPICS set, logs at INFO into a pipe, EMF included; raw binding: Producer connect() + produce() + delivery report; KafkaJS: connect() + send(), both idempotent. A process that loads and sends nothing takes ${Math.round(median(baseline))} ms (median, same rounds): every figure includes it.`,
      ],
    };
  });
}
