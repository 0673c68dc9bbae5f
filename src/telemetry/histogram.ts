/**
 * LogHistogram: latencies in fixed log-scale buckets, cheap enough to record every call (a log2 and an
 * increment, no allocation).
 *
 *   bucket i holds values in [2^(i/8), 2^((i+1)/8)) µs   (8 buckets per doubling: each ≈ 9 % wide)
 *   bucket 0 also holds everything below 1 µs; one more bucket holds everything from 2^40 µs (≈ 12 days) up
 *
 * Percentiles are read from the buckets (the bucket's upper bound, clamped to the largest value seen), so they
 * are within one bucket (≈ 9 %) of the exact value. Counts below a power of two of microseconds are exact,
 * which is what the Prometheus histogram (`le` buckets at powers of two) is built from.
 */

export const PER_DOUBLING = 8;
export const DOUBLINGS = 40;
const OVERFLOW = PER_DOUBLING * DOUBLINGS;
/** Buckets of a LogHistogram (the length of the array `copyCounts` fills). */
export const HISTOGRAM_BUCKETS = OVERFLOW + 1;

/** A summary of a histogram, in milliseconds. All zero when nothing was recorded. */
export interface LatencySummary {
  /** Values recorded. */
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export class LogHistogram {
  readonly #counts = new Float64Array(HISTOGRAM_BUCKETS);
  /** Values recorded. */
  count = 0;
  /** Sum of the values, in ms. */
  sum = 0;
  /** Largest value seen, in ms. */
  max = 0;

  /** Record one value in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const us = ms * 1000;
    let i = 0;
    if (us >= 1) {
      i = (Math.log2(us) * PER_DOUBLING) | 0;
      if (i > OVERFLOW) i = OVERFLOW;
    }
    this.#counts[i]!++;
    this.count++;
    if (ms > 0) this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** The value at quantile `q` (0 < q ≤ 1), in ms; 0 when empty. */
  percentile(q: number): number {
    return percentileOfCounts(this.#counts, this.count, this.max, q);
  }

  /**
   * Copy the bucket counts into `target` (length HISTOGRAM_BUCKETS). For readers that diff two copies to see
   * the values recorded in between (the dashboard's per-second latency); nothing is copied per call.
   */
  copyCounts(target: Float64Array): void {
    target.set(this.#counts);
  }

  /** Values recorded below 2^k µs (exact up to k = 40: bucket edges fall on every power of two; all beyond). */
  countBelowPow2Us(k: number): number {
    if (k > DOUBLINGS) return this.count;
    const end = Math.max(0, k * PER_DOUBLING);
    let n = 0;
    for (let i = 0; i < end; i++) n += this.#counts[i]!;
    return n;
  }

  summary(): LatencySummary {
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : round(this.sum / this.count),
      p50: round(this.percentile(0.5)),
      p90: round(this.percentile(0.9)),
      p95: round(this.percentile(0.95)),
      p99: round(this.percentile(0.99)),
      max: round(this.max),
    };
  }
}

/**
 * The value at quantile `q` (0 < q ≤ 1), in ms, of `count` values held in LogHistogram buckets `counts`
 * (clamped to `max`); 0 when empty.
 */
export function percentileOfCounts(counts: Float64Array, count: number, max: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < OVERFLOW; i++) {
    seen += counts[i]!;
    if (seen >= rank) return Math.min(max, 2 ** ((i + 1) / PER_DOUBLING) / 1000);
  }
  return max;
}
