/**
 * Which of the brokers a client expects are down, by id and address. The metadata alone cannot say:
 * a broker the controllers have fenced is left out of it (only partitions name its id), and while
 * the controller quorum does not answer nobody fences a dead broker, so the metadata still lists it
 * as live. So the health check also tries a TCP connection to every address it knows of (bootstrap
 * list, metadata, brokers seen earlier by this environment), all at once and bounded, and puts the two
 * together: a broker that does not accept connections is named with its id and address, and one the
 * cluster still lists long after it went down says that the controllers are not answering.
 */
import { tcpReach } from '../diagnose/network.js';
import { parseBroker } from '../ssl/handshake.js';
import type { ClusterFinding } from './cluster-health.js';

/** How long the sweep waits for a connection at most (a quarter of the time left, if less). */
export const SWEEP_TIMEOUT_MS = 1500;

/** Kafka's default broker.session.timeout.ms: the controllers fence a broker that has not heartbeated for this long. */
export const BROKER_SESSION_TIMEOUT_MS = 9000;

/**
 * A broker this environment expected and could not connect to.
 * @inline
 */
export interface DownBroker {
  /** Its node id, when the metadata or an earlier one of this environment gave it. */
  id?: number;
  /** host:port, when a bootstrap server or a metadata gave it. */
  address?: string;
  /** Why the connection failed: `connection refused`, `no answer within 1500 ms`, … */
  cause: string;
  /** The cluster's metadata still lists it as a live broker (its controllers have not fenced it). */
  listed: boolean;
  /** When this environment first found it down, in this run of failures (epoch ms). */
  since: number;
}

/** What the sweep knows before it connects. */
export interface SweepInputs {
  /** KAFKA_BOOTSTRAP_SERVERS, as host:port. */
  bootstrap: readonly string[];
  /** Brokers seen earlier by this environment, id → host:port. */
  known: ReadonlyMap<number, string>;
}

/** What the probe learned, once it has (absent when the cluster answered nothing). */
export interface SweepMetadata {
  /** Brokers the metadata lists, id → host:port. */
  live: ReadonlyMap<number, string>;
  /** Every broker id the configured topics' partitions name as a replica. */
  replicas: ReadonlySet<number>;
  /** Configured topic partitions led by each broker, `topic[partition]`. */
  leads: ReadonlyMap<number, readonly string[]>;
}

function connectCause(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'no route to host';
  return code ?? (error as Error).message;
}

/** Tries every address at once; resolves within `timeoutMs` with the cause of each one that failed. */
export async function sweep(addresses: Iterable<string>, timeoutMs: number): Promise<Map<string, string>> {
  const unique = [...new Set(addresses)];
  const causes = new Map<string, string>();
  await Promise.all(
    unique.map(async (address) => {
      try {
        await tcpReach(parseBroker(address), timeoutMs);
      } catch (error) {
        causes.set(address, connectCause(error, timeoutMs));
      }
    }),
  );
  return causes;
}

/**
 * The expected brokers that failed to connect, paired with their ids where anything says which is
 * which: the metadata, an earlier metadata of this environment, or elimination (one id the
 * partitions name but nobody lists, one address that failed). `firstDown` keeps, per address or id,
 * when this environment first found it down; entries that are up again are removed.
 */
