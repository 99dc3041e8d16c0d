/**
 * What each of the seed's six stages does, as functions of what it needs. The initializer decides
 * when each runs (lazily, memoised, within an attempt's time); these only do the work and log the
 * seed's lines at the seed's points. Every wait is bounded by the attempt's deadline and goes
 * through the environment's NativeCalls (src/clients/native.ts).
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { ManagedAdmin } from '../clients/admin.js';
import type { ManagedConsumer } from '../clients/consumer.js';
import type { NativeCalls } from '../clients/native.js';
import type { ManagedProducer } from '../clients/producer.js';
import { decisiveCause, explained, linesSince, timedOut, type WaitContext } from '../clients/wait.js';
import type { KafkaConfig } from '../config/load.js';
import { missingTopicsCause } from '../errors/causes.js';
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Log } from '../observability/log.js';
import { type KafkaMetrics, METRIC_NAMES } from '../observability/metrics.js';
import type { Redactor } from '../observability/redact.js';
import type { Deadline } from '../retry/deadline.js';
import { explainTlsFailure } from '../ssl/tls-causes.js';
import type { CertificateValidator } from '../ssl/validator.js';
import type { StageRun } from './stage.js';

export interface StepContext {
  config: KafkaConfig;
  log: Log;
  metrics: KafkaMetrics;
  calls: NativeCalls;
  /** When this step must be done (the attempt's deadline, itself within the invocation's). */
  deadline: Deadline;
  /** A recorder for a client about to be created; it becomes that client type's current one. */
  newRecorder: (client: 'producer' | 'admin' | 'consumer') => ClientLogRecorder;
  /** The recorders of the current clients, to explain what they are waiting for. */
  recorders: () => ClientLogRecorder[];
  /** Delivery timeout of a producer created now: the time the invocation has left. */
  deliveryTimeoutMs: number;
}

/** What a wait in this step needs to explain a failure further: a TLS failure by a handshake of its own. */
function explainer(ctx: StepContext): WaitContext['explain'] {
  return (cause, deadline) => explainTlsFailure(cause, ctx.config, deadline);
}

export interface AdminClients {
  admin: ManagedAdmin;
  /** Set when the admin shares the producer's connections. */
  producer?: ManagedProducer;
  /** The cluster as the producer's connect saw it, to spare the health check a request. */
  metadata?: RdKafka.Metadata;
}

export interface ClusterView {
  /** Topics the cluster reported, internal ones (`__consumer_offsets`, …) included. */
  topics: readonly string[];
  metadata?: RdKafka.Metadata;
}

export async function runSsl(
  ctx: StepContext,
  validator: CertificateValidator,
  redactor: Redactor,
): Promise<StageRun<readonly string[]>> {
  const { ssl } = ctx.config;
  redactor.register(ssl.keyPassword, ssl.key?.kind === 'inline' ? ssl.key.pem : undefined, ctx.config.sasl?.password);
  if (!ssl.enabled) return { value: [], skipped: 'KAFKA_USE_SSL=false' };
  let warnings: readonly string[] = [];
  if (!ssl.verifyCertificates) {
    ctx.log.warn('SSL certificate validation disabled (KAFKA_SSL_VERIFY_CERTIFICATES=false)');
  } else {
    const { cached, report } = await validator.validate(ssl, { log: ctx.log });
    if (cached) ctx.log.info('SSL certificates unchanged since the last validation');
    warnings = report.warnings;
  }
  ctx.log.info(
    `SSL context created successfully (protocol: TLS 1.2+ through librdkafka/OpenSSL, security.protocol ${ctx.config.securityProtocol})`,
  );
  return { value: warnings };
}

/**
 * The admin client. On the producer path it shares the producer's connections, so the producer
 * is connected here (its connect is the first request to the cluster); otherwise it is a client of
 * its own, created at once, whose first request is the broker health check.
 */
