/**
 * The deployment package: `serverless package` works offline, its template holds the functions,
 * schedules, dashboard and alarms on exactly the metrics the code emits, and its zip runs each
 * handler from an empty directory with plain node (no project node_modules anywhere near).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { LambdaEnvironment } from '../../scripts/lambda/environment.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import { INIT_STAGES, METRIC_NAMES, stageDurationMetric } from '../../src/observability/metrics.js';
import { envFor } from '../support/env.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { track } from '../support/lambda.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
let out: string;
let unpacked: string;
let resources: Record<string, Resource>;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'lambda-kafka-sls-'));
  unpacked = mkdtempSync(join(tmpdir(), 'lambda-kafka-unzipped-'));
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: REPO_ROOT, stdio: 'pipe' });
  execFileSync(join(REPO_ROOT, 'node_modules/.bin/serverless'), ['package', '--package', out], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
  });
  resources = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
  execFileSync('unzip', ['-q', join(out, 'lambda-kafka.zip'), '-d', unpacked]);
  copyFileSync(join(REPO_ROOT, 'scripts/lambda/runtime.mjs'), join(unpacked, 'runtime.mjs'));
}, 180_000);
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(unpacked, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('the CloudFormation template from `serverless package`', () => {
  it('has the three functions on nodejs20.x, with the schedules', () => {
    const functions = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties);
    expect(functions.map((f) => f.Handler).sort()).toEqual([
      'dist/consume/index.handler',
      'dist/health-check/index.handler',
      'dist/produce/index.handler',
    ]);
    for (const f of functions) expect(f.Runtime).toBe('nodejs20.x');
    expect(ofType('AWS::Events::Rule').map(([, r]) => r.Properties.ScheduleExpression)).toEqual([
      'rate(5 minutes)',
      'rate(5 minutes)',
    ]);
    expect(ofType('AWS::Lambda::EventSourceMapping')[0]?.[1].Properties.FunctionResponseTypes).toEqual([
      'ReportBatchItemFailures',
    ]);
  });

  it('references the SASL password from Secrets Manager, never inline', () => {
    for (const [, f] of ofType('AWS::Lambda::Function')) {
      const variables = (f.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.KAFKA_SASL_PASSWORD).toMatch(
        /^\{\{resolve:secretsmanager:arn:aws:secretsmanager:[^}]+:SecretString:password\}\}$/,
      );
    }
  });

  it("has the seed's three alarms on exactly the namespace, dimension and metric names the code emits", () => {
    const [, produce] = ofType('AWS::Lambda::Function')[0] as [string, Resource];
    const variables = (produce.Properties.Environment as { Variables: Record<string, string> }).Variables;
    const emitted = new Set<string>([...Object.values(METRIC_NAMES), ...INIT_STAGES.map(stageDurationMetric)]);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
    expect(alarms.map((a) => [a.MetricName, a.ComparisonOperator, a.Threshold])).toEqual(
      expect.arrayContaining([
        ['consumer_init_attempts', 'GreaterThanThreshold', 1],
        ['connection_errors_total', 'GreaterThanThreshold', 0],
        ['topic_creation_errors', 'GreaterThanThreshold', 0],
      ]),
    );
    for (const alarm of alarms) {
      expect(emitted.has(alarm.MetricName as string), String(alarm.MetricName)).toBe(true);
      expect(alarm.Namespace).toBe(variables.POWERTOOLS_METRICS_NAMESPACE);
      expect(alarm.Dimensions).toEqual([{ Name: 'service', Value: variables.POWERTOOLS_SERVICE_NAME }]);
    }
  });

  it('has a dashboard of those metrics', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] as [string, Resource];
    const body = JSON.parse((dashboard.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub']) as {
      widgets: { properties: { metrics: string[][] } }[];
    };
    const metrics = body.widgets.flatMap((w) => w.properties.metrics);
    const emitted = new Set<string>([...Object.values(METRIC_NAMES), ...INIT_STAGES.map(stageDurationMetric)]);
    for (const [namespace, name, dimension, value] of metrics) {
      expect(namespace).toBe('LambdaKafka');
      expect(emitted.has(name as string), name).toBe(true);
      expect([dimension, value]).toEqual(['service', 'lambda-kafka']);
    }
    expect(metrics.map((m) => m[1])).toEqual(
      expect.arrayContaining([
        'consumer_init_attempts',
        'connection_errors_total',
        'topic_creation_errors',
        'cold_start',
        'init_duration_consumer',
      ]),
    );
  });
});

describe('the packaged zip, unzipped into an empty directory', () => {
  it('runs each handler with plain node against the local broker', async () => {
    // Prepare: nothing but the zip's files and the runtime script
    const topic = uniqueName('packaged');
    await createTopic(topic, 1);
    const env = { ...envFor('PLAINTEXT'), KAFKA_TOPICS: topic, KAFKA_CONSUMER_GROUP_ID: uniqueName('packaged-group') };
    const start = (name: string) =>
      LambdaEnvironment.start({
        handler: `dist/${name}/index.mjs`,
        cwd: unpacked,
        runtime: join(unpacked, 'runtime.mjs'),
        env,
        cleanEnv: true,
      }).then(track);

    // Act
    const produce = await (await start('produce')).invoke<{ sent: number }>(
      { messages: [{ key: 'a', value: 'from the zip' }] },
      20_000,
    );
    const consume = await (await start('consume')).invoke<DrainResult>({ idleMs: 1000 }, 30_000);
    const health = await (await start('health-check')).invoke<HealthStatus>({}, 20_000);

    // Assess
    expect(produce.ok, produce.error?.message).toBe(true);
    expect(produce.value?.sent).toBe(1);
    expect(consume.ok, consume.error?.message).toBe(true);
    expect(consume.value?.processed).toBe(1);
    expect(health.ok, health.error?.message).toBe(true);
    expect(health.value?.status).toBe('healthy');
  });
});
