/** The machine line of the report: CPU, cores, load, and the versions of everything measured. */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { LIB_DIR } from '../kafka/layout.js';

const require = createRequire(import.meta.url);

export interface Machine {
  cpu: string;
  cores: number;
  loadBefore: readonly number[];
  loadAfter?: readonly number[];
  node: string;
  /** From the broker jar the local broker runs (`.kafka/lib/kafka_2.13-<version>.jar`). */
  kafka: string;
  librdkafka: string;
  binding: string;
  kafkajs: string;
}

function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function kafkaVersion(): string {
  try {
    const jar = readdirSync(LIB_DIR).find((file) => /^kafka_2\.13-.*\.jar$/.test(file));
    return jar?.replace(/^kafka_2\.13-/, '').replace(/\.jar$/, '') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const binding = require('@confluentinc/kafka-javascript') as { librdkafkaVersion: string };
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    loadBefore: loadavg(),
    node: process.version,
    kafka: kafkaVersion(),
    librdkafka: binding.librdkafkaVersion,
    binding: packageVersion('@confluentinc/kafka-javascript'),
    kafkajs: packageVersion('kafkajs'),
  };
}
