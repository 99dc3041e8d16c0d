/**
 * A TCP proxy in front of a broker listener that the tests can break on purpose, and that counts
 * what it broke: connections it accepted and reset at once, and forwarded ones it cut. Brokers
 * advertise the proxy's address, so every client connection goes through it. In `blackhole` mode
 * requests still reach the broker, which handles them, but its answers are dropped (what a client
 * sees when the network fails on the way back); leaving that mode cuts the connections that lost
 * answers, as such a network failure ends.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { portsFrom } from '../../scripts/kafka/connection.js';
import { startTestBroker, TEST_BROKERS } from './brokers.js';

export type ProxyMode = 'forward' | 'reset' | 'refuse' | 'blackhole';

export class BreakableProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  readonly #open = new Set<Socket>();
  /** Client connections whose answers were dropped in blackhole mode. */
  readonly #lostAnswers = new Set<Socket>();
  #server: Server | undefined;
  #mode: ProxyMode = 'forward';
  /** Connections that failed because of the proxy: reset on accept, or cut while forwarded. */
  failures = 0;

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** Listens on a free loopback port, forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<BreakableProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const proxy = new BreakableProxy(port, target);
    await proxy.#listen();
    return proxy;
  }

  #listen(): Promise<void> {
    const server = createServer((client) => {
      if (this.#mode === 'reset') {
        this.failures++;
        client.resetAndDestroy();
        return;
      }
      const upstream = connect(this.#target.port, this.#target.host);
      this.#open.add(client);
      const close = () => {
        this.#open.delete(client);
        this.#lostAnswers.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (this.#mode !== 'blackhole') client.write(chunk);
        else this.#lostAnswers.add(client);
      });
    });
    this.#server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  /**
   * Switches mode; `reset` and `refuse` cut (and count) every forwarded connection, and leaving
   * `blackhole` cuts (and counts) those that lost an answer.
   */
  async setMode(mode: ProxyMode): Promise<void> {
    if (this.#mode === 'blackhole' && mode !== 'blackhole') this.#cut(this.#lostAnswers);
    if (mode !== 'forward' && mode !== 'blackhole' && this.#mode !== 'reset' && this.#mode !== 'refuse')
      this.#cut(this.#open);
    if (mode === 'refuse' && this.#server) {
      const server = this.#server;
      this.#server = undefined;
      await new Promise((resolve) => server.close(resolve));
    } else if (mode !== 'refuse' && !this.#server) {
      await this.#listen();
    }
    this.#mode = mode;
  }

  /** Resets (and counts) every connection of `sockets`. */
  #cut(sockets: Set<Socket>): void {
    for (const socket of [...sockets]) {
      this.failures++;
      this.#open.delete(socket);
      this.#lostAnswers.delete(socket);
      socket.resetAndDestroy();
    }
  }

  async close(): Promise<void> {
    await this.setMode('refuse');
  }
}

/**
 * Starts test broker `name` behind a new proxy: its PLAINTEXT listener advertises the proxy's address,
 * so every client connection after the bootstrap goes through it too.
 */
export async function startBrokerBehindProxy(name: keyof typeof TEST_BROKERS): Promise<BreakableProxy> {
  const ports = portsFrom(TEST_BROKERS[name].portBase);
  const proxy = await BreakableProxy.start({ host: '127.0.0.1', port: ports.PLAINTEXT });
  await startTestBroker(name, {
    fresh: true,
    props: {
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port},SSL://127.0.0.1:${ports.SSL},SASL_SSL://127.0.0.1:${ports.SASL_SSL}`,
    },
  });
  return proxy;
}
