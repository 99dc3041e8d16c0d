/** Order statistics of samples, and how figures are printed. */
import { mulberry32 } from '../soak/schedule.js';

/** The q-quantile (0..1) by the nearest-rank method: p99 of 200 samples is the 198th smallest. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A figure with three significant digits (at least), without exponent notation. */
export function formatFigure(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const magnitude = Math.abs(value);
  if (magnitude >= 100_000) return `${Math.round(value / 1000)}k`;
  if (magnitude >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (magnitude >= 100) return String(Math.round(value));
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `a / b` as "1.23×", or — when either is missing. */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

/** Fewer samples than this on either side and no interval is given: a resample of two says nothing. */
export const MIN_INTERVAL_SAMPLES = 3;
/** ratioInterval()'s defaults: how many resamples, and the central share of their ratios it gives. */
export const INTERVAL_RESAMPLES = 4000;
export const INTERVAL_LEVEL = 0.95;

/**
 * How far `median(a) / median(b)` could move with other children of the same clients: a percentile
 * bootstrap interval (each side resampled with replacement, `resamples` times; the central `level`
 * of the ratios; seeded, so the same samples give the same interval). Undefined with fewer than
 * MIN_INTERVAL_SAMPLES on either side. It covers the spread between processes of one run, not what
 * changes on the machine between runs.
 */
export function ratioInterval(
  a: readonly number[],
  b: readonly number[],
  options: { resamples?: number; level?: number; random?: () => number } = {},
): [number, number] | undefined {
  if (a.length < MIN_INTERVAL_SAMPLES || b.length < MIN_INTERVAL_SAMPLES) return undefined;
  const { resamples = INTERVAL_RESAMPLES, level = INTERVAL_LEVEL, random = mulberry32(1) } = options;
  const resample = (samples: readonly number[]) =>
    median(Array.from(samples, () => samples[Math.floor(random() * samples.length)] as number));
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const denominator = resample(b);
    if (denominator !== 0) ratios.push(resample(a) / denominator);
  }
  const tail = (1 - level) / 2;
  return [quantile(ratios, tail), quantile(ratios, 1 - tail)];
}

/** A ratio and its interval: "1.23× (1.10–1.41)", or just the ratio when there is no interval. */
export function formatRatioInterval(a: readonly number[], b: readonly number[]): string {
  const ratio = formatRatio(median(a), median(b));
  const interval = ratio === '—' ? undefined : ratioInterval(a, b);
  return interval ? `${ratio} (${interval[0].toFixed(2)}–${interval[1].toFixed(2)})` : ratio;
}
