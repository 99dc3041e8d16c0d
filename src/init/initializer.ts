/**
 * The cold-start-aware initializer: one per execution environment, created at module scope.
 * It runs the seed's staged sequence — SSL → admin → broker health → topics → producer → consumer —
 * lazily (a producer-only function never creates a consumer), memoised (a warm invocation runs no
 * stage), never caching a failure, always within the invocation's remaining time, and it notices
 * when a freeze outlived the connections or the group membership. No native call it starts
 * outlives the invocation: an invocation answers once they have all returned (clients/native.ts).
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { ManagedAdmin } from '../clients/admin.js';
import { ManagedConsumer } from '../clients/consumer.js';
import { NativeCalls, within } from '../clients/native.js';
import { ManagedProducer } from '../clients/producer.js';
import { tokenSourceOf } from '../config/librdkafka.js';
import { type Environment, type KafkaConfig, loadConfig } from '../config/load.js';
import { type Resolved, rejectsCredentials, resolveReferences, SecretFetchError } from '../config/references.js';
import { type Classification, classifyKafkaError } from '../errors/classify.js';
import { ConfigError, causeLine, KafkaOperationError, RetryError } from '../errors/errors.js';
import { ClientRecorders } from '../observability/client-log.js';
import type { Log } from '../observability/log.js';
import { createLogger, DEFAULT_SERVICE_NAME, logTo, redactedLog } from '../observability/logger.js';
import {
  type CountName,
  INIT_STAGES,
  type InitStage,
  KafkaMetrics,
  METRIC_NAMES,
  metricsOutput,
} from '../observability/metrics.js';
import { Redactor } from '../observability/redact.js';
import { CircuitBreaker } from '../retry/breaker.js';
import type { Deadline } from '../retry/deadline.js';
import { CertificateValidator } from '../ssl/validator.js';
import { retryInitialisation } from './attempts.js';
import { GroupObserver, type Partition } from './group.js';
import { buildHealthStatus, type HealthStatus } from './health.js';
import { Invocation, type InvocationContext } from './invocation.js';
import { type ProbeResult, probeCluster } from './probe.js';
import {
  downBrokerFindings,
  downBrokers,
  SWEEP_TIMEOUT_MS,
  type SweepMetadata,
  sweep,
  withoutNamedMissing,
} from './reachability.js';
import { closeClients, endOnSigterm } from './shutdown.js';
import { Stage } from './stage.js';
import {
  type AdminClients,
  assertConsumerSettings,
  type ClusterView,
  explainCoordinator,
  runAdmin,
  runBrokerHealth,
  runConsumer,
  runProducer,
  runSsl,
  runTopics,
  type StepContext,
} from './steps.js';
import { checkAfterPause, pauseThreshold } from './thaw.js';

/** How a KafkaInitializer is set up; every option has a default fit for a Lambda function. */
export interface KafkaInitializerOptions {
  /** Where KAFKA_* is read from. Default: `process.env`. */
  env?: Environment;
  /** The `service` of the logs and the metrics' dimension. Default: POWERTOOLS_SERVICE_NAME, else "lambda-kafka". */
  serviceName?: string;
  /** The metrics' namespace. Default: POWERTOOLS_METRICS_NAMESPACE, else "LambdaKafka". */
  namespace?: string;
  /**
   * Your function's Powertools Logger: the library logs through a child of it (your keys, level and
   * service; its own secret redaction on top). Default: a Logger of its own.
   */
  logger?: Logger;
  /**
   * Your function's Powertools Metrics: at the end of each invocation the library adds its metrics to
   * it and leaves publishing to you (Powertools' `logMetrics` middleware or `publishStoredMetrics()`,
   * run after the library's `handler()` / middleware has ended the invocation), so the function emits
   * one EMF document per invocation. Default: a Metrics of its own, published by the library.
   */
  metrics?: Metrics;
  /** Longest SIGTERM clean-up (Lambda allows about 500 ms when extensions are registered). */
  shutdownTimeoutMs?: number;
  /**
   * Where the library's own lines go instead of the JSON logger (the diagnose command prints them
   * as text). They are redacted before they reach it, like the JSON logger's.
   */
  log?: Log;
  /** Do not handle SIGTERM (for short-lived tools that run the initializer). */
  handleSigterm?: boolean;
  /** Print no EMF (for command-line tools); the totals in getHealthStatus() are kept all the same. */
  emitMetrics?: boolean;
}

