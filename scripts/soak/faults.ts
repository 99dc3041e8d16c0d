/**
 * The soak's faults, each injected into the local cluster or a function's environment and held until
 * what it took is back: a broker in every ISR of the watched topics again, a controller following the
 * quorum's leader again, a frozen function invoked again. Availability counts what is down at any
 * moment, so the report shows the concurrency rule (schedule.ts) held, rather than assuming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  activeController,
  clusterConnection,
  killNode,
  pauseNode,
  startNode,
  stopNode,
  waitForIsr,
} from '../kafka/cluster.js';
import { CONTROLLER_ID_BASE } from '../kafka/cluster-config.js';
import { clusterLayout } from '../kafka/layout.js';
import type { PlannedFault } from './schedule.js';

/** A function environment the soak can stop invoking (it stays frozen, as Lambda freezes it) and resume. */
export interface Freezable {
  /** Resolves, with when its last invocation returned, once no invocation runs; none starts until release(). */
  hold(): Promise<number>;
  /** Lets invocations start again; resolves when the first has returned (the freeze's effect shows there). */
  release(): Promise<void>;
}

export interface FaultContext {
  cluster: string;
  /** Topics whose every partition must have all three replicas in sync before a broker fault is over. */
  topics: string[];
  producer: Freezable;
  consumer: Freezable;
  availability: Availability;
  log: (line: string) => void;
}

export interface FaultRun {
  fault: PlannedFault;
  /** The nodes it hit (for controller-failover, the controller active then). */
  targets: number[];
  startedAt: number;
  /** When what it took was back: the window in which failures may be its doing starts and ends here (plus a grace). */
  endedAt: number;
  /** How long nodes were down or paused, or the function frozen. */
  downMs: number;
  /** What recovery took, in words. */
  notes: string[];
  /** The injection or the recovery failed: the soak's own failure, not the library's. */
  error?: string;
}

type Role = 'broker' | 'controller';

/** What is unavailable now, and the most that ever was at once. */
export class Availability {
  readonly #down: Record<Role, Set<number>> = { broker: new Set(), controller: new Set() };
  readonly most: Record<Role, number> = { broker: 0, controller: 0 };
  /** Moments more than one broker or controller was unavailable. */
  readonly violations: string[] = [];

  down(role: Role, id: number): void {
    const down = this.#down[role];
    down.add(id);
    this.most[role] = Math.max(this.most[role], down.size);
    if (down.size > 1)
      this.violations.push(`${new Date().toISOString()}: ${role}s ${[...down].join(', ')} unavailable`);
  }

