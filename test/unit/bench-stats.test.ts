/** The benchmarks' statistics: the ratio intervals the shapes report prints beside each ratio. */
import { describe, expect, it } from 'vitest';
import { formatRatioInterval, median, ratioInterval } from '../../scripts/bench/stats.js';

describe('ratioInterval', () => {
  it('is the ratio itself when every child measured the same', () => {
    expect(ratioInterval([2, 2, 2], [1, 1, 1])).toEqual([2, 2]);
  });

  it("holds the central share of the resampled medians' ratios", () => {
    // The median of three draws from 1, 2, 3 is 1 (or 3) with probability 7/27 each, 2 with 13/27:
    // the central 95 % spans 1 to 3, the central 40 % (0.3 to 0.7) is 2 alone.
    expect(ratioInterval([1, 2, 3], [1, 1, 1])).toEqual([1, 3]);
    expect(ratioInterval([1, 2, 3], [1, 1, 1], { level: 0.4 })).toEqual([2, 2]);
  });

  it('contains the ratio of the medians, and widens with the children’s spread', () => {
    const raw = [0.25, 0.26, 0.27, 0.25, 0.28, 0.26, 0.24, 0.27, 0.26];
    const close = [0.35, 0.36, 0.34, 0.36, 0.35, 0.37, 0.35, 0.36, 0.34];
    const spread = [0.3, 0.45, 0.33, 0.5, 0.35, 0.29, 0.42, 0.36, 0.31];
    const ratio = median(close) / median(raw);
    const [low, high] = ratioInterval(close, raw) as [number, number];
    expect(low).toBeLessThan(ratio);
    expect(high).toBeGreaterThan(ratio);
    const [wideLow, wideHigh] = ratioInterval(spread, raw) as [number, number];
    expect(wideHigh - wideLow).toBeGreaterThan(2 * (high - low));
  });

  it('gives the same interval each time for the same samples', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6];
    const b = [2, 7, 1, 8, 2, 8, 1, 8];
    expect(ratioInterval(a, b)).toEqual(ratioInterval(a, b));
  });

  it('is not given with fewer than three children on either side', () => {
    expect(ratioInterval([1, 2], [1, 2, 3])).toBeUndefined();
    expect(ratioInterval([1, 2, 3], [])).toBeUndefined();
  });
});

describe('formatRatioInterval', () => {
  it('prints the ratio of the medians and its interval', () => {
    expect(formatRatioInterval([1, 2, 3], [1, 1, 1])).toBe('2.00× (1.00–3.00)');
  });

  it('prints the ratio alone without enough children, and — without a figure', () => {
    expect(formatRatioInterval([2, 4], [1])).toBe('3.00×');
    expect(formatRatioInterval([], [1, 1, 1])).toBe('—');
  });
});
