/** Naming the brokers that are down: the connection sweep, and pairing ids with addresses. */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { downBrokerFindings, downBrokers, type SweepMetadata, sweep } from '../../src/init/reachability.js';

const A1 = '10.0.0.1:9092';
const A2 = '10.0.0.2:9092';
const A3 = '10.0.0.3:9092';
const bootstrap = [A1, A2, A3];
const refused = (...addresses: string[]) => new Map(addresses.map((a) => [a, 'connection refused']));

function metadata(
  live: Record<number, string>,
  replicas: number[],
  leads: Record<number, string[]> = {},
): SweepMetadata {
  return {
    live: new Map(Object.entries(live).map(([id, address]) => [Number(id), address])),
    replicas: new Set(replicas),
    leads: new Map(Object.entries(leads).map(([id, partitions]) => [Number(id), partitions])),
  };
}

describe('downBrokers', () => {
  it('names a broker the metadata still lists by its id and address, as listed', () => {
    const down = downBrokers(
      { bootstrap, known: new Map() },
      metadata({ 1: A1, 2: A2, 3: A3 }, [1, 2, 3]),
      refused(A2),
      new Map(),
      1000,
    );
    expect(down).toEqual([{ id: 2, address: A2, cause: 'connection refused', listed: true, since: 1000 }]);
  });

  it('takes the address of a fenced broker from what this environment saw earlier', () => {
    const known = new Map([
      [1, A1],
      [2, A2],
      [3, A3],
    ]);
    const down = downBrokers({ bootstrap, known }, metadata({ 1: A1 }, [1, 2, 3]), refused(A2, A3), new Map(), 1);
    expect(down.map((b) => [b.id, b.address, b.listed])).toEqual([
      [2, A2, false],
      [3, A3, false],
    ]);
  });

  it('pairs the one id nobody lists with the one address that failed', () => {
    const down = downBrokers(
      { bootstrap, known: new Map() },
      metadata({ 1: A1, 2: A2 }, [1, 2, 3]),
      refused(A3),
      new Map(),
    );
    expect(down.map((b) => [b.id, b.address])).toEqual([[3, A3]]);
  });

  it('names two fenced brokers it never saw by ids and by addresses, without guessing which is which', () => {
    const down = downBrokers(
      { bootstrap, known: new Map() },
      metadata({ 1: A1 }, [1, 2, 3]),
      refused(A2, A3),
      new Map(),
    );
    expect(down.map((b) => [b.id, b.address])).toEqual([
      [2, undefined],
      [3, undefined],
      [undefined, A2],
      [undefined, A3],
    ]);
    const [finding] = downBrokerFindings(down, undefined);
    expect(finding?.reason).toBe(
      `brokers 2, 3 are down: partitions name them as a replica, the cluster does not list them; the brokers at ${A2} (connection refused), ${A3} (connection refused) do not accept connections (which id is at which address, this environment has not seen: the cluster no longer lists them)`,
    );
  });

  it('with no metadata at all (the cluster did not answer), still names every address that failed, with the ids seen before', () => {
    const down = downBrokers({ bootstrap, known: new Map([[2, A2]]) }, undefined, refused(A2, A3), new Map());
    expect(down.map((b) => [b.id, b.address])).toEqual([
      [2, A2],
      [undefined, A3],
    ]);
  });

  it('remembers when each broker was first found down, and forgets one that is back', () => {
    const firstDown = new Map<string, number>();
    const md = metadata({ 1: A1, 2: A2, 3: A3 }, [1, 2, 3]);
    downBrokers({ bootstrap, known: new Map() }, md, refused(A2), firstDown, 1000);
    const later = downBrokers({ bootstrap, known: new Map() }, md, refused(A2), firstDown, 30_000);
    expect(later[0]?.since).toBe(1000);
    downBrokers({ bootstrap, known: new Map() }, md, refused(), firstDown, 40_000);
    expect(firstDown.size).toBe(0);
  });
});

describe('downBrokerFindings', () => {
  const md = metadata({ 1: A1, 2: A2, 3: A3 }, [1, 2, 3], { 2: ['orders[0]', 'orders[2]'] });

  it('calls a listed broker that leads configured partitions unhealthy, naming them', () => {
    const [finding] = downBrokerFindings(
      [{ id: 2, address: A2, cause: 'connection refused', listed: true, since: 1000 }],
      md,
      2000,
    );
    expect(finding?.level).toBe('unhealthy');
    expect(finding?.reason).toMatch(/^broker 2 \(10\.0\.0\.2:9092\) is down or unreachable: connection refused; /);
    expect(finding?.reason).toMatch(/it went down moments ago, or the controller quorum is not answering/);
    expect(finding?.reason).toMatch(/it leads orders\[0\], orders\[2\]/);
  });

  it('says the controller quorum is not answering once a down broker stays listed past a broker session', () => {
    const [finding] = downBrokerFindings(
      [{ id: 3, address: A3, cause: 'connection refused', listed: true, since: 1000 }],
      md,
      21_000,
    );
    expect(finding?.level).toBe('degraded');
    expect(finding?.reason).toMatch(
      /still lists it as a live broker 20 s after .*: the controller quorum is not answering/,
    );
  });
});

describe('sweep', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('connects to every address at once and reports only those that failed, with their cause', async () => {
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const open = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const port = (probe.address() as { port: number }).port;
        probe.close(() => resolve(port));
      });
    });
    const failures = await sweep([open, `127.0.0.1:${closed}`, open], 1000);
    expect([...failures]).toEqual([[`127.0.0.1:${closed}`, 'connection refused']]);
  });
});
