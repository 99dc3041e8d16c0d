/**
 * librdkafka settings per client, on top of the configuration's (src/config/librdkafka.ts): what
 * a client inside a Lambda invocation needs that librdkafka's defaults do not give.
 * https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
 */
import { librdkafkaProperties, type RdKafkaProperties } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';
import { STATISTICS_INTERVAL_MS } from '../observability/connection-stats.js';
import { producerMemoryProperties } from './memory.js';

/** Every client: requests and reconnects on a scale an invocation can wait for. */
export const COMMON_OVERRIDES: RdKafkaProperties = {
  // One request may not take longer than a Lambda can wait for it; librdkafka retries after.
  'socket.timeout.ms': 10_000,
  'socket.connection.setup.timeout.ms': 10_000,
  'retry.backoff.ms': 100,
  'retry.backoff.max.ms': 1000,
  // librdkafka's default grows to 10 s between reconnects: longer than a short invocation should
  // wait for a broker that is back.
  'reconnect.backoff.max.ms': 2000,
  // librdkafka spaces new connections by half of reconnect.backoff.ms (sparse connections); with
  // its default 100 ms, a new client waited ~45 ms after the bootstrap answer before connecting to
  // that broker by its id: the largest part of a cold start on a near broker. 50 ms is the Java
  // client's default; lower made a down broker see tens of connection attempts a second from every
  // environment. Reconnects still back off exponentially up to the maximum above.
  'reconnect.backoff.ms': 50,
  log_level: 6,
  // Connection failures are counted, and brokers seen down, from the statistics (stats.ts).
  'statistics.interval.ms': STATISTICS_INTERVAL_MS,
};

/**
 * How long librdkafka keeps trying to deliver a message (message.timeout.ms): librdkafka's own
 * default, far beyond an invocation. The invocation stops waiting at its deadline (producer.ts) and
 * reports what was not acknowledged as possibly delivered still; librdkafka must not give up on it
 * that early. An idempotent producer whose message times out bumps its epoch (KIP-360) and resends
 * what was in flight with new sequence numbers, which the broker cannot tell from new messages: a
 * message whose acknowledgement was lost is then written twice (producer-epoch.test.ts; the chaos
 * soak found it when this was the creating invocation's remaining time). Within this timeout a lost
 * acknowledgement is resent with the same numbers, and the broker keeps one copy.
 */
export const DELIVERY_TIMEOUT_MS = 300_000;

/**
 * The producer for one-shot invocations: idempotent with acks=all (no duplicates from internal
 * retries, nothing acknowledged before all in-sync replicas have it); the delivery timeout is
 * DELIVERY_TIMEOUT_MS, or the time the creating invocation had left when that is longer (a
 * 15-minute function); the Java client's partitioner, so keys land where Java producers put them.
 * linger.ms is KAFKA_PRODUCE_LINGER_MS, 0 by default: an invocation queues all its messages in one
 * go (producer.ts) and nothing more will come, so waiting only delays a single message. With 0,
 * though, librdkafka's broker thread starts a request as soon as the first message of a partition is
 * queued, while the rest are still being queued: 500 messages went out in 6–10 requests. With a
 * linger, the send flushes once it has queued everything (producer.ts), and they go in one.
 */
export function producerProperties(config: KafkaConfig, deliveryTimeoutMs: number): RdKafkaProperties {
  return {
    ...librdkafkaProperties(config, 'producer'),
    ...COMMON_OVERRIDES,
    ...producerMemoryProperties(config),
    'enable.idempotence': true,
    acks: -1,
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': config.produce.lingerMs,
    'message.timeout.ms': Math.round(Math.min(900_000, Math.max(DELIVERY_TIMEOUT_MS, deliveryTimeoutMs))),
    partitioner: 'murmur2_random',
    dr_cb: true,
  };
}

export function adminProperties(config: KafkaConfig): RdKafkaProperties {
  return { ...librdkafkaProperties(config, 'admin'), ...COMMON_OVERRIDES };
}
