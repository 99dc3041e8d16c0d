import { describe, expect, it } from 'vitest';
import { ConnectionStatistics } from '../../src/observability/connection-stats.js';

type Broker = { nodeid: number; state: string; connects: number };
const document = (brokers: Record<string, Broker>) => JSON.stringify({ brokers });
const bootstrap = (state: string, connects: number): Record<string, Broker> => ({
  '127.0.0.1:9092/bootstrap': { nodeid: -1, state, connects },
});
const learned = (state: string, connects: number): Record<string, Broker> => ({
  '127.0.0.1:9092/1': { nodeid: 1, state, connects },
});

describe('ConnectionStatistics: connection failures from librdkafka statistics', () => {
  it('a cold start is none: the bootstrap connection closed once the metadata named the brokers is no failure', () => {
    const statistics = new ConnectionStatistics();
    const failures = [
      document(bootstrap('CONNECT', 1)),
      document(bootstrap('UP', 1)),
      // librdkafka decommissions the bootstrap broker: UP → DOWN, then gone from the statistics.
      document({ ...bootstrap('DOWN', 1), ...learned('UP', 1) }),
      document(learned('UP', 1)),
    ].map((json) => statistics.update(json));
    expect(failures).toEqual([0, 0, 0, 0]);
    expect(statistics.someUp()).toBe(true);
  });

  it('a refused bootstrap connection counts, every attempt, before any broker is known', () => {
    const statistics = new ConnectionStatistics();
    const failures = [
      document(bootstrap('DOWN', 1)),
      document(bootstrap('CONNECT', 3)),
      document(bootstrap('DOWN', 4)),
    ].map((json) => statistics.update(json));
    expect(failures).toEqual([1, 1, 2]);
    expect(statistics.allDown()).toBe(true);
  });

  it('a known broker lost and connected again counts once', () => {
    const statistics = new ConnectionStatistics();
    const failures = [
      document(learned('UP', 1)),
      document(learned('DOWN', 1)),
      document(learned('CONNECT', 2)),
      document(learned('UP', 2)),
    ].map((json) => statistics.update(json));
    expect(failures).toEqual([0, 1, 0, 0]);
  });
});
