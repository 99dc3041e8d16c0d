/**
 * The short chaos soak of `npm test` (scripts/soak/): a fresh cluster in MSK's shape, the packaged
 * produce and consume functions kept busy over SASL_SSL, and for a few minutes every kind of fault at
 * least once — brokers killed, paused and restarted in turn, the active controller killed, each
 * function frozen past the timeout its freeze tests. The whole report is printed; `npm run soak`
 * replays the run, or runs a longer one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { stopCluster } from '../../scripts/kafka/cluster.js';
import { formatReport } from '../../scripts/soak/format.js';
import { FAULT_KINDS, formatSchedule, planSchedule } from '../../scripts/soak/schedule.js';
import { runSoak } from '../../scripts/soak/soak.js';
import { TEST_CLUSTERS } from '../support/cluster.js';

const CLUSTER = 'soak-short';
/** A schedule with every kind of fault, its broker faults over early enough for the file to end within 6 minutes. */
const SEED = 72;
const MINUTES = 2.5;

// runSoak stops its cluster; this is for a soak the test's timeout cut short.
afterAll(() => stopCluster(CLUSTER), 120_000);

describe('the functions through a short chaos soak', () => {
  it('lose, duplicate or leave unprocessed no acknowledged message, fail only as the faults explain, and keep their deadlines', async () => {
    // Prepare: the schedule has every kind of fault
    const schedule = planSchedule({ seed: SEED, minutes: MINUTES });
    expect(new Set(schedule.map((fault) => fault.kind)), formatSchedule(schedule).join('\n')).toEqual(
      new Set(FAULT_KINDS),
    );

    // Act: a fresh cluster, started and stopped by the soak
    const report = await runSoak({
      minutes: MINUTES,
      seed: SEED,
      name: CLUSTER,
      portBase: TEST_CLUSTERS[CLUSTER].portBase,
      log: (line) => console.log(line),
    });

    // Assess
    console.log(formatReport(report));
    expect(new Set(report.faults.map((fault) => fault.kind))).toEqual(new Set(FAULT_KINDS));
    expect(report.faults.filter((fault) => fault.error)).toEqual([]);
    expect(report.concurrency).toMatchObject({ brokers: 1, controllers: 1, violations: [] });
    expect(report.produce.acked).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.unprocessed).toEqual([]);
    expect(report.unexplained).toEqual([]);
    expect(report.pastDeadline).toEqual([]);
    expect(report.passed, report.problems.join('; ')).toBe(true);
  }, 360_000);
});