type Path = 'producer' | 'consumer' | 'admin';

/** How long after an invocation begins a line librdkafka logged at the thaw may still arrive. */
const THAW_WINDOW_MS = 5000;

const LABELS: Record<Path, string> = {
  producer: 'Producer initialization',
  consumer: 'Consumer initialization',
  admin: 'Kafka initialization',
};
const ATTEMPT_METRICS: Record<Path, CountName | undefined> = {
  producer: METRIC_NAMES.producerInitAttempts,
  consumer: METRIC_NAMES.consumerInitAttempts,
  admin: undefined,
};

/**
 * Hands out the producer, consumer and admin client, each built on first need by the staged
 * sequence and kept for the execution environment. Create one at module scope; begin and end each
 * invocation on it (handler(), or kafkaMiddleware from `lambda-kafka/middy`), and pass the
 * Invocation to what it hands out.
 */
export class KafkaInitializer {
  /** The library's logger: a child of `options.logger` when given, else a Powertools Logger of its own. */
  readonly logger: Logger;
  /**
   * The library's metrics, added to the invocation's EMF document at its end. Count what you send
   * or consume yourself here (`metrics.count('messages_produced', n)`) and getHealthStatus() includes it.
   */
  readonly metrics: KafkaMetrics;
  /** The logger as the library's primitives take it. */
  readonly #log: Log;
  readonly #redactor = new Redactor();
  readonly #validator = new CertificateValidator();
  readonly #env: Environment;
  readonly #shutdownTimeoutMs: number;
  readonly #calls: NativeCalls;
  #config: KafkaConfig | ConfigError | undefined;
  /** What the secret references gave (KAFKA_SASL_PASSWORD_SECRET …), once fetched. */
  #fetched: Record<string, string> | undefined;
  /** The invocation that last fetched the secrets again after an authentication failure (once per invocation). */
  #refreshedIn: Invocation | undefined;
  #breaker = new CircuitBreaker({ threshold: 0, cooldownMs: 0 });
  readonly #recorders: ClientRecorders;
  readonly #stages = {
    ssl: this.#stage<readonly string[]>('ssl'),
    admin: this.#stage<AdminClients>('admin'),
    broker_health: this.#stage<ClusterView>('broker_health'),
    topics: this.#stage<readonly number[]>('topics'),
    producer: this.#stage<ManagedProducer>('producer'),
    consumer: this.#stage<ManagedConsumer>('consumer'),
  };
  /** A consumer from a failed attempt, still joining: the next attempt carries on with it. */
  #joining: ManagedConsumer | undefined;
  /** Likewise a producer from a failed attempt, still connecting. */
  #connecting: ManagedProducer | undefined;
  #invocations = 0;
  /** Powertools keeps log keys per invocation (Lambda Managed Instances): read once, not on every invocation. */
  readonly #keysPerInvocation = process.env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined;
  #lastEnd: number | undefined;
  /** When the current invocation began, and the pause before it. */
  #thaw = { at: 0, pauseMs: 0 };
  #lastFailure: { at: number; classification: Classification } | undefined;
  #lastInitAttempts = 0;
  #certificateWarnings: readonly string[] = [];
  #lastProbe: ProbeResult | undefined;
  /** The health check's view of KAFKA_CONSUMER_GROUP_ID, kept so that a warm check opens no connection. */
  #observer: GroupObserver | undefined;
  /** Every broker this environment has seen, by id, to name one that has gone. */
  readonly #knownBrokers = new Map<number, string>();
  /** When each broker the health check finds down was first found down (reachability.ts). */
  readonly #firstDown = new Map<string, number>();
  /** The configured topics' partitions, as the last health check found them. */
  readonly #partitions: Partition[] = [];

  constructor(options: KafkaInitializerOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 500;
    const serviceName = options.serviceName ?? this.#env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME;
    // Your Logger's child (with this redaction) or a Logger of its own.
    const newLogger = () =>
      options.logger?.createChild({ jsonReplacerFn: this.#redactor.replacer }) ??
      createLogger(this.#redactor, serviceName);
    this.logger = newLogger();
    this.#log = options.log ? redactedLog(options.log, this.#redactor) : logTo(this.logger);
    // librdkafka logs between invocations too: those lines get no request id and no cold start.
    const idleLog = options.log ? this.#log : logTo(newLogger());
    this.#recorders = new ClientRecorders(
      this.#log,
      {
        onConnectionFailure: (count) => this.metrics.count(METRIC_NAMES.connectionErrors, count),
        // Clients exist only once the configuration is valid.
        tokenLapsed: () =>
          this.#config !== undefined &&
          !(this.#config instanceof ConfigError) &&
          (tokenSourceOf(this.#config)?.lapsed() ?? false),
        sessionLapsed: () =>
          this.#config !== undefined &&
          !(this.#config instanceof ConfigError) &&
          this.#frozenFor(Date.now()) > this.#config.consumer.sessionTimeoutMs,
      },
      idleLog,
    );
    this.#calls = new NativeCalls(this.#log);
    this.metrics = new KafkaMetrics(
      metricsOutput({ ...options, emit: options.emitMetrics !== false, serviceName, env: this.#env }),
    );
    if (options.handleSigterm !== false) endOnSigterm(() => this.shutdown('SIGTERM'), this.#shutdownTimeoutMs);
  }

  #stage<T>(name: InitStage): Stage<T> {
    return new Stage<T>(name, (stage, ms) => this.metrics.stageDuration(stage, ms));
  }

  /** The validated configuration; a ConfigError is kept too, since only a redeploy changes it. */
  config(): KafkaConfig {
    if (this.#config === undefined) {
      try {
        this.#config = loadConfig(this.#env, this.#fetched);
        const config = this.#config;
        this.#redactor.register(config.sasl?.password, config.ssl.keyPassword);
        if (config.ssl.key?.kind === 'inline') this.#redactor.register(config.ssl.key.pem);
        this.#breaker = new CircuitBreaker({
          threshold: config.init.breakerThreshold,
          cooldownMs: config.init.breakerCooldownMs,
        });
        for (const warning of [...config.warnings, ...config.securityWarnings]) {
          this.#log.warn(`Configuration: ${warning}`);
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        this.#config = error;
      }
    }
    if (this.#config instanceof ConfigError) throw this.#config;
    return this.#config;
  }

  // --- invocations -----------------------------------------------------------------------

  /** Starts an invocation: Lambda context in the logs, cold start, and whether a freeze outlived the connections. */
  begin(context: InvocationContext): Invocation {
    this.#invocations++;
    const coldStart = this.#invocations === 1;
    this.logger.addContext(context as unknown as Context);
    // The key stays until changed: set in the first two invocations only (5 µs a call), except
    // where Powertools keeps keys per invocation (Lambda Managed Instances set AWS_LAMBDA_MAX_CONCURRENCY).
    if (this.#invocations <= 2 || this.#keysPerInvocation) {
      this.logger.appendKeys({ cold_start: coldStart });
    }
    this.#recorders.setActive(true);
    if (coldStart) this.metrics.count(METRIC_NAMES.coldStart);
    let margin = 1000;
    let pauseMs: number | undefined;
    let tokenDue = false;
    try {
      const config = this.config();
      margin = config.init.deadlineMarginMs;
      const pause = this.#lastEnd === undefined ? 0 : Date.now() - this.#lastEnd;
      if (pause > pauseThreshold(config)) pauseMs = pause;
      this.#thaw = { at: Date.now(), pauseMs: pause };
      tokenDue = tokenSourceOf(config)?.due() ?? false;
    } catch {
      // An invalid configuration is reported by whatever the invocation asks for.
    }
    const invocation = new Invocation(context, margin, coldStart, pauseMs);
    invocation.tokenDue = tokenDue;
    return invocation;
  }

  /**
   * Ends an invocation: waits for every native call it started (each is bounded by its deadline),
   * flushes its metrics once, and remembers when, to measure the next pause.
   */
  async end(invocation: Invocation): Promise<void> {
    await this.#finish(invocation);
  }

  /** end(), with a promise only when native calls are left to wait for (rarely). */
  #finish(invocation: Invocation): Promise<void> | undefined {
    if (this.#calls.idle()) {
      this.#ended();
      return undefined;
    }
    return this.#calls.settled(invocation.deadline.remainingMs() + invocation.marginMs / 2).then((settled) => {
      if (!settled)
        this.#log.warn('Native calls still running at the end of the invocation', { calls: this.#calls.inFlight() });
      this.#ended();
    });
  }

  /**
   * How long the process has just been frozen: between invocations, since the last one ended; in the
   * first seconds of an invocation, the pause before it (librdkafka's threads run at the thaw, and
   * what they log then reaches JavaScript around the invocation's start).
   */
  #frozenFor(now: number): number {
    if (this.#lastEnd === undefined) return 0;
    if (!this.#recorders.active) return now - this.#lastEnd;
    return now - this.#thaw.at < THAW_WINDOW_MS ? this.#thaw.pauseMs : 0;
  }

  #ended(): void {
    this.#recorders.setActive(false);
    this.metrics.flush();
    this.#lastEnd = Date.now();
  }

  /** Logs a failed invocation with its cause, classified (what handler() and kafkaMiddleware do). */
  logFailure(error: unknown): void {
    const classification = classifyKafkaError(error);
    const { name, kind, summary, hint } = classification;
    this.#log.error(`Invocation failed: ${causeLine(classification)}`, { error: name, kind, summary, hint });
  }

  /** Wraps a handler so that every invocation begins and ends here, and a failure is logged with its cause. */
  handler<E, R>(
    fn: (event: E, invocation: Invocation) => Promise<R>,
  ): (event: E, context: InvocationContext) => Promise<R> {
    return async (event, context) => {
      const invocation = this.begin(context);
      try {
        return await fn(event, invocation);
      } catch (error) {
        this.logFailure(error);
        throw error;
      } finally {
        const settling = this.#finish(invocation);
        if (settling) await settling;
      }
    };
  }

  // --- entry points ----------------------------------------------------------------------

  /**
   * The producer, connected: built on first need (SSL → admin → broker health → topics → producer),
   * then the same one in every invocation. Retries within the invocation's deadline; when it cannot
   * succeed, rejects with the cause and its hint (RetryError, CircuitOpenError, ConfigError…).
   */
  producer(invocation: Invocation): Promise<ManagedProducer> {
    // A warm invocation's usual case, without the initialisation's promise chain.
    const ready = this.readyProducer(invocation);
    if (ready !== undefined) return Promise.resolve(ready);
    return this.#initialise('producer', invocation, this.#stages.producer, async (ctx) => {
      const clients = await this.#common(ctx, true);
      return this.#stages.producer.get(() => runProducer(ctx, clients));
    });
  }

  /**
   * The producer when this invocation can use it as it is: built by an earlier one, and nothing
   * since (a freeze longer than connections survive, an MSK IAM token due) asks for a check first.
   * Otherwise undefined, and producer() does what is needed. For a send that should not wait a
   * turn of the event loop's promises when the producer is ready (the produce function's).
   */
  readyProducer(invocation: Invocation): ManagedProducer | undefined {
    if (invocation.pauseMs !== undefined || invocation.tokenDue) return undefined;
    return this.#stages.producer.current();
  }

  /**
   * The consumer, joined to its group (KAFKA_CONSUMER_GROUP_ID required): built on first need,
   * then the same one in every invocation. Retries and rejects as producer() does.
   */
  consumer(invocation: Invocation): Promise<ManagedConsumer> {
    return this.#initialise('consumer', invocation, this.#stages.consumer, async (ctx) => {
      await this.#common(ctx, false);
      return this.#stages.consumer.get(async () => {
        assertConsumerSettings(ctx.config);
        const consumer =
          this.#joining ??
          new ManagedConsumer(ctx.config, this.#recorders.create('consumer'), ctx.config.topics.names, this.#calls);
        this.#joining = consumer;
        try {
          const result = await runConsumer(ctx, consumer);
          this.#joining = undefined;
          return result;
        } catch (error) {
          if (!consumer.isConnected()) this.#joining = undefined;
          throw new KafkaOperationError('Consumer initialization', this.#explain(classifyKafkaError(error)), {
            cause: error,
          });
        }
      });
    });
  }

  /** The admin client (and the broker health and topic checks before it). */
  async admin(invocation: Invocation): Promise<ManagedAdmin> {
    await this.#initialise('admin', invocation, this.#stages.topics, async (ctx) => {
      await this.#common(ctx, false);
      return this.#stages.topics.current() ?? [];
    });
    return (this.#stages.admin.current() as AdminClients).admin;
  }

  /** SSL → admin → broker health → topics: what every path needs. */
  async #common(ctx: StepContext, shareWithProducer: boolean): Promise<AdminClients> {
    this.#certificateWarnings = await this.#stages.ssl.get(() => runSsl(ctx, this.#validator, this.#redactor));
    const clients = await this.#stages.admin.get(() =>
      shareWithProducer ? this.#withProducer(ctx, (producer) => runAdmin(ctx, producer)) : runAdmin(ctx, undefined),
    );
    const cluster = await this.#stages.broker_health.get(() => runBrokerHealth(ctx, clients));
    for (const b of cluster.metadata?.brokers ?? []) this.#knownBrokers.set(b.id, `${b.host}:${b.port}`);
    await this.#stages.topics.get(() => runTopics(ctx, clients, cluster));
    // The producer's connect metadata served the first checks; later ones must ask afresh.
    delete clients.metadata;
    return clients;
  }

  /**
   * Runs `step` with the producer being connected: a new one, or the one a failed attempt left
   * connecting. A cause no retry can fix closes it; a transient one keeps it for the next attempt.
   */
  async #withProducer<T>(ctx: StepContext, step: (producer: ManagedProducer) => Promise<T>): Promise<T> {
    const producer =
      this.#connecting ??
      new ManagedProducer(ctx.config, this.#recorders.create('producer'), this.#calls, ctx.deliveryTimeoutMs);
    this.#connecting = producer;
    try {
      const result = await step(producer);
      this.#connecting = undefined;
      return result;
    } catch (error) {
      if (classifyKafkaError(error).kind !== 'transient') {
        this.#connecting = undefined;
        void producer.close(0).catch(() => {});
      }
      throw error;
    }
  }

  async #initialise<T>(
    path: Path,
    invocation: Invocation,
    terminal: Stage<T>,
    chain: (ctx: StepContext) => Promise<T>,
  ): Promise<T> {
    const config = this.config();
    if (invocation.tokenDue) await this.#renewToken(invocation, config);
    if (terminal.isSettledOk() && !(await this.#clientsDied(invocation, path))) return terminal.current() as T;
    const label = LABELS[path];
    const attemptMetric = ATTEMPT_METRICS[path];
    try {
      const resolved = await this.#withSecrets(config, invocation);
      const { value, attempts } = await this.#breaker.run(() =>
        retryInitialisation({
          label,
          config: resolved,
          deadline: invocation.deadline,
          log: this.#log,
          onAttempt: () => attemptMetric && this.metrics.count(attemptMetric),
          explainTimeout: (timeout, since) =>
            this.#explain(classifyKafkaError(timeout, { recentLogs: this.#recorders.linesSince(since) })),
          run: (stepDeadline) => chain(this.#stepContext(resolved, stepDeadline, invocation)),
        }),
      );
      this.#lastInitAttempts = attempts;
      this.#lastFailure = undefined;
      this.#log.info('Kafka service initialized successfully', { path, attempts });
      return value;
    } catch (error) {
      // A rotated password or certificate: fetched again once, and when it changed, one more go.
      if (await this.refreshCredentials(classifyKafkaError(error).name, invocation)) {
        return this.#initialise(path, invocation, terminal, chain);
      }
      const classification = classifyKafkaError(error);
      this.#lastInitAttempts = error instanceof RetryError ? error.attempts : 0;
      this.#lastFailure = { at: Date.now(), classification };
      this.#log.error(`${label} failed: ${causeLine(classification)}`, {
        attempts: this.#lastInitAttempts,
        error: classification.name,
        summary: classification.summary,
        hint: classification.hint,
      });
      throw error;
    }
  }

  // --- secrets by reference ----------------------------------------------------------------

  /** `config` with its secret references fetched (once per environment, then from the cache). */
  async #withSecrets(config: KafkaConfig, invocation: Invocation): Promise<KafkaConfig> {
    if (config.referencesResolved) return config;
    const fetched = await this.#fetchSecrets(invocation, false);
    this.#fetched = fetched.overlay;
    this.#config = undefined;
    return this.config();
  }

  async #fetchSecrets(invocation: Invocation, forceFetch: boolean): Promise<Resolved> {
    const what = `fetching ${this.config().references.join(', ')}`;
    try {
      const fetched = await within(
        resolveReferences(this.#env, { forceFetch }),
        invocation.deadline.remainingMs(),
        what,
      );
      // Before anything can print them.
      this.#redactor.register(...fetched.values);
      return fetched;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const transient = error instanceof SecretFetchError;
      throw new KafkaOperationError(
        'Fetching the secrets',
        {
          code: null,
          name: 'SECRET_FETCH',
          kind: 'transient',
          retriable: true,
          summary: `SECRET_FETCH: ${transient ? error.message : `${what} took longer than the time left`}`,
          hint: 'Check that the function reaches Secrets Manager / SSM (VPC endpoint or NAT gateway) and retry.',
        },
        { cause: error },
      );
    }
  }

  /**
   * After a failure that a rotated credential explains (SASL authentication, a refused client
   * certificate), when the config has secret references: fetches them again, bypassing the cache,
   * once per invocation. When a value changed, every client is dropped (they hold the old one), the
   * refresh is counted (secret_refreshes), and the caller may try again within its deadline: true.
   */
  async refreshCredentials(causeName: string, invocation: Invocation): Promise<boolean> {
    if (!rejectsCredentials(causeName) || this.#refreshedIn === invocation) return false;
    const config = this.#config;
    if (config === undefined || config instanceof ConfigError || config.references.length === 0) return false;
    this.#refreshedIn = invocation;
    let fetched: Resolved;
    try {
      fetched = await this.#fetchSecrets(invocation, true);
    } catch (error) {
      this.#log.warn(`Could not fetch ${config.references.join(', ')} again: ${causeLine(classifyKafkaError(error))}`);
      return false;
    }
    const before = this.#fetched ?? {};
    const changed = Object.keys({ ...before, ...fetched.overlay }).some((k) => before[k] !== fetched.overlay[k]);
    if (!changed) {
      this.#log.warn(
        `The brokers refused the credentials (${causeName}) and ${config.references.join(', ')} still holds the same value: rotate it, or fix it on the brokers`,
      );
      return false;
    }
    this.#fetched = fetched.overlay;
    this.#config = undefined;
    this.metrics.count(METRIC_NAMES.secretRefreshes);
    this.#log.info(
      `The brokers refused the credentials (${causeName}); ${config.references.join(', ')} has a new value: building the clients again`,
    );
    this.#evictAdminAndProducer('credentials rotated');
    this.invalidate('consumer', 'credentials rotated');
    for (const stale of [this.#connecting, this.#joining]) void stale?.close(0).catch(() => {});
    this.#connecting = undefined;
    this.#joining = undefined;
    this.#stages.ssl.evict('credentials rotated');
    return true;
  }

  #stepContext(config: KafkaConfig, deadline: Deadline, invocation: Invocation): StepContext {
    return {
      config,
      log: this.#log,
      metrics: this.metrics,
      calls: this.#calls,
      deadline,
      newRecorder: (client) => this.#recorders.create(client),
      recorders: () => this.#recorders.all(),
      deliveryTimeoutMs: invocation.deadline.remainingMs(),
    };
  }

  #explain(classification: Classification): Classification {
    return explainCoordinator(classification, this.#stages.broker_health.current(), this.#stages.topics.current());
  }

  // --- freeze / thaw ---------------------------------------------------------------------

  /**
   * AWS_MSK_IAM after a freeze that outlived most of the token: a new one for every client before
   * the invocation's first request (msk-iam.ts). librdkafka's threads may already have reconnected
   * with the old one at the thaw; that attempt can be refused, the next carries this token.
   */
  async #renewToken(invocation: Invocation, config: KafkaConfig): Promise<void> {
    invocation.tokenDue = false;
    const source = tokenSourceOf(config);
    if (!source) return;
    try {
      const clients = await source.renew();
      this.#log.info(`AWS_MSK_IAM token renewed after a freeze, for ${clients} client(s)`);
    } catch (error) {
      // The clients keep the old token; a refused connection is then named with its cause.
      this.#log.warn(`AWS_MSK_IAM token not renewed after a freeze: ${(error as Error).message}`);
    }
  }

  /** After a long pause: rebuild only what did not survive it (see thaw.ts). Returns whether `path` must rebuild. */
  async #clientsDied(invocation: Invocation, path: Path): Promise<boolean> {
    if (invocation.pauseMs === undefined || invocation.livenessChecked) return false;
    invocation.livenessChecked = true;
    const verdict = await checkAfterPause({
      pauseMs: invocation.pauseMs,
      deadline: invocation.deadline,
      config: this.config(),
      admin: this.#stages.admin.current()?.admin,
      hasConsumer: this.#stages.consumer.current() !== undefined,
      log: this.#log,
    });
    if (!verdict.connectionsAlive) this.#evictAdminAndProducer('connections lost during a pause');
    if (verdict.sessionExpired) this.invalidate('consumer', 'group session expired during a pause');
    return !verdict.connectionsAlive || (verdict.sessionExpired && path === 'consumer');
  }

  #evictAdminAndProducer(reason: string): void {
    const clients = this.#stages.admin.evict(reason);
    this.#stages.broker_health.evict(reason);
    this.#stages.topics.evict(reason);
    const producer = this.#stages.producer.evict(reason) ?? clients?.producer;
    clients?.admin.close();
    void producer?.close(1000).catch(() => {});
  }

  /** Drops a client after an error that leaves it unusable (e.g. a fatal producer error); the next call rebuilds it. */
  invalidate(client: 'producer' | 'consumer', reason: string): void {
    if (client === 'producer') {
      this.#evictAdminAndProducer(reason);
      return;
    }
    const consumer = this.#stages.consumer.evict(reason);
    void consumer?.close(2000).catch(() => {});
  }

  // --- health and shutdown ---------------------------------------------------------------

  /**
   * The health as of now, from what this environment has seen (no request is made): the stages'
   * states, the breaker, the counts since the cold start, and the last probe of checkHealth().
   */
  getHealthStatus(): HealthStatus {
    let config: KafkaConfig | ConfigError;
    try {
      config = this.config();
    } catch (error) {
      config = error as ConfigError;
    }
    const stages = Object.fromEntries(INIT_STAGES.map((stage) => [stage, this.#stages[stage].status()]));
    return buildHealthStatus({
      config,
      metrics: this.metrics,
      stages: stages as HealthStatus['statistics']['stages'],
      breaker: this.#breaker.snapshot(),
      invocations: this.#invocations,
      lastFailure: this.#lastFailure,
      lastInitAttempts: this.#lastInitAttempts,
      certificateWarnings: this.#certificateWarnings,
      lastProbe: this.#lastProbe,
    });
  }

  /**
   * The scheduled health check: initialise what the admin path needs (as any invocation would),
   * then probe the cluster fresh. Never throws: an unhealthy result is returned, logged as an error
   * and counted in `health_check_failures`, so CloudWatch shows it.
   */
  async checkHealth(invocation: Invocation): Promise<HealthStatus> {
    const started = Date.now();
    // Every broker it expects is tried at once, while the cluster is asked: the metadata alone does
    // not name a broker that is down in every case (reachability.ts).
    let bootstrap: readonly string[] = [];
    try {
      bootstrap = this.config().bootstrapServers;
    } catch {
      // The configuration error is the answer.
    }
    const expected = { bootstrap, known: new Map(this.#knownBrokers) };
    const sweepMs = Math.min(SWEEP_TIMEOUT_MS, Math.max(200, invocation.deadline.remainingMs() / 4));
    const sweeping = sweep([...bootstrap, ...expected.known.values()], sweepMs);
    let described: SweepMetadata | undefined;
    try {
      const admin = await this.admin(invocation);
      const config = this.config();
      const groupId = config.consumer.groupId;
      if (groupId && !this.#observer) {
        this.#observer = new GroupObserver(config, groupId, this.#recorders.detached('group-probe'), this.#calls);
      }
      this.#lastProbe = await probeCluster(admin, config, {
        deadline: invocation.deadline.cappedAt(config.init.coordinatorWaitTimeoutMs),
        recorders: this.#recorders.all(),
        knownBrokers: this.#knownBrokers,
        partitions: this.#partitions,
        onMetadata: (metadata) => {
          described = metadata;
        },
        ...(this.#observer && { observer: this.#observer }),
      });
    } catch (error) {
      const classification = this.#explain(classifyKafkaError(error));
      this.#lastFailure = { at: Date.now(), classification };
      this.#lastProbe = {
        ok: false,
        at: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        error: causeLine(classification),
      };
    }
    if (bootstrap.length > 0) {
      const failures = await sweeping;
      // A broker first seen in this metadata (added to the cluster): tried too, once the metadata named it.
      const swept = new Set([...bootstrap, ...expected.known.values()]);
      const added = [...(described?.live.values() ?? [])].filter((address) => !swept.has(address));
      if (added.length > 0) for (const [address, cause] of await sweep(added, sweepMs)) failures.set(address, cause);
      const brokers = downBrokers(expected, described, failures, this.#firstDown);
      if (brokers.length > 0) {
        this.#lastProbe.down = { brokers, findings: downBrokerFindings(brokers, described) };
        const cluster = this.#lastProbe.cluster;
        if (cluster) cluster.findings = withoutNamedMissing(cluster.findings, brokers);
      }
    }
    const status = this.getHealthStatus();
    if (status.status === 'unhealthy') {
      this.metrics.count(METRIC_NAMES.healthCheckFailures);
      this.#log.error(`Kafka service unhealthy: ${status.reasons[0] ?? ''}`, { reasons: status.reasons });
    } else {
      this.#log.info(`Kafka service ${status.status}`, { reasons: status.reasons, probe: this.#lastProbe });
    }
    return status;
  }

  /** Flushes and disconnects within `shutdownTimeoutMs`; safe to call more than once. */
  async shutdown(reason: string): Promise<void> {
    this.#log.info(`Shutting down (${reason}): flushing and disconnecting`);
    await closeClients(
      {
        producer: this.#stages.producer.current() ?? this.#stages.admin.current()?.producer ?? this.#connecting,
        consumer: this.#stages.consumer.current() ?? this.#joining,
        observer: this.#observer,
      },
      this.#shutdownTimeoutMs,
      this.#log,
    );
    this.metrics.flush();
  }
}
