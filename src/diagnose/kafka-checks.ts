/**
 * The Kafka-level troubleshooting checks: connection and authentication, advertised brokers, topics,
 * the group. They use the functions' own clients (src/clients), so a fault is named the same way here
 * as in a function's error.
 */
import { ManagedAdmin } from '../clients/admin.js';
import { NativeCalls } from '../clients/native.js';
import { ManagedProducer } from '../clients/producer.js';
import { missingTopicsCause } from '../errors/causes.js';
import { classifyKafkaError } from '../errors/classify.js';
import { assessCluster } from '../init/cluster-health.js';
import { GroupObserver } from '../init/group.js';
import { sweepMetadataOf } from '../init/probe.js';
import { downBrokerFindings, downBrokers, SWEEP_TIMEOUT_MS, sweep, withoutNamedMissing } from '../init/reachability.js';
import { ClientLogRecorder } from '../observability/client-log.js';
import { Deadline } from '../retry/deadline.js';
import { explainTlsFailure } from '../ssl/tls-causes.js';
import { budget, type CheckContext, CREATE_TOPICS_HOW, reach } from './checks.js';
import { add, addCause, type Section } from './report.js';

export interface ClusterMetadata {
  brokers: { id: number; host: string; port: number }[];
  topics: string[];
}

/** The native calls of the checks below; diagnose runs in a child process that is ended once it has reported. */
const calls = new NativeCalls();

/** Connects a producer the way the functions do (TLS, SASL); returns the cluster metadata it got. */
export async function checkConnection(section: Section, ctx: CheckContext): Promise<ClusterMetadata | undefined> {
  const recorder = new ClientLogRecorder('diagnose');
  const sasl = ctx.config.sasl;
  try {
    const producer = new ManagedProducer(ctx.config, recorder, calls, 5000);
    const metadata = await producer
      .connect({
        recorders: [recorder],
        deadline: Deadline.in(budget(ctx, 4000)),
        // As in the functions (src/init/steps.ts), so that a TLS failure is named the same way.
        explain: (cause, deadline) => explainTlsFailure(cause, ctx.config, deadline),
      })
      .finally(() => void producer.close(0).catch(() => {}));
    const who = sasl ? `authenticated as ${sasl.username ?? 'the function role'} (${sasl.mechanism}); ` : '';
    add(
      section,
      'pass',
      sasl ? 'SASL authentication' : 'connection',
      `${who}the cluster answered: ${metadata.brokers.length} brokers, ${metadata.topics.length} topics`,
    );
    return { brokers: metadata.brokers, topics: metadata.topics.map((t) => t.name) };
  } catch (error) {
    if (reportAdvertisedFailure(section, recorder)) return undefined;
    const c = classifyKafkaError(error);
    const name =
      c.code === -169 || c.code === 58
        ? `SASL authentication as ${sasl?.username ?? 'the client'} (${sasl?.mechanism ?? 'SSL'})`
        : 'connection';
    addCause(section, name, c);
    return undefined;
  }
}

