import { describe, expect, it } from 'vitest';
import { ConnectionStatistics } from '../../src/observability/connection-stats.js';

type Broker = { nodeid: number; state: string; connects: number; rx: number };
const document = (...brokers: Record<string, Broker>[]) => JSON.stringify({ brokers: Object.assign({}, ...brokers) });
/** A bootstrap broker; `rx`, the responses it received, is 0 unless a connection of it answered. */
const bootstrap = (state: string, connects: number, rx = 0): Record<string, Broker> => ({
  '127.0.0.1:9092/bootstrap': { nodeid: -1, state, connects, rx },
});
const learned = (state: string, connects: number): Record<string, Broker> => ({
  '127.0.0.1:9092/1': { nodeid: 1, state, connects, rx: 0 },
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
        document(bootstrap('UP', 1, 2)),
        document(bootstrap('DOWN', 1, 2), learned('CONNECT', 1)),
        document(learned('UP', 1)),
      ]),
    ).toEqual([0, 0, 0]);
    // The first document may catch it closed already: it answered, so it may be that one.
    expect(failuresOf([document(bootstrap('DOWN', 1, 2), learned('UP', 1)), document(learned('UP', 1))])).toEqual([
      0, 0,
    ]);
  });

  it("a bootstrap broker's connections that never answered count, every attempt, at once", () => {
    expect(
      failuresOf([
        document(bootstrap('DOWN', 1)),
        document(bootstrap('CONNECT', 3)),
        document(bootstrap('TRY_CONNECT', 4)),
        document(bootstrap('TRY_CONNECT', 4)),
      ]),
    ).toEqual([1, 1, 2, 0]);
  });

  it('failures of a bootstrap broker dropped before the next document still count', () => {
    // Two refused, then the third connection answers and librdkafka decommissions the broker within a second.
    expect(
      failuresOf([document(bootstrap('TRY_CONNECT', 2), learned('TRY_CONNECT', 2)), document(learned('UP', 3))]),
    ).toEqual([4, 0]);
  });

  it('one ended connection of a bootstrap broker that answered counts one document late, if it is still there', () => {
    expect(
      failuresOf([
        document(bootstrap('UP', 1, 2)),
        document(bootstrap('TRY_CONNECT', 3, 2)),
        document(bootstrap('TRY_CONNECT', 3, 2)),
      ]),
    ).toEqual([0, 2, 1]);
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
        document(bootstrap('UP', 1, 2)),
        document(learned('UP', 1)),
        document(bootstrap('INIT', 0), learned('TRY_CONNECT', 2)),
        document(bootstrap('TRY_CONNECT', 3), learned('TRY_CONNECT', 2)),
        document(bootstrap('TRY_CONNECT', 3), learned('TRY_CONNECT', 3)),
      ]),
    ).toEqual([0, 0, 2, 3, 1]);
  });
});
