/**
 * The binding's RdKafka API, loaded on its own. The package's entry point also loads its
 * KafkaJS-compatible layer, which lambda-kafka does not use: about 8 ms more of every cold start
 * (measured with --cpu-prof on the bundled produce function). The binding has no `exports` map, so
 * the module is reachable by its path; `rdkafka` is the same object as the entry point's `RdKafka`.
 */
import { createRequire } from 'node:module';
import type { RdKafka } from '@confluentinc/kafka-javascript';

export const rdkafka: typeof RdKafka = createRequire(import.meta.url)('@confluentinc/kafka-javascript/lib/rdkafka.js');
