/**
 * What each of the seed's six stages does, as functions of what it needs. The initializer decides
 * when each runs (lazily, memoised, within an attempt's time); these only do the work and log the
 * seed's lines at the seed's points.
 */
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { KafkaConfig } from '../config/load.js';
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { AttemptTimeoutError, KafkaOperationError } from '../errors/errors.js';
import type { ClientLogRecorder } from '../observability/client-log.js';
import type { Log } from '../observability/log.js';
import { type KafkaMetrics, METRIC_NAMES } from '../observability/metrics.js';
import type { Redactor } from '../observability/redact.js';
import type { CertificateValidator } from '../ssl/validator.js';
import { abandonConnect, createAdmin, createProducer, watchClients } from './clients.js';
import type { ManagedConsumer } from './consumer.js';
import type { StageRun } from './stage.js';

export interface StepContext {
  config: KafkaConfig;
  log: Log;
  metrics: KafkaMetrics;
  /** Time this step may take (the attempt's remaining time, capped by the coordinator wait). */
  timeoutMs: number;
  /** A recorder for a client about to be created; it becomes that client type's current one. */
  newRecorder: (client: 'producer' | 'admin' | 'consumer') => ClientLogRecorder;
  /** The recorders of the current clients, to explain what they are waiting for. */
  recorders: () => ClientLogRecorder[];
}