  up(role: Role, id: number): void {
    this.#down[role].delete(id);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** A restarted broker catching up on a two-core machine shared with the functions: minutes, at worst. */
const RECOVERY_TIMEOUT_MS = 180_000;

/** Every partition of every watched topic has its three replicas in sync again. */
async function waitForFullIsr(context: FaultContext): Promise<void> {
  const connection = clusterConnection(context.cluster);
  for (const topic of context.topics) await waitForIsr(connection, topic, 3, RECOVERY_TIMEOUT_MS);
}

interface QuorumState {
  leaderId?: number;
  leaderEpoch?: number;
}

function quorumState(cluster: string, id: number): QuorumState | undefined {
  const file = join(clusterLayout(cluster).node(id).dataDir, '__cluster_metadata-0', 'quorum-state');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as QuorumState;
  } catch {
    return undefined; // Being rewritten.
  }
}

/** Whether `promise` settled within `timeoutMs`. */
async function within(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = await Promise.race([
    promise.then(() => true),
    sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  return settled;
}

/** Polls until `done` returns true; false after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Controller `id` follows the leader of the highest epoch any controller has seen (it has rejoined the quorum). */
function controllerFollows(cluster: string, id: number): boolean {
  const controllers = [1, 2, 3].map((j) => CONTROLLER_ID_BASE + j);
  const epochs = controllers.map((other) => quorumState(cluster, other)?.leaderEpoch ?? -1);
  const own = quorumState(cluster, id);
  return (own?.leaderId ?? -1) >= 0 && (own?.leaderEpoch ?? -1) >= Math.max(...epochs);
}

interface BrokerOutage {
  takeDown: () => Promise<unknown>;
  holdMs: number;
  bringBack: () => Promise<unknown>;
  /** Resumed (SIGCONT) rather than started again. */
  resumed?: boolean;
}

/** Broker `id` down for the hold, back, and in every watched ISR again; resolves with how long it was down. */
async function brokerDownAndBack(context: FaultContext, id: number, outage: BrokerOutage, notes: string[]) {
  const at = Date.now();
  context.availability.down('broker', id);
  try {
    await outage.takeDown();
    await sleep(outage.holdMs);
    const back = Date.now();
    await outage.bringBack();
    const started = Date.now();
    await waitForFullIsr(context);
    const how = outage.resumed ? 'resumed' : `serving again ${seconds(started - back)} after its start`;
    notes.push(`broker ${id}: ${how}, in every ISR ${seconds(Date.now() - started)} later`);
    return back - at;
  } finally {
    context.availability.up('broker', id);
  }
}

async function inject(fault: PlannedFault, context: FaultContext, run: FaultRun): Promise<void> {
  const { cluster } = context;
  const brokers = fault.brokers ?? [];
  switch (fault.kind) {
    case 'broker-kill': {
      const id = brokers[0] as number;
      run.targets.push(id);
      const outage = {
        takeDown: () => killNode(cluster, id),
        holdMs: fault.holdMs,
        bringBack: () => startNode(cluster, id),
      };
      run.downMs = await brokerDownAndBack(context, id, outage, run.notes);
      return;
    }
    case 'broker-pause': {
      const id = brokers[0] as number;
      run.targets.push(id);
      const outage = {
        takeDown: async () => pauseNode(cluster, id, true),
        holdMs: fault.holdMs,
        bringBack: async () => pauseNode(cluster, id, false),
        resumed: true,
      };
      run.downMs = await brokerDownAndBack(context, id, outage, run.notes);
      return;
    }
    case 'rolling-restart': {
      // MSK's patching: one broker at a time, each back in every ISR before the next goes.
      for (const id of brokers) {
        run.targets.push(id);
        const outage = {
          takeDown: () => stopNode(cluster, id),
          holdMs: fault.holdMs,
          bringBack: () => startNode(cluster, id),
        };
        run.downMs += await brokerDownAndBack(context, id, outage, run.notes);
      }
      return;
    }
    case 'controller-failover': {
      const id = activeController(cluster);
      if (id === undefined) throw new Error('no active controller to kill: the quorum has no leader');
      run.targets.push(id);
      const at = Date.now();
      context.availability.down('controller', id);
      try {
        await killNode(cluster, id);
        const elected = await until(() => (activeController(cluster) ?? id) !== id, fault.holdMs, 100);
        if (elected)
          run.notes.push(`controller ${activeController(cluster)} elected ${seconds(Date.now() - at)} after`);
        await sleep(Math.max(0, at + fault.holdMs - Date.now()));
        run.downMs = Date.now() - at;
        await startNode(cluster, id);
        const restarted = Date.now();
        if (!(await until(() => controllerFollows(cluster, id), 60_000)))
          throw new Error(`controller ${id} did not follow the quorum's leader within 60 s of its restart`);
        run.notes.push(`controller ${id} following the leader ${seconds(Date.now() - restarted)} after its restart`);
      } finally {
        context.availability.up('controller', id);
      }
      return;
    }
    case 'consumer-freeze':
    case 'producer-freeze': {
      const target = fault.kind === 'consumer-freeze' ? context.consumer : context.producer;
      const frozenAt = await target.hold();
      await sleep(Math.max(0, frozenAt + fault.holdMs - Date.now()));
      const thawed = target.release();
      run.downMs = Date.now() - frozenAt;
      // Over once the function has been invoked again (a consume invocation lasts 30 s at most).
      if (!(await within(thawed, 60_000)))
        throw new Error('the function was not invoked again within 60 s of its thaw');
      return;
    }
  }
}

/** Every node running and resumed, every watched ISR full: after the faults, and after one failed. */
export async function restoreCluster(context: FaultContext): Promise<void> {
  for (const id of [1, 2, 3]) pauseNode(context.cluster, id, false);
  for (const id of [1, 2, 3, 101, 102, 103]) await startNode(context.cluster, id);
  await waitForFullIsr(context);
}

/** Injects `fault` and resolves once it is over; never rejects (a failure is in the run's `error`). */
export async function runFault(fault: PlannedFault, context: FaultContext): Promise<FaultRun> {
  const run: FaultRun = { fault, targets: [], startedAt: Date.now(), endedAt: 0, downMs: 0, notes: [] };
  context.log(`fault #${fault.id} ${fault.kind} begins`);
  try {
    await inject(fault, context, run);
  } catch (error) {
    run.error = (error as Error).message.split('\n')[0];
    context.log(`fault #${fault.id} ${fault.kind} failed: ${run.error}; restoring the cluster`);
    await restoreCluster(context).catch((restore: Error) => context.log(`restoring failed: ${restore.message}`));
  }
  run.endedAt = Date.now();
  context.log(
    `fault #${fault.id} ${fault.kind} over after ${seconds(run.endedAt - run.startedAt)}${run.targets.length ? ` (node ${run.targets.join(', ')})` : ''}${run.notes.length ? `: ${run.notes.join('; ')}` : ''}`,
  );
  return run;
}
