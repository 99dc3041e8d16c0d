import { describe, expect, it } from 'vitest';
import { consumerMemoryProperties, drainBatchBytes, producerMemoryProperties } from '../../src/clients/memory.js';
import { producerProperties } from '../../src/clients/properties.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors/errors.js';

const BASE = { KAFKA_BOOTSTRAP_SERVERS: 'b-1.example.com:9092' };
const MB = 1024 * 1024;

describe('the Kafka clients sized to the function', () => {
  it('take a quarter of AWS_LAMBDA_FUNCTION_MEMORY_SIZE: the producer queue, half for the prefetch, a quarter for a drain batch', () => {
    // Prepare / Act
    const config = loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' });

    // Assess
    expect(config.memory.clientMemoryMb).toBe(32);
    expect(producerMemoryProperties(config)).toEqual({ 'queue.buffering.max.kbytes': 32 * 1024 });
    expect(consumerMemoryProperties(config)).toEqual({ 'queued.max.messages.kbytes': 16 * 1024 });
    expect(drainBatchBytes(config)).toBe(8 * MB);
    expect(producerProperties(config, 10_000)['queue.buffering.max.kbytes']).toBe(32 * 1024);
  });

  it("never raise librdkafka's own limits on a large function", () => {
    // Prepare / Act
    const config = loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' });

    // Assess
    expect(producerMemoryProperties(config)).toEqual({ 'queue.buffering.max.kbytes': 1_048_576 });
    expect(consumerMemoryProperties(config)).toEqual({ 'queued.max.messages.kbytes': 65_536 });
  });

  it("follow KAFKA_CLIENT_MEMORY_MB when set, and keep librdkafka's defaults outside Lambda", () => {
    // Prepare / Act
    const set = loadConfig({ ...BASE, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', KAFKA_CLIENT_MEMORY_MB: '8' });
    const outside = loadConfig(BASE);

    // Assess
    expect(producerMemoryProperties(set)).toEqual({ 'queue.buffering.max.kbytes': 8 * 1024 });
    expect(outside.memory.clientMemoryMb).toBeUndefined();
    expect(producerMemoryProperties(outside)).toEqual({});
    expect(consumerMemoryProperties(outside)).toEqual({});
    expect(drainBatchBytes(outside)).toBe(64 * MB);
  });

  it('refuse a KAFKA_CLIENT_MEMORY_MB that is not a whole number of at least 8, naming it', () => {
    // Act
    const problem = () => loadConfig({ ...BASE, KAFKA_CLIENT_MEMORY_MB: '4' });

    // Assess
    expect(problem).toThrow(ConfigError);
    expect(problem).toThrow(/KAFKA_CLIENT_MEMORY_MB: .*got "4"/);
  });
});
