/**
 * The packaged functions (RIE + RIC, from the unpacked zip) on a three-node KRaft cluster with
 * MSK's defaults (replication factor 3, min.insync.replicas 2), over SASL_SSL, while brokers are
 * killed, restarted one by one, and stopped: what Amazon MSK's patching does to a cluster. Each test
 * prints its figures; messages are read back with kcat, independently of the library.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  groupCoordinator,
  killNode,
  partitionLeader,
  startNode,
  stopNode,
  waitForIsr,
  waitForNewLeader,
} from '../../scripts/kafka/cluster.js';
import { listenerEnvironment } from '../../scripts/kafka/connection.js';
import { buildMinimalRoot, type MinimalRoot } from '../../scripts/lambda/minimal-root.js';
import { RieEnvironment } from '../../scripts/lambda/rie.js';
import { ensureNodeRuntime } from '../../scripts/lambda/runtimes.js';
import type { DrainResult } from '../../src/consume/drain.js';
import type { HealthStatus } from '../../src/init/health.js';
import type { DirectResult } from '../../src/produce/produce.js';
import { createClusterTopic, kafkaTopics, useCluster } from '../support/cluster.js';
import { runDiagnose } from '../support/diagnose.js';
import {
  type ConsumeRun,
  consumeEvery,
  consumeOnce,
  countKeys,
  type ProduceRun,
  processedKeys,
  produceUntil,
} from '../support/functions.js';
import { uniqueName } from '../support/kafka.js';
import { readWithKcat } from '../support/kcat.js';
import { freshPackageZip } from '../support/package.js';

const CLUSTER = 'resilience';
const RUNTIME = 'nodejs22.x';
const connection = useCluster(CLUSTER);
let scratch: string;
let root: MinimalRoot;
const started: RieEnvironment[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lambda-kafka-resilience-'));
  root = buildMinimalRoot(join(scratch, 'root'), ensureNodeRuntime(RUNTIME), await freshPackageZip(RUNTIME, scratch));
  mkdirSync(join(root.dir, 'opt', 'certs'), { recursive: true });
  copyFileSync(connection().listeners.SASL_SSL.caFile as string, join(root.dir, 'opt', 'certs', 'ca.pem'));
}, 600_000);
afterAll(async () => {
  await Promise.all(started.map((environment) => environment.shutdown()));
  rmSync(scratch, { recursive: true, force: true });
});

/** serverless.yml's settings over the cluster's SASL_SSL listeners (all three nodes bootstrap). */
function functionEnv(topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...listenerEnvironment(connection().listeners.SASL_SSL),
    KAFKA_SSL_CAFILE: '/opt/certs/ca.pem',
    KAFKA_TOPICS: topic,
    KAFKA_MIN_INSYNC_REPLICAS: '2',
    KAFKA_CONSUMER_INIT_DELAY: '1',
    POWERTOOLS_SERVICE_NAME: 'lambda-kafka',
    ...extra,
  };
}

async function start(handler: string, env: Record<string, string>, timeoutSeconds: number): Promise<RieEnvironment> {
  const lambda = await RieEnvironment.start({
    root,
    runtime: RUNTIME,
    handler: `dist/${handler}/index.handler`,
    env,
    timeoutSeconds,
    functionName: `${handler}-${started.length}`,
  });
  started.push(lambda);
  return lambda;
}

