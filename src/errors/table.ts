/**
 * librdkafka error codes (negative: raised by the client itself; positive: returned by a broker)
 * sorted into what a retry loop should do, with a hint for the person reading the log. The causes
 * one code is too generic for are the table beside it (KAFKA_CAUSES, causes.ts). The tables are the
 * documentation: a code that is not here is not retried.
 * Codes: https://github.com/confluentinc/librdkafka/blob/master/src/rdkafka.h (rd_kafka_resp_err_t).
 */

/** What to do about an error. */
export const ERROR_KINDS = {
  /** May succeed if tried again after a delay. */
  transient: 'transient',
  /** The client is broken and must be recreated; retrying the same call is pointless. */
  fatal: 'fatal',
  /** A setting, credential, certificate or permission is wrong: no retry can fix it. */
  config: 'config',
} as const;

/**
 * What to do about an error: `transient` (may succeed if tried again after a delay), `fatal` (the
 * client must be recreated; retrying the same call is pointless) or `config` (a setting, credential,
 * certificate or permission is wrong: no retry can fix it).
 * @useDeclaredType
 */
export type ErrorKind = (typeof ERROR_KINDS)[keyof typeof ERROR_KINDS];

export interface KafkaErrorEntry {
  code: number;
  name: string;
  kind: ErrorKind;
  hint: string;
}

const SSL_HINT =
  'Please verify: 1. the CA certificate (KAFKA_SSL_CAFILE / KAFKA_SSL_CA_PEM) signed the broker certificate; ' +
  '2. the client certificate is valid and accepted by the broker; 3. the private key matches it; ' +
  '4. the broker certificate covers the hostname in KAFKA_BOOTSTRAP_SERVERS; 5. no certificate is expired.';
const REACH_HINT =
  "check the broker is running and reachable from the function: VPC subnets, security groups, the port in KAFKA_BOOTSTRAP_SERVERS, and the brokers' advertised listeners.";

const { transient, fatal, config } = ERROR_KINDS;