export function downBrokers(
  inputs: SweepInputs,
  metadata: SweepMetadata | undefined,
  failures: ReadonlyMap<string, string>,
  firstDown: Map<string, number>,
  now = Date.now(),
): DownBroker[] {
  const addressOf = new Map<number, string>([...inputs.known, ...(metadata?.live ?? [])]);
  const idOf = new Map<string, number>();
  for (const [id, address] of addressOf) idOf.set(address, id);
  const down: DownBroker[] = [];
  const pairedIds = new Set<number>();
  const unpairedAddresses: string[] = [];
  for (const [address, cause] of [...failures].sort(([a], [b]) => a.localeCompare(b))) {
    const id = idOf.get(address);
    if (id === undefined) {
      unpairedAddresses.push(address);
      continue;
    }
    pairedIds.add(id);
    down.push({ id, address, cause, listed: metadata?.live.has(id) ?? false, since: now });
  }
  // Ids the partitions name that the cluster does not list, and whose address is not known (a
  // fenced broker this environment never saw): down, or unreachable from the brokers.
  const unpairedIds = [...(metadata?.replicas ?? [])]
    .filter((id) => !metadata?.live.has(id) && !pairedIds.has(id) && !addressOf.has(id))
    .sort((a, b) => a - b);
  const [onlyId] = unpairedIds;
  const [onlyAddress] = unpairedAddresses;
  if (unpairedIds.length === 1 && unpairedAddresses.length === 1 && onlyId !== undefined && onlyAddress) {
    down.push({
      id: onlyId,
      address: onlyAddress,
      cause: failures.get(onlyAddress) as string,
      listed: false,
      since: now,
    });
  } else {
    for (const address of unpairedAddresses) {
      down.push({ address, cause: failures.get(address) as string, listed: false, since: now });
    }
    for (const id of unpairedIds) down.push({ id, cause: 'not in the cluster', listed: false, since: now });
  }
  const keys = new Set<string>();
  for (const broker of down) {
    const key = broker.address ?? `id ${broker.id}`;
    keys.add(key);
    const first = firstDown.get(key);
    if (first === undefined) firstDown.set(key, now);
    else broker.since = first;
  }
  for (const key of firstDown.keys()) if (!keys.has(key)) firstDown.delete(key);
  return down.sort((a, b) => (a.id ?? 1e9) - (b.id ?? 1e9) || (a.address ?? '').localeCompare(b.address ?? ''));
}

/**
 * One finding per down broker whose id and address are both known: `unhealthy` when the metadata
 * still has it lead a configured partition (those writes and reads wait for it), `degraded`
 * otherwise; a broker still listed longer than a broker session after this environment first found
 * it down means the controller quorum is not answering (it alone fences brokers). The ids and
 * addresses that could not be paired make one finding that names them all.
 */
export function downBrokerFindings(
  down: readonly DownBroker[],
  metadata: SweepMetadata | undefined,
  now = Date.now(),
): ClusterFinding[] {
  const findings: ClusterFinding[] = [];
  for (const broker of down) {
    if (broker.id === undefined || !broker.address) continue;
    const leads = metadata?.leads.get(broker.id) ?? [];
    let reason = `broker ${broker.id} (${broker.address}) is down or unreachable: ${broker.cause}`;
    if (broker.listed) {
      const downFor = now - broker.since;
      reason +=
        downFor > BROKER_SESSION_TIMEOUT_MS
          ? `; the cluster still lists it as a live broker ${Math.round(downFor / 1000)} s after this environment found it down: the controller quorum is not answering (it fences a broker within broker.session.timeout.ms, 9 s by default), so leaders cannot move and in-sync replica sets cannot shrink`
          : '; the cluster still lists it as a live broker: it went down moments ago, or the controller quorum is not answering (a later check tells which)';
    }
    if (leads.length > 0) reason += `; it leads ${leads.join(', ')}, whose writes and reads wait until it is back`;
    findings.push({ level: leads.length > 0 ? 'unhealthy' : 'degraded', reason });
  }
  const ids = down.filter((b) => !b.address).map((b) => b.id as number);
  const addresses = down.filter((b) => b.id === undefined).map((b) => `${b.address} (${b.cause})`);
  const parts: string[] = [];
  if (ids.length > 0) {
    parts.push(
      `${ids.length === 1 ? 'broker' : 'brokers'} ${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} down: partitions name ${ids.length === 1 ? 'it' : 'them'} as a replica, the cluster does not list ${ids.length === 1 ? 'it' : 'them'}`,
    );
  }
  if (addresses.length > 0) {
    parts.push(
      `${addresses.length === 1 ? 'the broker at' : 'the brokers at'} ${addresses.join(', ')} ${addresses.length === 1 ? 'does' : 'do'} not accept connections`,
    );
  }
  if (parts.length > 0) {
    const which =
      ids.length > 0 && addresses.length > 0
        ? ' (which id is at which address, this environment has not seen: the cluster no longer lists them)'
        : '';
    findings.push({ level: 'degraded', reason: `${parts.join('; ')}${which}` });
  }
  return findings;
}

/** The metadata's findings, less its line about unlisted brokers when the sweep named every one of them (it says more). */
export function withoutNamedMissing(
  findings: readonly ClusterFinding[],
  down: readonly DownBroker[],
): ClusterFinding[] {
  const named = new Set(down.map((broker) => broker.id));
  return findings.filter((f) => !f.missing?.every((id) => named.has(id)));
}
