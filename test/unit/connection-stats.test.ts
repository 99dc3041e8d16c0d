import { describe, expect, it } from 'vitest';
import { ConnectionStatistics } from '../../src/observability/connection-stats.js';

type Broker = { nodeid: number; state: string; connects: number };
const document = (...brokers: Record<string, Broker>[]) => JSON.stringify({ brokers: Object.assign({}, ...brokers) });
const bootstrap = (state: string, connects: number): Record<string, Broker> => ({
  '127.0.0.1:9092/bootstrap': { nodeid: -1, state, connects },
});
const learned = (state: string, connects: number): Record<string, Broker> => ({
  '127.0.0.1:9092/1': { nodeid: 1, state, connects },
});
const failuresOf = (documents: string[]) => {
  const statistics = new ConnectionStatistics();
  return documents.map((json) => statistics.update(json));
};

describe('ConnectionStatistics: connection failures from librdkafka statistics', () => {
  it('a cold start is none: the bootstrap connection librdkafka closes once the metadata named the brokers', () => {
    // librdkafka decommissions the bootstrap broker (its connection closed), then drops it from the statistics.
    expect(
      failuresOf([
        document(bootstrap('UP', 1)),
        document(bootstrap('DOWN', 1), learned('CONNECT', 1)),
        document(learned('UP', 1)),
      ]),
    ).toEqual([0, 0, 0]);
  });

  it("a bootstrap broker's refused connections count, every attempt, one document late", () => {
    expect(
      failuresOf([
        document(bootstrap('DOWN', 1)),
        document(bootstrap('CONNECT', 3)),
        document(bootstrap('TRY_CONNECT', 4)),
        document(bootstrap('TRY_CONNECT', 4)),
      ]),
    ).toEqual([0, 1, 1, 2]);
  });

  it('a known broker lost and connected again counts once, at once', () => {
    expect(
      failuresOf([
        document(learned('UP', 1)),
        document(learned('DOWN', 1)),
        document(learned('CONNECT', 2)),
        document(learned('UP', 2)),
      ]),
    ).toEqual([0, 1, 0, 0]);
  });

  it('bootstrap brokers added again while the known ones are down count from zero', () => {
    // The outage seen through a proxy that resets every connection (test/integration/runtime-warm-outage.test.ts).
    expect(
      failuresOf([
        document(bootstrap('UP', 1)),
        document(learned('UP', 1)),
        document(bootstrap('INIT', 0), learned('TRY_CONNECT', 2)),
        document(bootstrap('TRY_CONNECT', 3), learned('TRY_CONNECT', 2)),
        document(bootstrap('TRY_CONNECT', 3), learned('TRY_CONNECT', 3)),
      ]),
    ).toEqual([0, 0, 2, 0, 4]);
  });
});