export const KAFKA_ERRORS: readonly KafkaErrorEntry[] = [
  { code: -195, name: 'TRANSPORT', kind: transient, hint: `A broker connection failed or was closed: ${REACH_HINT}` },
  { code: -187, name: 'ALL_BROKERS_DOWN', kind: transient, hint: `No broker is reachable: ${REACH_HINT}` },
  {
    code: -193,
    name: 'RESOLVE',
    kind: config,
    hint: "A broker hostname does not resolve: check KAFKA_BOOTSTRAP_SERVERS, and DNS resolution in the function's VPC.",
  },
  {
    code: -185,
    name: 'TIMED_OUT',
    kind: transient,
    hint: 'An operation timed out: the broker is slow or unreachable. On slow networks raise KAFKA_COORDINATOR_WAIT_TIMEOUT and the function timeout.',
  },
  { code: -181, name: 'SSL', kind: config, hint: `The TLS handshake failed. ${SSL_HINT}` },
  {
    code: -169,
    name: 'AUTHENTICATION',
    kind: config,
    hint: 'Authentication failed: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or the client certificate for mutual TLS).',
  },
  {
    code: -192,
    name: 'MSG_TIMED_OUT',
    kind: transient,
    hint: 'A message was not acknowledged before its delivery timeout: the partition leader is unreachable or overloaded.',
  },
  {
    code: -184,
    name: 'QUEUE_FULL',
    kind: transient,
    hint: "The producer's local queue is full: send smaller batches, or wait for deliveries before sending more.",
  },
  {
    code: -150,
    name: 'FATAL',
    kind: fatal,
    hint: 'The client hit a fatal error (e.g. the idempotent producer lost message ordering): it is recreated on the next attempt.',
  },
  {
    code: -180,
    name: 'WAIT_COORD',
    kind: transient,
    hint: 'Waiting for the group coordinator; see COORDINATOR_NOT_AVAILABLE.',
  },
  {
    code: -188,
    name: 'UNKNOWN_TOPIC',
    kind: config,
    hint: 'The topic does not exist: create it, or list it in KAFKA_TOPICS with KAFKA_CREATE_TOPICS=true.',
  },
  { code: -190, name: 'UNKNOWN_PARTITION', kind: config, hint: 'The partition does not exist in this topic.' },
  {
    code: -186,
    name: 'INVALID_ARG',
    kind: config,
    hint: 'librdkafka refused an argument or setting: see the message for which one.',
  },
  {
    code: -172,
    name: 'STATE',
    kind: fatal,
    hint: 'The client was used in the wrong state (e.g. after a failed connect); it is recreated on the next attempt.',
  },
  { code: -197, name: 'DESTROY', kind: transient, hint: 'The client was shutting down while the call ran.' },
  {
    code: -147,
    name: 'MAX_POLL_EXCEEDED',
    kind: transient,
    hint: 'The consumer left its group because processing took longer than max.poll.interval.ms; it rejoins.',
  },
  { code: -142, name: 'ASSIGNMENT_LOST', kind: transient, hint: 'The consumer lost its assignment; it rejoins.' },
  { code: -144, name: 'FENCED', kind: fatal, hint: 'Another instance with the same identity fenced this client.' },
  {
    code: -165,
    name: 'UNSUPPORTED_FEATURE',
    kind: config,
    hint: 'The broker does not support a feature this call needs.',
  },
  {
    code: 3,
    name: 'UNKNOWN_TOPIC_OR_PART',
    kind: config,
    hint: 'The topic does not exist (or this principal may not see it): create it, or set KAFKA_CREATE_TOPICS=true.',
  },
  {
    code: 5,
    name: 'LEADER_NOT_AVAILABLE',
    kind: transient,
    hint: 'A partition is electing a leader; it resolves itself.',
  },
  {
    code: 6,
    name: 'NOT_LEADER_FOR_PARTITION',
    kind: transient,
    hint: 'Partition leadership moved; metadata is refreshed.',
  },
  {
    code: 7,
    name: 'REQUEST_TIMED_OUT',
    kind: transient,
    hint: 'A broker did not answer in time: it is overloaded, or replication (min.insync.replicas) is slow.',
  },
  { code: 8, name: 'BROKER_NOT_AVAILABLE', kind: transient, hint: `A broker is not available: ${REACH_HINT}` },
  { code: 9, name: 'REPLICA_NOT_AVAILABLE', kind: transient, hint: 'A replica is not available yet.' },
  {
    code: 10,
    name: 'MSG_SIZE_TOO_LARGE',
    kind: config,
    hint: "The message is larger than the topic's max.message.bytes (or the producer's message.max.bytes).",
  },
  { code: 13, name: 'NETWORK_EXCEPTION', kind: transient, hint: `The broker lost the connection: ${REACH_HINT}` },
  {
    code: 14,
    name: 'COORDINATOR_LOAD_IN_PROGRESS',
    kind: transient,
    hint: "The group coordinator is still loading the group's offsets (after a broker restart or leader change); it resolves itself.",
  },
  {
    code: 15,
    name: 'COORDINATOR_NOT_AVAILABLE',
    kind: transient,
    hint:
      'No broker can act as group coordinator: the __consumer_offsets topic does not exist yet (a new cluster creates it on first use) ' +
      "or cannot be created because the brokers' offsets.topic.replication.factor (default 3) exceeds the number of live brokers. " +
      'Check that every broker is up, and that setting.',
  },
  { code: 16, name: 'NOT_COORDINATOR', kind: transient, hint: 'The group coordinator moved; it is looked up again.' },
  {
    code: 11,
    name: 'STALE_CTRL_EPOCH',
    kind: transient,
    hint: 'The controller changed; the request is sent again.',
  },
  {
    code: 19,
    name: 'NOT_ENOUGH_REPLICAS',
    kind: transient,
    hint: "acks=all writes need min.insync.replicas replicas in sync: bring the brokers that are not back (down, restarting or lagging); lowering the topic's min.insync.replicas trades durability for availability.",
  },
  { code: 20, name: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', kind: transient, hint: 'See NOT_ENOUGH_REPLICAS.' },
  { code: 22, name: 'ILLEGAL_GENERATION', kind: transient, hint: 'The group rebalanced; the consumer rejoins.' },
  { code: 24, name: 'INVALID_GROUP_ID', kind: config, hint: 'KAFKA_CONSUMER_GROUP_ID is empty or invalid.' },
  {
    code: 25,
    name: 'UNKNOWN_MEMBER_ID',
    kind: transient,
    hint: 'The group forgot this member (e.g. after a freeze); it rejoins.',
  },
  {
    code: 26,
    name: 'INVALID_SESSION_TIMEOUT',
    kind: config,
    hint: "KAFKA_CONSUMER_SESSION_TIMEOUT_MS is outside the broker's group.min.session.timeout.ms..group.max.session.timeout.ms.",
  },
  { code: 27, name: 'REBALANCE_IN_PROGRESS', kind: transient, hint: 'The group is rebalancing; the consumer rejoins.' },
  {
    code: 29,
    name: 'TOPIC_AUTHORIZATION_FAILED',
    kind: config,
    hint: 'This principal may not use the topic: grant it an ACL (for MSK IAM, kafka-cluster topic actions in the role policy).',
  },
  {
    code: 30,
    name: 'GROUP_AUTHORIZATION_FAILED',
    kind: config,
    hint: 'This principal may not use the consumer group in KAFKA_CONSUMER_GROUP_ID: grant it a group ACL.',
  },
  {
    code: 31,
    name: 'CLUSTER_AUTHORIZATION_FAILED',
    kind: config,
    hint: 'This principal may not perform the cluster operation (e.g. IdempotentWrite, CreateTopics): grant it a cluster ACL.',
  },
  {
    code: 33,
    name: 'UNSUPPORTED_SASL_MECHANISM',
    kind: config,
    hint: 'The broker does not offer KAFKA_SASL_MECHANISM.',
  },
  { code: 34, name: 'ILLEGAL_SASL_STATE', kind: config, hint: 'SASL was used on a listener that does not expect it.' },
  { code: 35, name: 'UNSUPPORTED_VERSION', kind: config, hint: 'The broker is too old for this request.' },
  { code: 36, name: 'TOPIC_ALREADY_EXISTS', kind: config, hint: 'The topic exists already.' },
  { code: 37, name: 'INVALID_PARTITIONS', kind: config, hint: 'KAFKA_TOPIC_PARTITIONS is invalid for this cluster.' },
  {
    code: 38,
    name: 'INVALID_REPLICATION_FACTOR',
    kind: config,
    hint: 'KAFKA_TOPIC_REPLICATION_FACTOR is larger than the number of brokers.',
  },
  { code: 41, name: 'NOT_CONTROLLER', kind: transient, hint: 'The controller moved; the request is sent again.' },
  {
    code: 56,
    name: 'KAFKA_STORAGE_ERROR',
    kind: transient,
    hint: "A broker's log directory failed; leadership moves to another replica.",
  },
  {
    code: 74,
    name: 'FENCED_LEADER_EPOCH',
    kind: transient,
    hint: 'The request carried an old leader epoch: leadership changed, metadata is refreshed.',
  },
  {
    code: 75,
    name: 'UNKNOWN_LEADER_EPOCH',
    kind: transient,
    hint: 'The broker has not caught up with a new leader epoch yet (just after a leader change).',
  },
  {
    code: 78,
    name: 'OFFSET_NOT_AVAILABLE',
    kind: transient,
    hint: "The new partition leader's high watermark has not caught up yet, briefly after a leader change: asked again.",
  },
  {
    code: 79,
    name: 'MEMBER_ID_REQUIRED',
    kind: transient,
    hint: 'The group asked the consumer to rejoin with its member id.',
  },
  {
    code: 80,
    name: 'PREFERRED_LEADER_NOT_AVAILABLE',
    kind: transient,
    hint: 'The preferred leader of a partition is not available (a broker restarting).',
  },
  {
    code: 82,
    name: 'FENCED_INSTANCE_ID',
    kind: fatal,
    hint: 'Another consumer with the same group.instance.id took over.',
  },
  {
    code: 88,
    name: 'UNSTABLE_OFFSET_COMMIT',
    kind: transient,
    hint: 'A transaction holds uncommitted offsets for the group: asked again.',
  },
  {
    code: 100,
    name: 'UNKNOWN_TOPIC_ID',
    kind: transient,
    hint: 'A broker does not know the topic id yet (metadata still spreading).',
  },
  { code: 44, name: 'POLICY_VIOLATION', kind: config, hint: "The request breaks the cluster's create-topic policy." },
  {
    code: 45,
    name: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    kind: fatal,
    hint: 'The idempotent producer lost ordering; it is recreated.',
  },
  { code: 47, name: 'INVALID_PRODUCER_EPOCH', kind: fatal, hint: 'The producer was fenced; it is recreated.' },
  {
    code: 58,
    name: 'SASL_AUTHENTICATION_FAILED',
    kind: config,
    hint: 'The broker rejected the SASL credentials: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (and KAFKA_SASL_MECHANISM).',
  },
  {
    code: 59,
    name: 'UNKNOWN_PRODUCER_ID',
    kind: transient,
    hint: 'The broker forgot the producer id; the producer resets it.',
  },
  {
    code: 72,
    name: 'LISTENER_NOT_FOUND',
    kind: config,
    hint: "The broker has no listener of the name used to reach it: its advertised.listeners don't match how clients connect.",
  },
  {
    code: 81,
    name: 'GROUP_MAX_SIZE_REACHED',
    kind: config,
    hint: 'The consumer group has reached group.max.size members.',
  },
  { code: 89, name: 'THROTTLING_QUOTA_EXCEEDED', kind: transient, hint: 'A broker quota throttled the request.' },
  {
    code: 90,
    name: 'PRODUCER_FENCED',
    kind: fatal,
    hint: 'Another producer with the same transactional id fenced this one.',
  },
];

export const KAFKA_ERRORS_BY_CODE: ReadonlyMap<number, KafkaErrorEntry> = new Map(KAFKA_ERRORS.map((e) => [e.code, e]));