export async function runAdmin(
  ctx: StepContext,
  producer: ManagedProducer | undefined,
): Promise<StageRun<AdminClients>> {
  ctx.log.info('Initializing Kafka admin client');
  if (!producer) {
    const admin = ManagedAdmin.standalone(ctx.config, ctx.newRecorder('admin'), ctx.calls);
    ctx.log.info('Admin client started successfully');
    return { value: { admin } };
  }
  const metadata = await producer.connect({
    recorders: [producer.recorder],
    deadline: ctx.deadline,
    explain: explainer(ctx),
  });
  const admin = ManagedAdmin.sharing(producer, ctx.calls);
  const topic = ctx.config.topics.names[0];
  if (topic) producer.askForProducerId(topic, Math.min(5000, ctx.deadline.remainingMs()));
  ctx.log.info("Admin client started successfully (sharing the producer's broker connections)");
  return { value: { admin, producer, metadata } };
}

export async function runBrokerHealth(ctx: StepContext, clients: AdminClients): Promise<StageRun<ClusterView>> {
  if (!ctx.config.init.startupHealthCheck) {
    return { value: { topics: [] }, skipped: 'KAFKA_STARTUP_HEALTH_CHECK=false' };
  }
  ctx.log.info('Verifying Kafka broker health', { bootstrapServers: ctx.config.bootstrapServers });
  const metadata =
    clients.metadata ??
    (await clients.admin.metadataWhenReachable('broker health check', {
      recorders: ctx.recorders(),
      deadline: ctx.deadline,
      explain: explainer(ctx),
    }));
  const topics = metadata.topics.map((t) => t.name);
  const count = topics.filter((name) => !name.startsWith('__')).length;
  ctx.log.info(`✓ Kafka cluster is healthy: ${count} topics found`, { brokers: metadata.brokers.length });
  return { value: { topics, metadata } };
}

function topicProblem(operation: string, classification: Classification, ctx: StepContext, count: number) {
  ctx.metrics.count(METRIC_NAMES.topicCreationErrors, count);
  return new KafkaOperationError(operation, classification);
}

/** Verifies KAFKA_TOPICS exist; creates the missing ones when KAFKA_CREATE_TOPICS=true. */
export async function runTopics(
  ctx: StepContext,
  clients: AdminClients,
  cluster: ClusterView | undefined,
): Promise<StageRun<readonly number[]>> {
  const { names, create, partitions, replicationFactor } = ctx.config.topics;
  if (names.length === 0) return { value: [], skipped: 'KAFKA_TOPICS is empty' };
  const metadata =
    cluster?.metadata ??
    clients.metadata ??
    (await clients.admin.metadataWhenReachable('listing topics', {
      recorders: ctx.recorders(),
      deadline: ctx.deadline,
      explain: explainer(ctx),
    }));
  const existing = new Map(metadata.topics.map((t) => [t.name, t]));
  const brokers = new Set<number>();
  for (const name of names) {
    const topic = existing.get(name);
    if (!topic) continue;
    for (const partition of topic.partitions) for (const id of partition.replicas) brokers.add(id);
    ctx.log.info(`✓ Topic exists: ${name} (${topic.partitions.length} partitions)`);
  }
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) return { value: [...brokers].sort() };

  // A topic this principal may not describe is left out of the listing: ask for each by name.
  const described = await clients.admin
    .describeTopics(missing, Math.max(1, ctx.deadline.remainingMs()))
    .then((topics) => topics as { name: string; error?: unknown }[])
    .catch((error: unknown) => missing.map((name) => ({ name, error })));
  const denied = described.find((t) => t.error && classifyKafkaError(t.error).code === 29);
  if (denied) {
    throw topicProblem(
      `verifying KAFKA_TOPICS (${missing.join(', ')})`,
      classifyKafkaError(denied.error),
      ctx,
      missing.length,
    );
  }
  if (!create) throw topicProblem('verifying KAFKA_TOPICS', missingTopicsCause(missing), ctx, missing.length);
  const created = await clients.admin.createTopics(
    missing.map((topic) => ({
      topic,
      ...(partitions !== undefined && { numPartitions: partitions }),
      ...(replicationFactor !== undefined && { replicationFactor }),
    })),
    Math.max(1, ctx.deadline.remainingMs()),
  );
  // TOPIC_ALREADY_EXISTS: another function created it first, which is what we wanted.
  const failed = created.find((t) => t.error && classifyKafkaError(t.error).code !== 36);
  if (failed) {
    throw topicProblem(`creating topic ${failed.topic}`, classifyKafkaError(failed.error), ctx, missing.length);
  }
  for (const name of missing) ctx.log.info(`✓ Topic created: ${name}`);
  return { value: [...brokers].sort() };
}

