/**
 * librdkafka's buffers sized to the function's memory. Its defaults assume a server: a producer
 * queue of up to 1 GB (queue.buffering.max.kbytes) and 64 MB of prefetched messages in the
 * consumer (queued.max.messages.kbytes, which also caps fetch.max.bytes, 50 MB by default); a
 * 128 MB function holds about 60 MB before it has sent anything (Node, the binding, the bundle).
 * With KafkaConfig.memory.clientMemoryMb = M (a quarter of the function's memory unless set):
 *
 *   producer queue      M        (never reached by one invocation: Lambda's payload limit is 6 MB)
 *   consumer prefetch   M / 2    (librdkafka lowers fetch.max.bytes to it, at least message.max.bytes)
 *   one drain batch     M / 4    (messages taken into JavaScript at once, each a Buffer of its value)
 *
 * https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
 */
import type { RdKafkaProperties } from '../config/librdkafka.js';
import type { KafkaConfig } from '../config/load.js';

const KB_PER_MB = 1024;
/** librdkafka's defaults, which a larger budget never raises. */
const PRODUCER_QUEUE_DEFAULT_KB = 1_048_576;
const CONSUMER_QUEUE_DEFAULT_KB = 65_536;
/** A drain's batch outside Lambda (no budget): what the default consumer prefetch holds. */
const DRAIN_BATCH_DEFAULT_BYTES = 64 * 1024 * 1024;

export function producerMemoryProperties(config: KafkaConfig): RdKafkaProperties {
  const mb = config.memory.clientMemoryMb;
  return mb === undefined ? {} : { 'queue.buffering.max.kbytes': Math.min(PRODUCER_QUEUE_DEFAULT_KB, mb * KB_PER_MB) };
}

export function consumerMemoryProperties(config: KafkaConfig): RdKafkaProperties {
  const mb = config.memory.clientMemoryMb;
  return mb === undefined
    ? {}
    : { 'queued.max.messages.kbytes': Math.min(CONSUMER_QUEUE_DEFAULT_KB, Math.floor((mb * KB_PER_MB) / 2)) };
}

/** The most bytes of message values a drain takes into JavaScript in one batch. */
export function drainBatchBytes(config: KafkaConfig): number {
  const mb = config.memory.clientMemoryMb;
  return mb === undefined ? DRAIN_BATCH_DEFAULT_BYTES : Math.floor((mb * 1024 * 1024) / 4);
}
