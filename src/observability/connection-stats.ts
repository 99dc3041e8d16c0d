/**
 * Broker connections from librdkafka's statistics (statistics.interval.ms): each broker's
 * `connects` counts every connection attempt, and its `state` says whether one is open or being
 * opened. Every attempt that is neither is over — it failed, or it was established and then lost —
 * so the difference is the number of connection failures, exactly, which librdkafka's log cannot
 * give: it reports identical failures of a broker once per 30 s.
 * https://github.com/confluentinc/librdkafka/blob/master/STATISTICS.md
 */

/** Every client reports its statistics this often; a failure shows at most this late. */
export const STATISTICS_INTERVAL_MS = 1000;

/** States of a connection being set up, and of one that is open. */
const OPENING = new Set(['CONNECT', 'SSL_HANDSHAKE', 'AUTH_LEGACY', 'APIVERSION_QUERY', 'AUTH_HANDSHAKE', 'AUTH_REQ']);
const OPEN = new Set(['UP', 'UPDATE', 'REAUTH']);

export interface BrokerState {
  /** librdkafka's name, e.g. `127.0.0.1:9092/1` or `…/bootstrap`. */
  name: string;
  nodeId: number;
  state: string;
}

interface BrokerStatistics {
  nodeid: number;
  state: string;
  connects: number;
  /** Responses received, over all of the broker's connections. */
  rx?: number;
}

/** What the previous document said of a broker. */
interface Seen {
  ended: number;
  rx: number | undefined;
  open: boolean;
}

export class ConnectionStatistics {
  readonly #seen = new Map<string, Seen>();
  /** Bootstrap brokers' failures from the previous document, counted if those brokers are still there. */
  #pending = new Map<string, number>();
  #brokers: BrokerState[] = [];
  #at = 0;

  /**
   * Reads one statistics document; returns how many connections failed since the previous one.
   * Once the metadata has named the brokers, librdkafka closes its bootstrap connection and drops
   * the bootstrap broker ("Decommissioning this broker"), and a document may catch it closed and not
   * yet dropped. So one connection of a bootstrap broker that ended since the previous document
   * counts one document late, if the broker is still there, when it may have been that one: when
   * the connection was open then, or answered since. Its other ended connections count at once:
   * one that never answered failed (the broker may be dropped before the next document, as it is
   * when the connection after them succeeds).
   */
  update(json: string): number {
    let brokers: Record<string, BrokerStatistics>;
    try {
      brokers = (JSON.parse(json) as { brokers?: Record<string, BrokerStatistics> }).brokers ?? {};
    } catch {
      return 0;
    }
    let failures = 0;
    for (const [name, count] of this.#pending) if (name in brokers) failures += count;
    this.#pending = new Map();
    // A broker gone from the statistics is gone; one of the same name later (librdkafka adds the
    // bootstrap brokers again when none of the known ones answers) counts from zero.
    for (const name of this.#seen.keys()) if (!(name in brokers)) this.#seen.delete(name);
    for (const [name, broker] of Object.entries(brokers)) {
      const open = OPEN.has(broker.state);
      const current = open || OPENING.has(broker.state) ? 1 : 0;
      const ended = Math.max(0, broker.connects - current);
      const seen = this.#seen.get(name);
      const previous = seen?.ended ?? 0;
      const added = Math.max(0, ended - previous);
      this.#seen.set(name, { ended: Math.max(ended, previous), rx: broker.rx, open });
      const answered = broker.rx === undefined || broker.rx > (seen?.rx ?? 0);
      const mayBeClosedByClient = broker.nodeid < 0 && added > 0 && (seen?.open === true || answered);
      if (mayBeClosedByClient) this.#pending.set(name, 1);
      failures += mayBeClosedByClient ? added - 1 : added;
    }
    this.#brokers = Object.entries(brokers).map(([name, b]) => ({ name, nodeId: b.nodeid, state: b.state }));
    this.#at = Date.now();
    return failures;
  }

  /** The brokers of the last statistics, and when they came. */
  brokers(): { at: number; brokers: readonly BrokerState[] } {
    return { at: this.#at, brokers: this.#brokers };
  }

  /** True when the last statistics had a broker connection open (one broker answers, whatever the others do). */
  someUp(): boolean {
    return this.#brokers.some((b) => OPEN.has(b.state));
  }

  /** True when the last statistics had brokers and not one connection open. */
  allDown(): boolean {
    return this.#brokers.length > 0 && !this.#brokers.some((b) => OPEN.has(b.state));
  }
}