/** Every acknowledged message is in the topic exactly once; the others were reported failed, retriably. */
async function expectDelivery(topic: string, run: ProduceRun, timeoutSeconds: number) {
  const inTopic = countKeys((await readWithKcat('PLAINTEXT', topic, CLUSTER)).map((m) => m.key as string));
  const acked = run.messages.filter((m) => m.ok);
  const failed = run.messages.filter((m) => !m.ok);
  const lost = acked.filter((m) => !inTopic.has(m.key));
  const duplicated = acked.filter((m) => (inTopic.get(m.key) ?? 0) > 1);
  const late = run.invocations.filter((i) => i.timedOut || i.durationMs >= timeoutSeconds * 1000);
  const longest = Math.max(...run.invocations.map((i) => i.durationMs));
  console.log(
    `  ${run.invocations.length} invocations (longest ${seconds(longest)}), ${run.messages.length} messages: ` +
      `${acked.length} acknowledged (${lost.length} lost, ${duplicated.length} duplicated), ${failed.length} failed ` +
      `(${failed.filter((m) => m.retriable).length} retriable); ${run.invocations.filter((i) => i.failure).length} invocations failed as a whole`,
  );
  for (const failure of new Set(run.invocations.flatMap((i) => (i.failure ? [i.failure.slice(0, 200)] : []))))
    console.log(`    invocation failure: ${failure}`);
  for (const error of new Set(failed.map((m) => (m.error ?? '').slice(0, 200))))
    console.log(`    message failure: ${error}`);
  expect(lost.map((m) => m.key)).toEqual([]);
  expect(duplicated.map((m) => m.key)).toEqual([]);
  expect(failed.filter((m) => !m.retriable).map((m) => m.error)).toEqual([]);
  expect(late).toEqual([]);
  return { acked, failed, inTopic };
}

