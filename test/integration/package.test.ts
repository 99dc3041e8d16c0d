/**
 * The deployment package as shipped. `npm run package` builds it for each runtime; its template is
 * linted with cfn-lint; its zip is unpacked into a minimal root (the runtime's node, glibc,
 * libstdc++, libgcc_s, a user database; no CA store, no other library) where the three functions run against
 * the local broker over SASL_SSL: produce, then consume reads the same messages back, then the health
 * check is healthy. The root is shown to be minimal: a library that needs one of the build machine's
 * libraries does not load in it, and the package check refuses it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnection } from '../../scripts/kafka/connection.js';
import { REPO_ROOT } from '../../scripts/kafka/layout.js';
import { LambdaEnvironment } from '../../scripts/lambda/environment.js';
import {
  buildMinimalRoot,
  chrootCommand,
  lambdaEnvironment,
  type MinimalRoot,
} from '../../scripts/lambda/minimal-root.js';
import { ensureNodeRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../../scripts/lambda/runtimes.js';
import { BUILD_DIR, packageZip } from '../../scripts/package/layout.js';
import { checkNativeFiles } from '../../scripts/package/native-check.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import { INIT_STAGES, METRIC_NAMES, stageDurationMetric } from '../../src/observability/metrics.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { logLines, track } from '../support/lambda.js';
import { type LocalAws, startLocalAws } from '../support/moto.js';
import { withPackageLock } from '../support/package.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
const TEMPLATE = join(REPO_ROOT, '.serverless', 'cloudformation-template-update-stack.json');
const CFN_LINT = join(BUILD_DIR, 'python', 'bin', 'cfn-lint');
const RUNTIMES = Object.keys(LAMBDA_RUNTIMES) as LambdaRuntime[];
let template: { Resources: Record<string, Resource> };
let arm64Template: { Resources: Record<string, Resource> };
const ARM64_TEMPLATE = join(mkdtempSync(join(tmpdir(), 'lambda-kafka-arm64-template-')), 'template.json');
let resources: Record<string, Resource>;

function npmRunPackage(args: string[]): void {
  const run = spawnSync('npm', ['run', 'package', '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run package ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
}

beforeAll(
  () =>
    // Under the packaging lock: other test files read the zips (test/support/package.ts).
    withPackageLock(async () => {
      // arm64 first, its template kept aside; the default runtime and architecture last, so that
      // .serverless/ holds their template.
      npmRunPackage(['--param=architecture=arm64']);
      arm64Template = JSON.parse(readFileSync(TEMPLATE, 'utf8'));
      copyFileSync(TEMPLATE, ARM64_TEMPLATE);
      for (const runtime of RUNTIMES.filter((r) => r !== 'nodejs22.x')) npmRunPackage([`--param=runtime=${runtime}`]);
      npmRunPackage([]);
      template = JSON.parse(readFileSync(TEMPLATE, 'utf8'));
      resources = template.Resources;
    }),
  600_000,
);

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
}, 60_000);
afterAll(async () => {
  await aws?.stop();
  rmSync(dirname(ARM64_TEMPLATE), { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
function functionVariables(): Record<string, string> {
  const [produce] = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties);
  return (produce as { Environment: { Variables: Record<string, string> } }).Environment.Variables;
}

describe('the CloudFormation template from `npm run package`', () => {
  it('has the four functions on nodejs22.x and x86_64 (the defaults), each with the zip built for it', () => {
    const functions = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties);
    expect(functions.map((f) => f.Handler).sort()).toEqual([
      'dist/consume/index.handler',
      'dist/forward/index.handler',
      'dist/health-check/index.handler',
      'dist/produce/index.handler',
    ]);
    for (const f of functions) {
      expect(f.Runtime).toBe('nodejs22.x');
      expect(f.Architectures).toEqual(['x86_64']);
      expect((f.Code as { S3Key: string }).S3Key).toMatch(/\/lambda-kafka-nodejs22\.x-x86_64\.zip$/);
    }
    expect(ofType('AWS::Events::Rule').map(([, r]) => r.Properties.ScheduleExpression)).toEqual([
      'rate(5 minutes)',
      'rate(5 minutes)',
    ]);
    const sqs = ofType('AWS::Lambda::EventSourceMapping').find(([, r]) =>
      JSON.stringify(r.Properties.EventSourceArn).includes('ProduceQueue'),
    );
    expect(sqs?.[1].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('feeds the forward function from an MSK event source mapping that reads batchItemFailures, in provisioned mode, as its own group', () => {
    // Prepare
    const [forwardId, forwardFunction] = ofType('AWS::Lambda::Function').find(
      ([, r]) => r.Properties.Handler === 'dist/forward/index.handler',
    ) as [string, Resource];
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, r]) =>
      JSON.stringify(r.Properties.FunctionName).includes(forwardId),
    );

    // Assess: the params' placeholders; the mapping reports partial failures (resources.extensions).
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      EventSourceArn: expect.stringMatching(/^arn:aws:kafka:[^:]+:\d{12}:cluster\/lambda-kafka\//),
      Topics: ['orders'],
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'lambda-kafka-forward' },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const variables = (forwardFunction.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(variables).toMatchObject({
      KAFKA_FORWARD_TOPIC: 'orders-forwarded',
      KAFKA_TOPICS: 'orders-forwarded',
      KAFKA_PRODUCE_LINGER_MS: '5',
    });
    // The role may describe the cluster, reach its brokers and read the source topic as the mapping's group.
    const actions = ofType('AWS::IAM::Role')
      .flatMap(([, r]) =>
        (r.Properties.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[]).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
      )
      .flatMap((st) => st.Action);
    for (const action of [
      'kafka:DescribeClusterV2',
      'kafka:GetBootstrapBrokers',
      'ec2:CreateNetworkInterface',
      'kafka-cluster:ReadData',
      'kafka-cluster:AlterGroup',
    ]) {
      expect(actions).toContain(action);
    }
  });

  it('passes the SASL secret by ARN only: no password and no resolved reference in any function environment', () => {
    for (const [, f] of ofType('AWS::Lambda::Function')) {
      const variables = (f.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.KAFKA_SASL_PASSWORD).toBeUndefined();
      expect(variables.KAFKA_SASL_PASSWORD_SECRET).toMatch(/^arn:aws:secretsmanager:[^:]+:\d{12}:secret:/);
      expect(JSON.stringify(variables)).not.toMatch(/resolve:(secretsmanager|ssm)/);
    }
    // The role may read that secret and nothing else in Secrets Manager; KMS only through Secrets Manager.
    const statements = ofType('AWS::IAM::Role').flatMap(([, r]) =>
      (r.Properties.Policies as { PolicyDocument: { Statement: Record<string, unknown>[] } }[]).flatMap(
        (p) => p.PolicyDocument.Statement,
      ),
    );
    const read = statements.find((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue'));
    expect(read?.Resource).toMatch(/^arn:aws:secretsmanager:/);
    const decrypt = statements.find((st) => JSON.stringify(st.Action).includes('kms:Decrypt'));
    expect(JSON.stringify(decrypt?.Condition)).toMatch(/kms:ViaService/);
  });

  it('lets only signed callers (AWS_IAM) use POST /messages, throttles its stage, and limits the request body', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => [r.RouteKey, r.AuthorizationType])).toEqual([['POST /messages', 'AWS_IAM']]);
    const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties);
    expect(stages).toHaveLength(1);
    expect(stages[0]?.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const produce = ofType('AWS::Lambda::Function').find(
      ([, r]) => r.Properties.Handler === 'dist/produce/index.handler',
    );
    const environment = produce?.[1].Properties.Environment as { Variables: Record<string, string> } | undefined;
    expect(environment?.Variables.KAFKA_HTTP_MAX_BODY_BYTES).toBe('1048576');
  });

  it('packages arm64 with --param=architecture=arm64: every function on arm64 with the arm64 zip, cfn-lint clean', () => {
    const functions = Object.values(arm64Template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties);
    expect(functions).toHaveLength(4);
    for (const f of functions) {
      expect(f.Runtime).toBe('nodejs22.x');
      expect(f.Architectures).toEqual(['arm64']);
      expect((f.Code as { S3Key: string }).S3Key).toMatch(/\/lambda-kafka-nodejs22\.x-arm64\.zip$/);
    }
    const lint = spawnSync(CFN_LINT, ['--ignore-checks', 'W3005', '--', ARM64_TEMPLATE], { encoding: 'utf8' });
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);
  });

  it('passes cfn-lint with no error and no deprecated runtime; the same template on nodejs20.x does not', () => {
    // W3005 is a redundant DependsOn in the HTTP API route that the framework generates, not ours.
    const lint = (file: string) => spawnSync(CFN_LINT, ['--ignore-checks', 'W3005', '--', file], { encoding: 'utf8' });
    const clean = lint(TEMPLATE);
    expect(clean.status, `${clean.stdout}${clean.stderr}`).toBe(0);

    const scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-cfn-'));
    const old = join(scratch, 'template.json');
    writeFileSync(old, readFileSync(TEMPLATE, 'utf8').replaceAll('"nodejs22.x"', '"nodejs20.x"'));
    const deprecated = lint(old);
    rmSync(scratch, { recursive: true, force: true });
    expect(deprecated.status).not.toBe(0);
    expect(deprecated.stdout).toMatch(/W2531 .*nodejs20\.x/);
  });

  it("has the seed's three alarms on exactly the namespace, dimension and metric names the code emits", () => {
    const variables = functionVariables();
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

  it('has a dashboard of every metric the code emits', () => {
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
    // Every metric the code emits is on it.
    expect(new Set(metrics.map((m) => m[1]))).toEqual(emitted);
  });
});

describe.each(RUNTIMES)('the %s package, unpacked into a minimal root', (runtime) => {
  let scratch: string;
  let root: MinimalRoot;
  const node = () => ensureNodeRuntime(runtime);

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), `lambda-kafka-root-${runtime}-`));
    root = buildMinimalRoot(join(scratch, 'root'), node(), packageZip(runtime));
    mkdirSync(join(root.dir, 'opt', 'certs'), { recursive: true });
    copyFileSync(readConnection().listeners.SASL_SSL.caFile as string, join(root.dir, 'opt', 'certs', 'ca.pem'));
  }, 120_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has no library of the build machine: one that needs libz loads outside, fails inside, and the check refuses it', () => {
    // Prepare: a shared object linked against the host's zlib, as the old binding was against liblz4 & co.
    const lib = join(scratch, 'needs-libz');
    mkdirSync(join(lib, 'lib'), { recursive: true });
    writeFileSync(join(lib, 'z.c'), '#include <zlib.h>\nconst char *version(void) { return zlibVersion(); }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(lib, 'lib', 'libneedsz.so'), join(lib, 'z.c'), '-lz']);
    copyFileSync(join(lib, 'lib', 'libneedsz.so'), join(root.dir, 'opt', 'libneedsz.so'));
    const open = `try { process.dlopen({ exports: {} }, process.argv[1]) } catch (e) { if (!/not a valid|undefined symbol|napi_register|module_register|did not self-register/i.test(e.message)) { console.error(e.message); process.exit(3) } }`;

    // Act
    const outside = spawnSync(node().bin, ['-e', open, join(lib, 'lib', 'libneedsz.so')], { encoding: 'utf8' });
    const chroot = chrootCommand(root.dir);
    const inside = spawnSync(chroot.command, [...chroot.args, root.node, '-e', open, '/opt/libneedsz.so'], {
      encoding: 'utf8',
      env: lambdaEnvironment({}),
    });

    // Assess
    expect(outside.status, outside.stderr).toBe(0);
    expect(inside.status).toBe(3);
    expect(inside.stderr).toMatch(/libz\.so\.1: cannot open shared object file/);
    expect(checkNativeFiles(lib).problems).toEqual([expect.stringMatching(/^lib\/libneedsz\.so needs libz\.so\.1, /)]);
    const glibcAndCompilerRuntime =
      /^(ld-linux-x86-64\.so\.2|lib(c|m|dl|pthread|rt)\.so\.\d|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$/;
    expect(root.libraries.filter((name) => !glibcAndCompilerRuntime.test(name))).toEqual([]);
    expect(root.libraries).toEqual(
      expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6']),
    );
  });

  it('runs produce, consume and health-check there against the broker over SASL_SSL with a CA file, the password fetched from Secrets Manager', async () => {
    // Prepare: the functions' environment from the packaged template, pointed at the local broker and
    // at a local Secrets Manager holding the broker's password (the template passes only the secret's ARN)
    const sasl = readConnection().listeners.SASL_SSL;
    const topic = uniqueName(`root-${runtime}`);
    await createTopic(topic, 2);
    const secret = await new SecretsManagerClient({
      endpoint: aws.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }).send(
      new CreateSecretCommand({
        Name: uniqueName('AmazonMSK_root'),
        SecretString: JSON.stringify({ username: sasl.username, password: sasl.password }),
      }),
    );
    const env = {
      ...functionVariables(),
      ...aws.env,
      KAFKA_BOOTSTRAP_SERVERS: sasl.bootstrapServers,
      KAFKA_SASL_USERNAME: sasl.username as string,
      KAFKA_SASL_PASSWORD_SECRET: secret.ARN as string,
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('root-group'),
      KAFKA_CONSUMER_INIT_DELAY: '1',
      // The template says 2 (MSK's three-zone default); the local broker is a single node.
      KAFKA_MIN_INSYNC_REPLICAS: '1',
    };
    const start = (name: string, extra: Record<string, string> = {}) =>
      LambdaEnvironment.start({
        handler: `/var/task/dist/${name}/index.mjs`,
        root: root.dir,
        env: { ...env, ...extra },
      }).then(track);
    const keys = ['one', 'two', 'three'].map((word) => `${topic}-${word}`);

    // Act
    const produce = await (await start('produce')).invoke<{ sent: number }>(
      { messages: keys.map((key) => ({ key, value: `${key} from the ${runtime} root` })) },
      20_000,
    );
    // The default processor logs each message's key at DEBUG.
    const consumer = await start('consume', { POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    const consume = await consumer.invoke<DrainResult>({ idleMs: 1500 }, 30_000);
    const health = await (await start('health-check')).invoke<HealthStatus>({}, 20_000);

    // Assess
    expect(produce.ok, produce.error?.message).toBe(true);
    expect(produce.value?.sent).toBe(3);
    expect(consume.ok, consume.error?.message).toBe(true);
    expect(consume.value?.processed).toBe(3);
    const consumed = logLines(consumer.output()).filter((line) => line.message === 'Message');
    expect(consumed.map((line) => line.key).sort()).toEqual([...keys].sort());
    expect(health.ok, health.error?.message).toBe(true);
    expect(health.value?.status, JSON.stringify(health.value?.reasons)).toBe('healthy');
  });

  it('trusts the system CA store where Amazon Linux keeps it when no CA is configured, and only that', async () => {
    // Prepare: KAFKA_SSL_CAFILE unset; the CA in /etc/pki/tls/certs/ca-bundle.crt for the first environment only
    const sasl = readConnection().listeners.SASL_SSL;
    const { KAFKA_SASL_PASSWORD_SECRET: _byReference, ...variables } = functionVariables();
    const env = {
      ...variables,
      KAFKA_BOOTSTRAP_SERVERS: sasl.bootstrapServers,
      KAFKA_SASL_USERNAME: sasl.username as string,
      KAFKA_SASL_PASSWORD: sasl.password as string,
      KAFKA_TOPICS: '',
      KAFKA_CONSUMER_GROUP_ID: '',
    };
    const check = async () => {
      const lambda = await LambdaEnvironment.start({
        handler: '/var/task/dist/health-check/index.mjs',
        root: root.dir,
        env,
      });
      return track(lambda).invoke<HealthStatus>({}, 20_000);
    };
    const bundle = join(root.dir, 'etc/pki/tls/certs/ca-bundle.crt');

    // Act
    mkdirSync(join(bundle, '..'), { recursive: true });
    copyFileSync(sasl.caFile as string, bundle);
    const trusted = await check();
    rmSync(join(root.dir, 'etc', 'pki'), { recursive: true, force: true });
    const untrusted = await check();

    // Assess
    expect(trusted.ok, trusted.error?.message).toBe(true);
    expect(trusted.value?.status, JSON.stringify(trusted.value?.reasons)).toBe('healthy');
    expect(untrusted.value?.status).toBe('unhealthy');
    expect(JSON.stringify(untrusted.value?.reasons)).toMatch(/certificate/i);
  });
});