export interface AdminClients {
  admin: KafkaJS.Admin;
  /** Set when the admin shares the producer's connections. */
  producer?: KafkaJS.Producer;
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

/** The admin client; on the producer path it shares the producer's connections (producer.dependentAdmin()). */
export async function runAdmin(
  ctx: StepContext,
  shareWithProducer: boolean,
  deliveryTimeoutMs: number,
): Promise<StageRun<AdminClients>> {
  ctx.log.info('Initializing Kafka admin client');
  let producer: KafkaJS.Producer | undefined;
  let admin: KafkaJS.Admin;
  if (shareWithProducer) {
    producer = await connectProducer(ctx, deliveryTimeoutMs);
    admin = producer.dependentAdmin();
  } else {
    admin = createAdmin(ctx.config, ctx.newRecorder('admin'));
  }
  await admin.connect();
  ctx.log.info(
    shareWithProducer
      ? "Admin client started successfully (sharing the producer's broker connections)"
      : 'Admin client started successfully',
  );
  return { value: { admin, producer } };
}

export interface ClusterView {
  /** Topics the cluster reported, internal ones (`__consumer_offsets`, …) included. */
  topics: readonly string[];
}

async function connectProducer(ctx: StepContext, deliveryTimeoutMs: number): Promise<KafkaJS.Producer> {
  const recorder = ctx.newRecorder('producer');
  const producer = createProducer(ctx.config, recorder, deliveryTimeoutMs);
  const connecting = producer.connect();
  try {
    await watchClients(connecting, {
      operation: 'connecting the producer',
      timeoutMs: ctx.timeoutMs,
      recorders: [recorder],
    });
  } catch (error) {
    abandonConnect(producer, connecting, recorder);
    throw error;
  }
  return producer;
}

export async function runBrokerHealth(ctx: StepContext, admin: KafkaJS.Admin): Promise<StageRun<ClusterView>> {
  if (!ctx.config.init.startupHealthCheck) {
    return { value: { topics: [] }, skipped: 'KAFKA_STARTUP_HEALTH_CHECK=false' };
  }
  ctx.log.info('Verifying Kafka broker health', { bootstrapServers: ctx.config.bootstrapServers });
  const topics = await watchClients(admin.listTopics({ timeout: Math.max(1, ctx.timeoutMs - 250) }), {
    operation: 'broker health check',
    timeoutMs: ctx.timeoutMs,
    recorders: ctx.recorders(),
  });
  const count = topics.filter((name) => !name.startsWith('__')).length;
  ctx.log.info(`✓ Kafka cluster is healthy: ${count} topics found`);
  return { value: { topics } };
}

/** Verifies KAFKA_TOPICS exist; creates the missing ones when KAFKA_CREATE_TOPICS=true. */
export async function runTopics(ctx: StepContext, admin: KafkaJS.Admin): Promise<StageRun<readonly number[]>> {
  const { names, create, partitions, replicationFactor } = ctx.config.topics;
  if (names.length === 0) return { value: [], skipped: 'KAFKA_TOPICS is empty' };
  const recorders = ctx.recorders();
  const existing = new Set(
    await watchClients(admin.listTopics({ timeout: Math.max(1, ctx.timeoutMs - 250) }), {
      operation: 'listing topics',
      timeoutMs: ctx.timeoutMs,
      recorders,
    }),
  );
  const missing = names.filter((name) => !existing.has(name));
  const brokers = new Set<number>();
  const present = names.filter((name) => existing.has(name));
  if (present.length > 0) {
    const metadata = await watchClients(
      admin.fetchTopicMetadata({ topics: present, timeout: Math.max(1, ctx.timeoutMs - 250) }),
      {
        operation: 'describing topics',
        timeoutMs: ctx.timeoutMs,
        recorders,
      },
    );
    for (const topic of metadata) {
      for (const partition of topic.partitions) for (const id of partition.replicas) brokers.add(id);
      ctx.log.info(`✓ Topic exists: ${topic.name} (${topic.partitions.length} partitions)`);
    }
  }
  if (missing.length === 0) return { value: [...brokers].sort() };
  // A topic this principal may not describe is left out of the listing: ask for it by name.
  const denied = await watchClients(
    admin.fetchTopicMetadata({ topics: missing, timeout: Math.max(1, ctx.timeoutMs - 250) }),
    {
      operation: 'describing missing topics',
      timeoutMs: ctx.timeoutMs,
      recorders,
    },
  ).then(
    () => undefined,
    (error: unknown) => (classifyKafkaError(error).code === 29 ? error : undefined),
  );
  if (denied) {
    ctx.metrics.count(METRIC_NAMES.topicCreationErrors, missing.length);
    throw new KafkaOperationError(`verifying KAFKA_TOPICS (${missing.join(', ')})`, classifyKafkaError(denied), {
      cause: denied,
    });
  }
  if (!create) {
    ctx.metrics.count(METRIC_NAMES.topicCreationErrors, missing.length);
    const classification = classifyKafkaError({ code: 3, message: `topic(s) ${missing.join(', ')} do not exist` });
    throw new KafkaOperationError('verifying KAFKA_TOPICS', {
      ...classification,
      hint: `Create ${missing.join(', ')}, or set KAFKA_CREATE_TOPICS=true to let the function create them.`,
    });
  }
  try {
    await watchClients(
      admin.createTopics({
        timeout: Math.max(1, ctx.timeoutMs - 250),
        topics: missing.map((topic) => ({
          topic,
          ...(partitions !== undefined && { numPartitions: partitions }),
          ...(replicationFactor !== undefined && { replicationFactor }),
        })),
      }),
      { operation: `creating topics ${missing.join(', ')}`, timeoutMs: ctx.timeoutMs, recorders },
    );
  } catch (error) {
    // TOPIC_ALREADY_EXISTS: another function created it first, which is what we wanted.
    if (classifyKafkaError(error).code !== 36) {
      ctx.metrics.count(METRIC_NAMES.topicCreationErrors, missing.length);
      throw error;
    }
  }
  for (const name of missing) ctx.log.info(`✓ Topic created: ${name}`);
  return { value: [...brokers].sort() };
}

export async function runProducer(
  ctx: StepContext,
  shared: KafkaJS.Producer | undefined,
  deliveryTimeoutMs: number,
): Promise<StageRun<KafkaJS.Producer>> {
  ctx.log.info('Initializing Kafka producer');
  const producer = shared ?? (await connectProducer(ctx, deliveryTimeoutMs));
  ctx.log.info('Producer started successfully', { idempotent: true, acks: 'all', deliveryTimeoutMs });
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

/**
 * The consumer is ready when it has joined its group and holds an assignment: librdkafka retries
 * FindCoordinator by itself, so "coordinator not available" is a join that never completes.
 * `consumer` may come from a failed attempt, still connected: then its join simply carries on.
 */
export async function runConsumer(ctx: StepContext, consumer: ManagedConsumer): Promise<StageRun<ManagedConsumer>> {
  const { groupId } = consumer;
  ctx.log.info('Initializing Kafka consumer', { groupId, topics: consumer.topics });
  if (!consumer.isConnected()) {
    await watchClients(consumer.connect(Math.max(1, ctx.timeoutMs - 250)), {
      operation: 'connecting the consumer',
      timeoutMs: ctx.timeoutMs,
      recorders: [consumer.recorder],
    });
  }
  const waitMs = ctx.timeoutMs;
  const until = Date.now() + waitMs;
  const joined = (async () => {
    while (consumer.assignment().length === 0) {
      if (Date.now() >= until) throw new AttemptTimeoutError(`joining consumer group ${groupId}`, waitMs);
      await consumer.poll(Math.min(200, Math.max(1, until - Date.now())));
    }
  })();
  await watchClients(joined, {
    operation: `joining consumer group ${groupId}`,
    timeoutMs: waitMs,
    recorders: [consumer.recorder],
  });
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