describe('the functions on a three-node cluster', () => {
  it('lose no acknowledged message when the leader of a partition is killed with -9 and restarted', async () => {
    // Prepare
    const topic = uniqueName('leader-loss');
    await createClusterTopic(connection(), topic, 3);
    await waitForIsr(connection(), topic, 3);
    const producer = await start('produce', functionEnv(topic), 28);
    let done = false;

    // Act: produce back to back; two invocations in, kill the leader of partition 0, restart it, go on a little
    const producing = produceUntil(producer, 'loss', 200, () => done);
    await sleep(1500);
    const leader = (await partitionLeader(connection(), topic, 0)) as number;
    const killedAt = Date.now();
    await killNode(CLUSTER, leader);
    const newLeader = await waitForNewLeader(connection(), topic, 0, leader, 60_000);
    const electedMs = Date.now() - killedAt;
    await startNode(CLUSTER, leader);
    await waitForIsr(connection(), topic, 3, 120_000);
    const rejoinedMs = Date.now() - killedAt;
    await sleep(1500);
    done = true;
    const run = await producing;

    // Assess
    console.log(
      `leader loss: broker ${leader} killed; broker ${newLeader} led partition 0 after ${seconds(electedMs)}, all replicas in sync again after ${seconds(rejoinedMs)}`,
    );
    const { acked } = await expectDelivery(topic, run, 28);
    expect(acked.length).toBeGreaterThan(0);
  }, 300_000);

  it('ride through a rolling restart of all three brokers: nothing acknowledged is lost or duplicated, and consume processes it all', async () => {
    // Prepare
    const topic = uniqueName('rolling');
    const groupId = uniqueName('rolling-group');
    await createClusterTopic(connection(), topic, 3);
    await waitForIsr(connection(), topic, 3);
    const producer = await start('produce', functionEnv(topic), 28);
    const consumer = await start(
      'consume',
      functionEnv(topic, { KAFKA_CONSUMER_GROUP_ID: groupId, POWERTOOLS_LOG_LEVEL: 'DEBUG' }),
      60,
    );
    let done = false;
    const event = { maxMessages: 10_000, idleMs: 500 };

    // Act: produce back to back and consume every ~2 s while each node in turn is stopped, started, and caught up
    const producing = produceUntil(producer, 'rolling', 200, () => done);
    const consuming = consumeEvery(consumer, 2000, () => done, event);
    const restarts: string[] = [];
    for (const node of [1, 2, 3]) {
      const at = Date.now();
      await stopNode(CLUSTER, node);
      await sleep(2000);
      await startNode(CLUSTER, node);
      await waitForIsr(connection(), topic, 3, 120_000);
      restarts.push(`broker ${node} ${seconds(Date.now() - at)}`);
    }
    await sleep(2000);
    done = true;
    const [run, consumed] = (await Promise.all([producing, consuming])) as [ProduceRun, ConsumeRun];
    // Then drain what is left.
    for (let i = 0; i < 20; i++) {
      const last = await consumeOnce(consumer, consumed, event);
      if (last.value?.processed === 0 && last.value.totalLag === 0) break;
    }

    // Assess
    console.log(`rolling restart (stop, start, all in sync): ${restarts.join(', ')}`);
    const { acked } = await expectDelivery(topic, run, 28);
    const drains = consumed.invocations;
    const failedDrains = drains.filter((d) => d.failure || d.timedOut);
    const unknownLag = drains.filter((d) => d.result && d.result.totalLag === null).length;
    const reported = drains.reduce((sum, d) => sum + (d.result?.processed ?? 0), 0);
    // The whole output, read after the last drain (the runtime writes its lines before it answers).
    const keys = processedKeys(consumer);
    const processed = countKeys(keys);
    const unprocessed = acked.filter((m) => !processed.has(m.key));
    console.log(
      `  consume: ${drains.length} invocations, ${failedDrains.length} failed, ${unknownLag} with the lag unknown, ` +
        `${processed.size} distinct messages processed (${keys.length - processed.size} again after a rebalance); ` +
        `${keys.length - consumed.keys.length} of their log lines came after their invocation's REPORT`,
    );
    for (const failure of new Set(failedDrains.map((d) => d.failure))) console.log(`    drain failure: ${failure}`);
    // Every message a drain counted as processed was logged (and read here), whatever the drains report.
    expect(keys.length).toBeGreaterThanOrEqual(reported);
    expect(unprocessed.map((m) => m.key)).toEqual([]);
    expect(drains.filter((d) => d.timedOut || d.durationMs >= 60_000)).toEqual([]);
    for (const d of failedDrains) expect(d.failure).not.toMatch(/stopped at once: retrying cannot fix this/);
    // A drain reports totalLag 0 only when it read the lag and it is 0.
    for (const d of drains) if (d.result?.totalLag === 0) expect(d.result.lag.length).toBeGreaterThan(0);
    // A restart is maintenance, not a failure: nothing at ERROR while nothing failed.
    const errors = [...producer.output(), ...consumer.output()].filter((line) => line.startsWith('{"level":"ERROR"'));
    console.log(`  ERROR lines from the functions during the restarts: ${errors.length}`);
    for (const line of new Set(errors.map((l) => l.slice(0, 240)))) console.log(`    ${line}`);
    if (run.invocations.every((i) => !i.failure) && failedDrains.length === 0) expect(errors).toEqual([]);
  }, 600_000);

  it('with one replica of a topic down, below min.insync.replicas, health names the topic and the broker, 5 of 5 times', async () => {
    // Prepare: replication factor 2 with min.insync.replicas 2: one replica down and writes stop
    const topic = uniqueName('one-down');
    await createClusterTopic(connection(), topic, 1, 2);
    await waitForIsr(connection(), topic, 2);
    const health = await start('health-check', functionEnv(topic), 30);
    expect((await health.invoke<HealthStatus>({})).value?.status).toBe('healthy');
    const leader = (await partitionLeader(connection(), topic, 0)) as number;
    const replicas = (await kafkaTopics(connection(), ['--describe', '--topic', topic])).match(
      /Replicas: ([\d,]+)/,
    )?.[1];
    const follower = Number((replicas ?? '').split(',').find((id) => Number(id) !== leader));

    // Act
    await stopNode(CLUSTER, follower);
    const checks: HealthStatus[] = [];
    for (let i = 0; i < 5; i++) checks.push((await health.invoke<HealthStatus>({})).value as HealthStatus);
    await startNode(CLUSTER, follower);
    await waitForIsr(connection(), topic, 2, 120_000);

    // Assess
    console.log(`one replica down (broker ${follower} of ${replicas}): ${checks.map((c) => c.status).join(', ')}`);
    console.log(`  ${checks[0]?.reasons.join(' | ')}`);
    for (const check of checks) {
      expect(['degraded', 'unhealthy']).toContain(check.status);
      const reasons = check.reasons.join('\n');
      expect(reasons).toMatch(
        new RegExp(`${topic}\\[0\\] has 1 in-sync replica.*fewer than min\\.insync\\.replicas 2`),
      );
      expect(reasons).toMatch(new RegExp(`broker ${follower}\\b`));
    }
  }, 300_000);

  it('consume succeeds, warm and fresh, once the group coordinator has moved off a stopped broker', async () => {
    // Prepare: a warm consumer of a group, and messages for it
    const topic = uniqueName('coordinator');
    const groupId = uniqueName('coordinator-group');
    await createClusterTopic(connection(), topic, 3);
    await waitForIsr(connection(), topic, 3);
    const env = functionEnv(topic, { KAFKA_CONSUMER_GROUP_ID: groupId });
    const producer = await start('produce', env, 28);
    const warm = await start('consume', env, 60);
    const first = await warm.invoke<DrainResult>({ idleMs: 500 });
    expect(first.ok, JSON.stringify(first.error)).toBe(true);
    const coordinator = await groupCoordinator(connection(), groupId);
    const messages = (tag: string) => ({
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `${tag}-${i}`, value: tag })),
    });

    // Act: stop the coordinator's broker; produce; drain warm, then from a fresh environment
    const stoppedAt = Date.now();
    await stopNode(CLUSTER, coordinator);
    const produced = await producer.invoke<DirectResult>(messages('while-moved'));
    const attempts: { ms: number; processed?: number; failure?: string }[] = [];
    let warmOkMs: number | undefined;
    while (warmOkMs === undefined && Date.now() - stoppedAt < 120_000) {
      const drain = await warm.invoke<DrainResult>({ idleMs: 1000 });
      attempts.push({
        ms: Date.now() - stoppedAt,
        ...(drain.value && { processed: drain.value.processed }),
        ...(drain.error && { failure: drain.error.errorMessage.split('\n')[0] }),
      });
      if (drain.ok && (drain.value?.processed ?? 0) > 0) warmOkMs = Date.now() - stoppedAt;
    }
    // The warm environment goes away (Lambda recycles it; without an extension it gets SIGKILL): its
    // member is evicted once its session times out, and then the fresh one's join completes.
    await warm.shutdown();
    const fresh = await start('consume', env, 60);
    await producer.invoke<DirectResult>(messages('for-the-fresh-one'));
    const freshStarted = Date.now();
    const freshDrain = await fresh.invoke<DrainResult>({ idleMs: 1000 });
    const freshMs = Date.now() - freshStarted;
    const movedTo = await groupCoordinator(connection(), groupId);
    await startNode(CLUSTER, coordinator);
    await waitForIsr(connection(), topic, 3, 120_000);

    // Assess
    console.log(
      `coordinator down: broker ${coordinator} stopped, coordinator now broker ${movedTo}; the warm consumer processed again after ${warmOkMs === undefined ? 'never' : seconds(warmOkMs)} ` +
        `(${attempts.length} invocations: ${attempts.map((a) => (a.failure ? 'failed' : `${a.processed}`)).join(', ')}); a fresh environment's first drain took ${seconds(freshMs)}`,
    );
    expect(produced.ok, JSON.stringify(produced.error)).toBe(true);
    expect(movedTo).not.toBe(coordinator);
    expect(warmOkMs).toBeDefined();
    expect(freshDrain.ok, JSON.stringify(freshDrain.error)).toBe(true);
    expect(freshDrain.value?.processed).toBeGreaterThan(0);
  }, 300_000);

  it('with two brokers down, produce fails in time naming NOT_ENOUGH_REPLICAS, and health and diagnose name the missing brokers', async () => {
    // Prepare: a one-partition topic; warm producer and health check
    const topic = uniqueName('min-isr');
    await createClusterTopic(connection(), topic, 1);
    await waitForIsr(connection(), topic, 3);
    const leader = (await partitionLeader(connection(), topic, 0)) as number;
    const others = [1, 2, 3].filter((id) => id !== leader);
    const env = functionEnv(topic);
    const producer = await start('produce', env, 10);
    const health = await start('health-check', env, 30);
    expect((await producer.invoke<DirectResult>({ messages: [{ value: 'warm' }] })).value?.sent).toBe(1);
    expect((await health.invoke<HealthStatus>({})).value?.status).toBe('healthy');

    // Act: the two followers shut down one after the other (each leaves the ISR as it goes)
    for (const id of others) await stopNode(CLUSTER, id);
    const produced = await producer.invoke<DirectResult>({ messages: [{ key: 'k', value: 'below min.insync' }] });
    // Two of the three controllers are gone too: a new producer needs a producer id.
    const fresh = await start('produce', env, 10);
    const freshProduced = await fresh.invoke<DirectResult>({ messages: [{ key: 'k', value: 'no producer id' }] });
    const checked = await health.invoke<HealthStatus>({});
    const diagnosed = await runDiagnose(
      {
        ...env,
        KAFKA_SSL_CAFILE: connection().listeners.SASL_SSL.caFile as string,
        KAFKA_STARTUP_HEALTH_CHECK: 'true',
      },
      scratch,
    );
    for (const id of others) await startNode(CLUSTER, id);
    await waitForIsr(connection(), topic, 3, 120_000);

    // Assess
    const failure = produced.value?.results[0];
    console.log(
      `below min.insync.replicas: produce ${seconds(produced.durationMs)}: ${failure && !failure.ok ? failure.error : 'acknowledged'}`,
    );
    console.log(`  health ${checked.value?.status}: ${checked.value?.reasons.join(' | ')}`);
    const freshFailure = freshProduced.value?.results[0];
    console.log(
      `  quorum lost, a fresh producer: ${seconds(freshProduced.durationMs)}: ${freshFailure && !freshFailure.ok ? freshFailure.error : 'acknowledged'}`,
    );
    // The surviving broker may still hold a block of producer ids from before (then the write itself is
    // refused, NOT_ENOUGH_REPLICAS) or not (PRODUCER_ID_UNAVAILABLE, within a few seconds): either is named.
    expect(freshFailure).toMatchObject({ ok: false, retriable: true });
    expect(freshFailure && !freshFailure.ok && freshFailure.error).toMatch(
      /NOT_ENOUGH_REPLICAS|PRODUCER_ID_UNAVAILABLE/,
    );
    expect(freshProduced.durationMs).toBeLessThan(10_000);
    expect(produced.timedOut).toBe(false);
    expect(produced.durationMs).toBeLessThan(10_000);
    expect(failure).toMatchObject({ ok: false, retriable: true });
    expect(failure && !failure.ok && failure.error).toMatch(
      new RegExp(
        `NOT_ENOUGH_REPLICAS \\(19\\): fewer in-sync replicas than min\\.insync\\.replicas 2: ${topic}\\[0\\] \\(in sync: broker ${leader}\\).*acks=all writes need min\\.insync\\.replicas`,
      ),
    );
    expect(checked.value?.status).toBe('unhealthy');
    const reasons = checked.value?.reasons.join('\n') ?? '';
    for (const id of others) expect(reasons).toMatch(new RegExp(`broker ${id} \\(127\\.0\\.0\\.1:\\d+\\)`));
    console.log(
      `  diagnose (exit ${diagnosed.code}): ${diagnosed.output
        .split('\n')
        .filter((l) => /replication/.test(l))
        .join(' | ')}`,
    );
    expect(diagnosed.code).toBe(1);
    for (const id of others) expect(diagnosed.output).toMatch(new RegExp(`replication: .*broker ${id}\\b`));
    expect(diagnosed.output).toMatch(new RegExp(`✗ replication: ${topic}\\[0\\] has 1 in-sync replica`));
    expect(reasons).toMatch(
      new RegExp(`${topic}\\[0\\] has 1 in-sync replica \\(broker ${leader}\\).*fewer than min\\.insync\\.replicas 2`),
    );
  }, 300_000);

  it('with the controller quorum lost, a fresh producer names the producer-id cause within 3 s', async () => {
    // Prepare: the broker that will survive is restarted first: a broker holds no block of producer
    // ids until its first InitProducerId, and it gets one from the controllers, which will be gone.
    const topic = uniqueName('no-pid');
    await createClusterTopic(connection(), topic, 1);
    await waitForIsr(connection(), topic, 3);
    const survivor = (await partitionLeader(connection(), topic, 0)) as number;
    const others = [1, 2, 3].filter((id) => id !== survivor);
    await stopNode(CLUSTER, survivor);
    await startNode(CLUSTER, survivor);
    await waitForIsr(connection(), topic, 3, 120_000);

    // Act: two of the three controllers (and brokers) stop; a new producer's first invocation
    for (const id of others) await stopNode(CLUSTER, id);
    const fresh = await start('produce', functionEnv(topic), 10);
    const produced = await fresh.invoke<DirectResult>({ messages: [{ key: 'k', value: 'no producer id' }] });
    const log = fresh.output().join('\n');
    for (const id of others) await startNode(CLUSTER, id);
    await waitForIsr(connection(), topic, 3, 120_000);
    const after = await fresh.invoke<DirectResult>({ messages: [{ key: 'k', value: 'quorum back' }] });

    // Assess
    const failure = produced.value?.results[0];
    console.log(
      `quorum lost, a fresh producer: ${seconds(produced.durationMs)}: ${failure && !failure.ok ? failure.error : 'acknowledged'}`,
    );
    const pidFailures = log.split('\n').filter((line) => /Failed to acquire idempotence PID/.test(line));
    const levels = [...new Set(pidFailures.map((line) => /"level":"(\w+)"/.exec(line)?.[1]))];
    console.log(`  the function's log: ${pidFailures.length} line(s) about the producer id, at ${levels.join(', ')}`);
    const inTopic = (await readWithKcat('PLAINTEXT', topic, CLUSTER)).map((m) => m.payload);
    console.log(
      `  the quorum back, the same environment: ${seconds(after.durationMs)}, sent ${after.value?.sent}; in the topic: ${JSON.stringify(inTopic)}`,
    );
    expect(after.value?.sent).toBe(1);
    // The message given up on stayed queued: it went out once the producer had an id, or not at all.
    expect(inTopic.filter((value) => value === 'quorum back')).toHaveLength(1);
    expect(inTopic.filter((value) => value === 'no producer id').length).toBeLessThanOrEqual(1);
    expect(produced.timedOut).toBe(false);
    expect(failure).toMatchObject({ ok: false, retriable: true });
    expect(failure && !failure.ok && failure.error).toMatch(
      new RegExp(
        `PRODUCER_ID_UNAVAILABLE \\(-192\\): the producer cannot get a producer id from broker \\S+/${survivor}\\b`,
      ),
    );
    expect(produced.durationMs).toBeLessThan(3_000);
    expect(pidFailures.length).toBeGreaterThan(0);
    // The first retry is INFO (a broker's first producer id after its start is one); the same again is a WARN.
    expect(levels).toContain('WARN');
    expect(levels.filter((level) => level !== 'INFO' && level !== 'WARN')).toEqual([]);
    expect(log).not.toMatch(/not acknowledged before the deadline/);
  }, 300_000);
});
