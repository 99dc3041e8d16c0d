/** The soak's schedule: a pure function of (seed, minutes) that never takes two brokers or two controllers at once. */
import { describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  FAULT_LANES,
  formatSchedule,
  HOLD_MS,
  mulberry32,
  type PlannedFault,
  planSchedule,
  SCHEDULE_DEFAULTS,
} from '../../scripts/soak/schedule.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => i * 7919 + 1);

/** Faults of one lane that the planner placed over each other (the next one starting before the last one's planned end). */
function overlaps(schedule: readonly PlannedFault[], lane: string): string[] {
  const faults = schedule.filter((fault) => fault.lane === lane);
  const found: string[] = [];
  for (const [i, fault] of faults.entries()) {
    const next = faults[i + 1];
    if (next && next.atMs < fault.atMs + fault.estimatedMs + next.gapMs) found.push(`#${fault.id} and #${next.id}`);
  }
  return found;
}

describe('the soak schedule', () => {
  it('is the same for the same seed and minutes, and another for another seed', () => {
    expect(planSchedule({ seed: 42, minutes: 10 })).toEqual(planSchedule({ seed: 42, minutes: 10 }));
    expect(formatSchedule(planSchedule({ seed: 43, minutes: 10 }))).not.toEqual(
      formatSchedule(planSchedule({ seed: 42, minutes: 10 })),
    );
  });

  it('of a longer run begins with the shorter run of the same seed', () => {
    const short = planSchedule({ seed: 7, minutes: 3 });
    const long = planSchedule({ seed: 7, minutes: 10 });
    const key = ({ id: _id, ...fault }: PlannedFault) => fault;
    expect(long.filter((fault) => fault.atMs < 3 * 60_000).map(key)).toEqual(short.map(key));
  });

  it('never plans two broker faults or two controller failovers at once, for any seed', () => {
    for (const seed of SEEDS) {
      const schedule = planSchedule({ seed, minutes: 30 });
      expect(overlaps(schedule, 'broker'), `seed ${seed}`).toEqual([]);
      expect(overlaps(schedule, 'controller'), `seed ${seed}`).toEqual([]);
      // Kill, pause and rolling restart share one lane: the rule is one broker unavailable, whatever takes it.
      for (const fault of schedule.filter((f) => f.lane === 'broker'))
        expect(['broker-kill', 'broker-pause', 'rolling-restart']).toContain(fault.kind);
    }
  });

  it('has every fault kind in every schedule of three minutes', () => {
    for (const seed of SEEDS) {
      const kinds = new Set(planSchedule({ seed, minutes: 3 }).map((fault) => fault.kind));
      expect([...kinds].sort(), `seed ${seed}`).toEqual([...FAULT_KINDS].sort());
    }
  });

  it('starts every fault within the minutes, numbered in order of start', () => {
    const schedule = planSchedule({ seed: 5, minutes: 4 });
    expect(schedule.map((fault) => fault.id)).toEqual(schedule.map((_, i) => i + 1));
    for (const [i, fault] of schedule.entries()) {
      expect(fault.atMs).toBeLessThan(4 * 60_000);
      if (i > 0) expect(fault.atMs).toBeGreaterThanOrEqual((schedule[i - 1] as PlannedFault).atMs);
      expect(fault.lane).toBe(FAULT_LANES[fault.kind]);
    }
  });

  it('holds nodes down within the ranges, and freezes functions past the timeouts they test', () => {
    for (const seed of SEEDS.slice(0, 50)) {
      for (const fault of planSchedule({ seed, minutes: 20 })) {
        if (fault.kind === 'consumer-freeze') expect(fault.holdMs).toBeGreaterThan(SCHEDULE_DEFAULTS.consumerSessionMs);
        else if (fault.kind === 'producer-freeze')
          expect(fault.holdMs).toBeGreaterThan(SCHEDULE_DEFAULTS.producerIdExpiryMs);
        else {
          const [min, max] = HOLD_MS[fault.kind];
          expect(fault.holdMs).toBeGreaterThanOrEqual(min);
          expect(fault.holdMs).toBeLessThanOrEqual(max);
        }
        if (fault.kind === 'rolling-restart') expect([...(fault.brokers ?? [])].sort()).toEqual([1, 2, 3]);
        if (fault.kind === 'broker-kill' || fault.kind === 'broker-pause')
          expect([1, 2, 3]).toContain(fault.brokers?.[0]);
      }
    }
  });

  it('refuses a seed that is not a 32-bit whole number, and minutes that are not positive', () => {
    expect(() => planSchedule({ seed: -1, minutes: 3 })).toThrow(/seed must be a whole number/);
    expect(() => planSchedule({ seed: 1.5, minutes: 3 })).toThrow(/seed must be a whole number/);
    expect(() => planSchedule({ seed: 1, minutes: 0 })).toThrow(/minutes must be positive/);
  });
});

describe('mulberry32', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });
});
