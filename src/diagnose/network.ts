/**
 * Network-level checks, independent of the Kafka client: DNS and TCP, each with a timeout. They
 * tell apart what a Kafka client reports as one "broker transport failure". The TLS handshake is
 * src/ssl/handshake.ts, shared with the functions, which use it to explain a TLS failure.
 */
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect } from 'node:net';
import type { BrokerAddress } from '../ssl/handshake.js';

export type HostPort = BrokerAddress;
export { parseBroker as parseHostPort } from '../ssl/handshake.js';

function timeout<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  if (isIP(host)) return [host];
  const addresses = await timeout(timeoutMs, `DNS lookup of ${host}`, lookup(host, { all: true }));
  return addresses.map((a) => a.address);
}

/** Resolves with the connect time in ms; rejects with the socket's error, or ETIMEDOUT (the attempt is then abandoned). */
export function tcpReach({ host, port }: HostPort, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise<number>((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error(`TCP connect to ${host}:${port} timed out after ${timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        }),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Date.now() - started);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
