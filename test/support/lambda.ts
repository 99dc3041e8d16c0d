/** Emulated Lambda environments for a test file: started on demand, shut down after, output kept for scans. */
import { afterAll, expect } from 'vitest';
import { LambdaEnvironment } from '../../scripts/lambda/environment.js';

const started: LambdaEnvironment[] = [];

export const FIXTURE_HANDLERS = 'test/fixtures/handlers.ts';

export async function environment(exportName: 'produce' | 'consume' | 'health' | 'leak', env: Record<string, string>) {
  return handlerEnvironment(FIXTURE_HANDLERS, env, exportName);
}

/** An environment running `handler` (a module path from the repository root, e.g. handlers/produce.ts). */
export async function handlerEnvironment(handler: string, env: Record<string, string>, exportName = 'handler') {
  const lambda = await LambdaEnvironment.start({
    handler,
    exportName,
    env: { AWS_LAMBDA_FUNCTION_NAME: `test-${exportName}`, POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
  });
  started.push(lambda);
  return lambda;
}

/** Registers an environment started elsewhere, so it is shut down and scanned with the others. */
export function track(lambda: LambdaEnvironment): LambdaEnvironment {
  started.push(lambda);
  return lambda;
}

/** Every line any environment of this file printed. */
export function allOutput(): string[] {
  return started.flatMap((lambda) => lambda.output());
}

afterAll(async () => {
  await Promise.all(started.map((lambda) => lambda.shutdown()));
});

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export function logLines(output: readonly string[]): LogLine[] {
  return output.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line) as LogLine);
}

export function messages(output: readonly string[]): string[] {
  return logLines(output).map((line) => line.message);
}

/** The EMF documents printed, as `{ metricName: value }` each. */
export function emf(output: readonly string[]): Record<string, number>[] {
  return output
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => {
      const document = JSON.parse(line) as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
      };
      const names = document._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name));
      return Object.fromEntries(names.map((name) => [name, document[name] as number]));
    });
}

/** Asserts none of `secrets` (or any of their lines) appears in `lines`. */
export function expectNoSecrets(lines: readonly string[], secrets: readonly string[]): void {
  const fragments = secrets.flatMap((secret) => [
    secret,
    ...secret.split('\n').filter((line) => line.trim().length >= 32),
  ]);
  const text = lines.join('\n');
  for (const fragment of fragments)
    expect(text.includes(fragment), `a secret appears in the output: ${fragment.slice(0, 8)}…`).toBe(false);
}
