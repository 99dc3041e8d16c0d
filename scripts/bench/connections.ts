/**
 * Connections to the broker, counted from the kernel's socket tables (/proc/net/tcp, tcp6) of this
 * network namespace, where only the benchmark and its broker live. A connection is named by its
 * client end (address:port) and counted in any state: one opened and closed within a call still
 * shows afterwards in TIME_WAIT (about 60 s), on whichever side closed first.
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';

function endpoints(file: string): [local: string, remote: string, state: string][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 3)
    .map((fields) => [fields[1] as string, fields[2] as string, fields[3] as string]);
}

const portOf = (endpoint: string) => Number.parseInt(endpoint.split(':')[1] ?? '', 16);

/** The client ends of every connection to `port` the kernel still knows, in any state. */
export function brokerConnections(port: number): Set<string> {
  const clients = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const [local, remote, state] of endpoints(file)) {
      if (portOf(remote) === port) clients.add(local);
      else if (portOf(local) === port && state !== LISTEN) clients.add(remote);
    }
  }
  return clients;
}

/** The client ends of the connections to `port` that are open now (ESTABLISHED, seen from the client). */
export function establishedConnections(port: number): Set<string> {
  const clients = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const [local, remote, state] of endpoints(file))
      if (portOf(remote) === port && state === '01') clients.add(local);
  }
  return clients;
}

/** How many connections to `port` appeared while `action` ran. */
export async function newConnections<T>(port: number, action: () => Promise<T>): Promise<{ value: T; opened: number }> {
  const before = brokerConnections(port);
  const value = await action();
  const after = brokerConnections(port);
  let opened = 0;
  for (const client of after) if (!before.has(client)) opened++;
  return { value, opened };
}