export async function runProducer(ctx: StepContext, clients: AdminClients): Promise<StageRun<ManagedProducer>> {
  ctx.log.info('Initializing Kafka producer');
  const producer = clients.producer;
  if (!producer) throw new Error('the producer path creates its producer with the admin client (runAdmin)');
  ctx.log.info('Producer started successfully', {
    idempotent: true,
    acks: 'all',
    deliveryTimeoutMs: ctx.deliveryTimeoutMs,
  });
  return { value: producer };
}

/** The consumer needs a group and topics; without them it is a configuration error, not a retry. */
export function assertConsumerSettings(config: KafkaConfig): void {
  const missing = [
    !config.consumer.groupId && 'KAFKA_CONSUMER_GROUP_ID',
    config.topics.names.length === 0 && 'KAFKA_TOPICS',
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new KafkaOperationError('creating the consumer', {
    code: null,
    name: 'INVALID_CONFIGURATION',
    kind: 'config',
    retriable: false,
    summary: `INVALID_CONFIGURATION: ${missing.join(' and ')} must be set to consume`,
    hint: `Set ${missing.join(' and ')} in the consuming function's environment.`,
  });
}

/** How long one poll of the join loop may block. */
const JOIN_POLL_MS = 200;

/**
 * The consumer is ready when it has joined its group and received its assignment, which may be
 * empty: a group with more members than partitions (Lambda's concurrency above the partition count)
 * leaves some with none, and their drain ends at once ('unassigned'). librdkafka retries
 * FindCoordinator by itself, so "coordinator not available" is a join that never completes.
 * `consumer` may come from a failed attempt, still connected: then its join simply carries on.
 */
export async function runConsumer(ctx: StepContext, consumer: ManagedConsumer): Promise<StageRun<ManagedConsumer>> {
  const { groupId } = consumer;
  ctx.log.info('Initializing Kafka consumer', { groupId, topics: consumer.topics });
  const started = Date.now();
  if (!consumer.isConnected()) {
    await consumer.connect(Math.max(1, ctx.deadline.remainingMs())).catch(async (error: unknown) => {
      // With KAFKA_STARTUP_HEALTH_CHECK=false this is the first contact: name a TLS fault as the functions do.
      const cause = classifyKafkaError(error, { recentLogs: linesSince([consumer.recorder], started) });
      const explanation = await explained({ explain: explainer(ctx), deadline: ctx.deadline }, cause);
      throw new KafkaOperationError('connecting the consumer', explanation, { cause: error });
    });
  }
  const operation = `joining consumer group ${groupId}`;
  while (consumer.assignmentCount === 0) {
    const left = ctx.deadline.remainingMs();
    if (left < 1) {
      const lines = linesSince([consumer.recorder], started - 60_000);
      throw timedOut(operation, Date.now() - started, lines, [consumer.recorder]);
    }
    await consumer.poll(Math.min(JOIN_POLL_MS, left));
    const cause = decisiveCause(linesSince([consumer.recorder], started));
    if (cause && cause.kind !== 'transient') {
      throw new KafkaOperationError(
        operation,
        await explained({ explain: explainer(ctx), deadline: ctx.deadline }, cause),
      );
    }
  }
  ctx.log.info('✓ Consumer connected successfully', {
    groupId,
    coordinator: consumer.coordinator(),
    assignment: consumer.assignment().map(({ topic, partition }) => `${topic}-${partition}`),
  });
  return { value: consumer };
}

/** A coordinator that never appears: say whether the offsets topic exists, which is usually why. */
export function explainCoordinator(
  classification: Classification,
  cluster: ClusterView | undefined,
  topicBrokers: readonly number[] | undefined,
): Classification {
  if (classification.code !== 15) return classification;
  if (!cluster || cluster.topics.length === 0 || cluster.topics.includes('__consumer_offsets')) return classification;
  const brokers = topicBrokers?.length ?? 0;
  const live = brokers > 0 ? `${brokers} live broker${brokers === 1 ? '' : 's'}` : 'the live brokers';
  return {
    ...classification,
    summary:
      `${classification.summary}; the offsets topic __consumer_offsets does not exist and the brokers are not creating it: ` +
      `offsets.topic.replication.factor is probably larger than the ${live}`,
  };
}