/** librdkafka names a broker it learned from metadata `<proto>://<host:port>/<id>` (a bootstrap one `/bootstrap`). */
const LEARNED_BROKER_FAILURE = /[a-z_]+:\/\/(\S+?)\/(\d+): (Failed to resolve|Connect to \S+ failed: [^(]+)/;

/**
 * The bootstrap broker answered, but the broker it pointed to could not be reached: the classic
 * advertised-listener mistake. Reports it and returns true when the client's log shows it.
 */
function reportAdvertisedFailure(section: Section, recorder: ClientLogRecorder): boolean {
  for (const line of recorder.recent().reverse()) {
    const match = LEARNED_BROKER_FAILURE.exec(line.message);
    if (!match) continue;
    const [, address, id, cause] = match;
    const what = cause?.startsWith('Failed to resolve')
      ? 'does not resolve'
      : `refuses or drops connections (${cause?.trim()})`;
    add(
      section,
      'fail',
      `broker ${id} advertised as ${address}`,
      `the bootstrap broker answered, but clients are then sent to ${address}, the address broker ${id} advertises, and it ${what}`,
      "set the broker's advertised.listeners to an address this function can reach (what the bootstrap address is for, the advertised one is for every request after)",
    );
    return true;
  }
  return false;
}

/** Every broker the metadata advertises must be reachable too: clients are sent there after bootstrapping. */
export async function checkAdvertised(
  section: Section,
  ctx: CheckContext,
  metadata: ClusterMetadata,
): Promise<boolean> {
  let ok = true;
  for (const broker of metadata.brokers) {
    ok =
      (await reach(
        section,
        ctx,
        broker,
        `broker ${broker.id} advertised as ${broker.host}:${broker.port}`,
        "clients are sent to the address the broker advertises: set the broker's advertised.listeners to one this function can reach",
      )) && ok;
  }
  return ok;
}

/** Each configured topic exists and this principal may describe it. */
export async function checkTopics(section: Section, ctx: CheckContext, admin: ManagedAdmin): Promise<boolean> {
  let ok = true;
  if (ctx.config.topics.names.length === 0) add(section, 'info', 'topics', 'KAFKA_TOPICS is empty: no topic to check');
  for (const topic of ctx.config.topics.names) {
    try {
      const [described] = (await admin.describeTopics([topic], budget(ctx, 3000))) as {
        error?: unknown;
        partitions: unknown[];
      }[];
      if (described?.error) throw described.error;
      add(
        section,
        'pass',
        `topic ${topic}`,
        `exists (${described?.partitions.length} partitions) and this principal may describe it`,
      );
    } catch (error) {
      ok = false;
      // As the functions' topic stage (src/init/steps.ts) names it.
      const c = classifyKafkaError(error);
      addCause(section, `topic ${topic}`, c.code === 3 ? missingTopicsCause([topic]) : c);
      if (c.code === 3 && !ctx.createTopics) {
        add(section, 'info', `topic ${topic}`, `not created: diagnose only reads the cluster; ${CREATE_TOPICS_HOW}`);
      }
    }
  }
  return ok;
}

/**
 * The brokers and the configured topics' replication, as the health check judges them
 * (src/init/cluster-health.ts): brokers that partitions name but the cluster does not list, and
 * partitions without a leader or below min.insync.replicas.
 */
export async function checkReplication(section: Section, ctx: CheckContext, admin: ManagedAdmin): Promise<boolean> {
  try {
    const metadata = await admin.metadata('reading the cluster metadata', budget(ctx, 3000));
    const known = new Map(metadata.brokers.map((b) => [b.id, `${b.host}:${b.port}`]));
    const assessed = assessCluster(metadata, {
      topics: ctx.config.topics.names,
      minInsyncReplicas: ctx.config.topics.minInsyncReplicas,
      known,
    });
    // Every broker expected (bootstrap list, metadata) and not accepting connections, as the health check names them.
    const described = sweepMetadataOf(metadata, ctx.config.topics.names);
    const bootstrap = ctx.config.bootstrapServers;
    const failures = await sweep([...bootstrap, ...described.live.values()], budget(ctx, SWEEP_TIMEOUT_MS));
    const down = downBrokers({ bootstrap, known: new Map() }, described, failures, new Map());
    const brokers = assessed.brokers;
    const findings = [...downBrokerFindings(down, described), ...withoutNamedMissing(assessed.findings, down)];
    if (findings.length === 0) {
      add(
        section,
        'pass',
        'replication',
        `${brokers.length} brokers (${brokers.join(', ')}); every partition of the configured topics has a leader and its replicas in sync`,
      );
      return true;
    }
    for (const finding of findings) {
      add(
        section,
        finding.level === 'unhealthy' ? 'fail' : 'warn',
        'replication',
        finding.reason,
        'start the brokers that are down, and check the ones that lag (disk, network, GC)',
      );
    }
    return !findings.some((f) => f.level === 'unhealthy');
  } catch (error) {
    addCause(section, 'replication', classifyKafkaError(error));
    return false;
  }
}

/** The group's state, coordinator and lag, read without joining it (and without DescribeConsumerGroups: see init/group.ts). */
export async function checkGroup(
  section: Section,
  ctx: CheckContext,
  admin: ManagedAdmin,
  metadata: ClusterMetadata,
): Promise<boolean> {
  const groupId = ctx.config.consumer.groupId;
  if (!groupId) {
    add(section, 'info', 'consumer group', 'KAFKA_CONSUMER_GROUP_ID is not set: no group to check');
    return true;
  }
  const recorder = new ClientLogRecorder('diagnose-group');
  const observer = new GroupObserver(ctx.config, groupId, recorder, calls);
  const started = Date.now();
  try {
    const deadline = Deadline.in(budget(ctx, 4000));
    const cluster = await admin.metadata(`inspecting group ${groupId}`, deadline.remainingMs());
    const partitions = GroupObserver.partitionsOf(cluster, ctx.config.topics.names);
    const group = await observer.inspect(admin, partitions, deadline, { withState: true });
    add(
      section,
      'pass',
      `consumer group ${groupId}`,
      `the coordinator${group.coordinatorBroker ? `, ${group.coordinatorBroker},` : ''} answers; state ${group.state}, lag ${group.lag}`,
    );
    return true;
  } catch (error) {
    const c = classifyKafkaError(error, { recentLogs: recorder.recent(started) });
    const brokers = metadata.brokers.length;
    if (!metadata.topics.includes('__consumer_offsets') && (c.code === -185 || c.code === 15 || c.code === 14)) {
      add(
        section,
        'fail',
        `consumer group ${groupId}`,
        `no group coordinator (COORDINATOR_NOT_AVAILABLE): the offsets topic __consumer_offsets does not exist and the brokers are not creating it`,
        `the brokers' offsets.topic.replication.factor (default 3) must not exceed the ${brokers} live broker${brokers === 1 ? '' : 's'}: lower it, or start more brokers`,
      );
    } else {
      addCause(section, `consumer group ${groupId}`, c);
    }
    return false;
  } finally {
    void observer.close(500).catch(() => {});
  }
}

/** A standalone admin client for the topic and group checks; closed by the caller with closeAdmin(). */
export function openAdmin(ctx: CheckContext): ManagedAdmin {
  return ManagedAdmin.standalone(ctx.config, new ClientLogRecorder('diagnose-admin'), calls);
}

export function closeAdmin(admin: ManagedAdmin): void {
  admin.close();
}
