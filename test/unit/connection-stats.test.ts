import { describe, expect, it } from 'vitest';
import { ConnectionStatistics } from '../../src/observability/connection-stats.js';

type Broker = { nodeid: number; state: string; connects: number; disconnects: number };
const document = (...brokers: Record<string, Broker>[]) => JSON.stringify({ brokers: Object.assign({}, ...brokers) });
const bootstrap = (state: string, connects: number, disconnects = 0): Record<string, Broker> => ({
  '127.0.0.1:9092/bootstrap': { nodeid: -1, state, connects, disconnects },
});
const learned = (state: string, connects: number, disconnects = 0): Record<string, Broker> => ({
  '127.0.0.1:9092/1': { nodeid: 1, state, connects, disconnects },
});
const failuresOf = (documents: string[]) => {
  const statistics = new ConnectionStatistics();
  return documents.map((json) => statistics.update(json));
};

describe('ConnectionStatistics: connection failures from librdkafka statistics', () => {
  it('a cold start is none: the bootstrap connection librdkafka closes once the metadata named the brokers', () => {
    // librdkafka decommissions the bootstrap broker (UP → DOWN, a disconnect), then drops it from the statistics.
    expect(
      failuresOf([
        document(bootstrap('CONNECT', 1)),
        document(bootstrap('DOWN', 1, 1), learned('CONNECT', 1)),
        document(learned('UP', 1)),
      ]),
    ).toEqual([0, 0, 0]);
  });

  it('a bootstrap connection refused counts, every attempt, also while known brokers are down', () => {
    expect(
      failuresOf([
        document(bootstrap('DOWN', 1)),
        document(bootstrap('CONNECT', 3)),
        document(bootstrap('DOWN', 4), learned('DOWN', 2, 1)),
      ]),
    ).toEqual([1, 1, 4]);
  });

  it('a known broker lost and connected again counts once', () => {
    expect(
      failuresOf([
        document(learned('UP', 1)),
        document(learned('DOWN', 1, 1)),
        document(learned('CONNECT', 2, 1)),
        document(learned('UP', 2, 1)),
      ]),
    ).toEqual([0, 1, 0, 0]);
  });
});
