/** The machine line of the report: CPU, cores, load, and the versions of everything measured. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
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
  /** The Node the shapes scenario's children ran on (not this process's), when it ran. */
  childNode?: string;
  /** @platformatic/kafka's version, when the shapes scenario measured it. */
  platformatic?: string;
}

/** An installed package's version, read from its package.json (found on the module path: `exports` may not list it). */
export function packageVersion(name: string): string {
  const file = (require.resolve.paths(name) ?? [])
    .map((dir) => join(dir, name, 'package.json'))
    .find((candidate) => existsSync(candidate));
  if (!file) return 'not installed';
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
