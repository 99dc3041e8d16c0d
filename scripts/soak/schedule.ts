/**
 * The soak's fault schedule: a pure function of (seed, minutes), planned before anything runs, so a
 * run is replayed by passing the same two numbers. Faults are placed in four lanes, one per thing a
 * fault takes away; a lane runs its faults one after the other, the lanes run side by side:
 *
 * - `broker` (broker-kill, broker-pause, rolling-restart): at most ONE broker unavailable at a time.
 *   Topics have replication factor 3 and min.insync.replicas 2: acks=all writes survive exactly one.
 * - `controller` (controller-failover): at most ONE controller down at a time: the KRaft quorum needs 2 of 3.
 * - `producer`, `consumer` (the freezes): one environment each; they may overlap anything.
 *
 * A fault is over only when what it took is back (the broker in every ISR again, the controller
 * following the quorum's leader again), and the next fault of its lane waits for that: on a slow
 * machine a lane runs late rather than break the rule, and every planned fault still runs.
 */

export const FAULT_KINDS = [
  'broker-kill',
  'broker-pause',
  'rolling-restart',
  'controller-failover',
  'consumer-freeze',
  'producer-freeze',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The lane of each fault kind: what it makes unavailable, of which only one may be gone at a time. */
export const FAULT_LANES = {
  'broker-kill': 'broker',
  'broker-pause': 'broker',
  'rolling-restart': 'broker',
  'controller-failover': 'controller',
  'consumer-freeze': 'consumer',
  'producer-freeze': 'producer',
} as const satisfies Record<FaultKind, string>;
export type Lane = (typeof FAULT_LANES)[FaultKind];

export const BROKERS = [1, 2, 3] as const;

type Range = readonly [min: number, max: number];

export interface LanePlan {
  /** Its kinds, with how often each is drawn once every kind has had its turn. */
  weights: Partial<Record<FaultKind, number>>;
  /** Wait before the lane's first fault, and between a fault's end and the next one's start (ms). */
  firstGap: Range;
  gap: Range;
}

export interface ScheduleOptions {
  seed: number;
  /** Faults start within this many minutes (the last may end a little after). */
  minutes: number;
  /** The consume function's consumer session timeout: a consumer freeze outlasts it (ms). */
  consumerSessionMs?: number;
  /** The cluster's producer.id.expiration.ms plus its check interval: a producer freeze outlasts it (ms). */
  producerIdExpiryMs?: number;
}

export const SCHEDULE_DEFAULTS = {
  /** KAFKA_CONSUMER_SESSION_TIMEOUT_MS the soak gives the consume function. */
  consumerSessionMs: 10_000,
  /** The soak cluster's producer.id.expiration.ms (15 s) and producer.id.expiration.check.interval.ms (1 s). */
  producerIdExpiryMs: 16_000,
} as const;

/**
 * How long each kind holds its node down (or its function frozen), and what its recovery is expected
 * to take on a two-core machine (a restarted broker catching up into every ISR): for planning only.
 */
export const HOLD_MS = {
  'broker-kill': [5_000, 20_000],
  'broker-pause': [3_000, 15_000],
  /** Per broker, between its controlled shutdown and its start. */
  'rolling-restart': [1_000, 3_000],
  'controller-failover': [5_000, 20_000],
} as const satisfies Partial<Record<FaultKind, Range>>;
/** Beyond the timeout they must outlast: long enough that the broker's expiry check has run, or the group has evicted. */
const FREEZE_MARGIN_MS: Range = [3_000, 10_000];
const RECOVERY_ESTIMATE_MS: Record<FaultKind, number> = {
  'broker-kill': 25_000,
  'broker-pause': 8_000,
  'rolling-restart': 3 * 28_000,
  'controller-failover': 5_000,
  'consumer-freeze': 2_000,
  'producer-freeze': 2_000,
};

export const LANE_PLANS: Record<Lane, LanePlan> = {
  // Brokers are the soak's main course: back to back, a few seconds apart.
  broker: {
    weights: { 'broker-kill': 2, 'broker-pause': 2, 'rolling-restart': 1 },
    firstGap: [3_000, 6_000],
    gap: [2_000, 6_000],
  },
  controller: { weights: { 'controller-failover': 1 }, firstGap: [10_000, 30_000], gap: [15_000, 45_000] },
  producer: { weights: { 'producer-freeze': 1 }, firstGap: [15_000, 40_000], gap: [20_000, 50_000] },
  consumer: { weights: { 'consumer-freeze': 1 }, firstGap: [10_000, 40_000], gap: [20_000, 50_000] },
};
const LANES = Object.keys(LANE_PLANS) as Lane[];

export interface PlannedFault {
  /** 1.. in order of planned start. */
  id: number;
  kind: FaultKind;
  lane: Lane;
  /** Planned start, ms after the faults begin; it starts later when its lane's previous fault ran late. */
  atMs: number;
  /** After the previous fault of its lane has ended, at least this long passes before this one starts. */
  gapMs: number;
  /** How long the node stays down or paused, or the function frozen (rolling-restart: each broker, stopped to started). */
  holdMs: number;
  /** broker-kill, broker-pause: the broker; rolling-restart: the order (the active controller is known only when it runs). */
  brokers?: number[];
  /** The planner's guess of how long it takes, recovery included. */
  estimatedMs: number;
}

/** mulberry32: a 32-bit seeded generator, uniform in [0, 1); enough for a schedule, no dependency. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (random: () => number, [min, max]: Range) => Math.round(min + random() * (max - min));

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function draw(random: () => number, weights: Partial<Record<FaultKind, number>>): FaultKind {
  const entries = Object.entries(weights) as [FaultKind, number][];
  let left = random() * entries.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [kind, weight] of entries) {
    left -= weight;
    if (left < 0) return kind;
  }
  return (entries.at(-1) as [FaultKind, number])[0];
}

function holdFor(random: () => number, kind: FaultKind, options: Required<ScheduleOptions>): number {
  if (kind === 'consumer-freeze') return options.consumerSessionMs + between(random, FREEZE_MARGIN_MS);
  if (kind === 'producer-freeze') return options.producerIdExpiryMs + between(random, FREEZE_MARGIN_MS);
  return between(random, HOLD_MS[kind]);
}

/**
 * The schedule of (seed, minutes). Each lane draws from its own generator (seeded from the seed and
 * the lane), so a longer run of the same seed begins with the shorter one's faults. A lane first
 * deals each of its kinds once, in a seeded order, then draws by weight: every kind occurs in any
 * schedule long enough for the first round (three minutes).
 */
export function planSchedule(options: ScheduleOptions): PlannedFault[] {
  if (!(Number.isInteger(options.seed) && options.seed >= 0 && options.seed <= 0xffffffff))
    throw new RangeError(`seed must be a whole number from 0 to ${0xffffffff}, got ${options.seed}`);
  if (!(options.minutes > 0)) throw new RangeError(`minutes must be positive, got ${options.minutes}`);
  const resolved = { ...SCHEDULE_DEFAULTS, ...options };
  const windowMs = options.minutes * 60_000;
  const faults: Omit<PlannedFault, 'id'>[] = [];
  for (const [index, lane] of LANES.entries()) {
    const plan = LANE_PLANS[lane];
    const random = mulberry32((options.seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0);
    const deck = shuffled(random, Object.keys(plan.weights) as FaultKind[]);
    let cursor = 0;
    for (let n = 0; ; n++) {
      const gapMs = between(random, n === 0 ? plan.firstGap : plan.gap);
      const atMs = cursor + gapMs;
      if (atMs >= windowMs) break;
      const kind = deck.shift() ?? draw(random, plan.weights);
      const holdMs = holdFor(random, kind, resolved);
      const brokers =
        kind === 'rolling-restart'
          ? shuffled(random, BROKERS)
          : kind === 'broker-kill' || kind === 'broker-pause'
            ? [BROKERS[Math.floor(random() * BROKERS.length)] as number]
            : undefined;
      const estimatedMs = (kind === 'rolling-restart' ? BROKERS.length * holdMs : holdMs) + RECOVERY_ESTIMATE_MS[kind];
      faults.push({ kind, lane, atMs, gapMs, holdMs, estimatedMs, ...(brokers && { brokers }) });
      cursor = atMs + estimatedMs;
    }
  }
  return faults
    .sort((a, b) => a.atMs - b.atMs || LANES.indexOf(a.lane) - LANES.indexOf(b.lane))
    .map((fault, index) => ({ id: index + 1, ...fault }));
}

/** m:ss, with a minus before the faults began. */
export function clock(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  return `${ms < 0 ? '-' : ''}${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** What a fault does, in a few words. */
export function describeFault(fault: PlannedFault): string {
  const hold = `${(fault.holdMs / 1000).toFixed(1)} s`;
  switch (fault.kind) {
    case 'broker-kill':
      return `kill -9 broker ${fault.brokers?.[0]}, restart after ${hold}`;
    case 'broker-pause':
      return `SIGSTOP broker ${fault.brokers?.[0]} for ${hold}`;
    case 'rolling-restart':
      return `SIGTERM and start brokers ${fault.brokers?.join(', ')} in turn (${hold} stopped each)`;
    case 'controller-failover':
      return `kill -9 the active controller, restart after ${hold}`;
    case 'consumer-freeze':
      return `consume function frozen ${hold}`;
    case 'producer-freeze':
      return `produce function frozen ${hold}`;
  }
}

/** One line per fault: id, planned start, kind, what it does. */
export function formatSchedule(schedule: readonly PlannedFault[]): string[] {
  return schedule.map(
    (fault) =>
      `#${String(fault.id).padEnd(3)} ${`+${clock(fault.atMs)}`.padStart(6)}  ${fault.kind.padEnd(19)} ${describeFault(fault)}`,
  );
}
