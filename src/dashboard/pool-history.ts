/**
 * PoolHistory: one pool's last minutes, sampled every interval — calls and errors per second, queue depth,
 * calls in flight, latency percentiles — and the latency histogram of the whole window.
 *
 * Everything is read from counters the pool keeps anyway: `stats()` for the counts, and a copy of the latency
 * histogram's buckets, diffed against the previous copy, for the latency of the calls that ended in between.
 * A call pays nothing for the dashboard.
 *
 *   sample ─► diff of bucket counts ─► point.p50 / p99          (this interval)
 *                     └─► sparse diff kept per point ─► window counts (+ new, − the point that falls out)
 */
import type { PoolStats } from '../pool/pool-stats.js';
import { HISTOGRAM_BUCKETS, PER_DOUBLING, percentileOfCounts } from '../telemetry/histogram.js';
import type { HistogramBar, HistoryPoint, LatencyWindow } from './dashboard-types.js';

/** Reads a pool's latency bucket counts into `into`; false when the pool has none. */
export type ReadCounts = (into: Float64Array) => boolean;

/** A point's histogram diff, kept sparse: most buckets of one interval are empty. */
interface SparseCounts {
  index: Uint16Array;
  count: Float64Array;
}

const EMPTY: SparseCounts = { index: new Uint16Array(0), count: new Float64Array(0) };

export class PoolHistory {
  readonly #capacity: number;
  readonly #readCounts: ReadCounts;
  readonly #points: HistoryPoint[] = [];
  readonly #diffs: SparseCounts[] = [];
  /** Bucket counts of the calls that ended within the window. */
  readonly #window = new Float64Array(HISTOGRAM_BUCKETS);
  #previous = new Float64Array(HISTOGRAM_BUCKETS);
  #current = new Float64Array(HISTOGRAM_BUCKETS);
  #hasLatency: boolean;
  #previousAt: number;
  #previousRequests: number;
  #previousErrors: number;

  /** `capacity` points are kept; the baseline is the pool as it is now. */
  constructor(capacity: number, stats: PoolStats, readCounts: ReadCounts, now: number) {
    this.#capacity = capacity;
    this.#readCounts = readCounts;
    this.#hasLatency = readCounts(this.#previous);
    this.#previousAt = now;
    this.#previousRequests = stats.requests;
    this.#previousErrors = stats.errors;
  }

  /** Oldest first. */
  get points(): readonly HistoryPoint[] {
    return this.#points;
  }

  /** Take the sample that ends the current interval. */
  sample(now: number, stats: PoolStats): HistoryPoint {
    const seconds = Math.max(now - this.#previousAt, 1) / 1000;
    const diff = this.#readDiff();
    const point: HistoryPoint = {
      t: now,
      calls: round(Math.max(0, stats.requests - this.#previousRequests) / seconds),
      errors: round(Math.max(0, stats.errors - this.#previousErrors) / seconds),
      queued: stats.queued,
      inFlight: stats.inFlight,
      p50: null,
      p99: null,
    };
    if (diff.index.length > 0) {
      const dense = densify(diff);
      const total = sum(diff.count);
      const max = upperMs(diff.index[diff.index.length - 1]!);
      point.p50 = round(percentileOfCounts(dense, total, max, 0.5));
      point.p99 = round(percentileOfCounts(dense, total, max, 0.99));
    }
    this.#previousAt = now;
    this.#previousRequests = stats.requests;
    this.#previousErrors = stats.errors;
    this.#points.push(point);
    this.#diffs.push(diff);
    addSparse(this.#window, diff, 1);
    while (this.#points.length > this.#capacity) {
      this.#points.shift();
      addSparse(this.#window, this.#diffs.shift()!, -1);
    }
    return point;
  }

  /** The latency of the calls that ended within the window: percentiles and one bar per doubling. */
  latency(): LatencyWindow {
    const counts = this.#window;
    let total = 0;
    let lowest = -1;
    let highest = -1;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! <= 0) continue;
      total += counts[i]!;
      if (lowest < 0) lowest = i;
      highest = i;
    }
    if (total === 0) return { count: 0, p50: 0, p90: 0, p99: 0, bars: [] };
    const max = upperMs(highest);
    const bars: HistogramBar[] = [];
    for (let d = Math.floor(lowest / PER_DOUBLING); d <= Math.floor(highest / PER_DOUBLING); d++) {
      let count = 0;
      for (let i = d * PER_DOUBLING; i < (d + 1) * PER_DOUBLING && i < counts.length; i++)
        count += counts[i]!;
      bars.push({ fromMs: d === 0 ? 0 : 2 ** d / 1000, toMs: 2 ** (d + 1) / 1000, count });
    }
    return {
      count: total,
      p50: round(percentileOfCounts(counts, total, max, 0.5)),
      p90: round(percentileOfCounts(counts, total, max, 0.9)),
      p99: round(percentileOfCounts(counts, total, max, 0.99)),
      bars,
    };
  }

  /** The buckets recorded since the previous sample, sparse; empty when the pool keeps no histogram. */
  #readDiff(): SparseCounts {
    if (!this.#readCounts(this.#current)) {
      this.#hasLatency = false;
      return EMPTY;
    }
    const current = this.#current;
    const previous = this.#previous;
    let diff = EMPTY;
    if (this.#hasLatency) {
      let n = 0;
      for (let i = 0; i < current.length; i++) if (current[i]! > previous[i]!) n++;
      if (n > 0) {
        diff = { index: new Uint16Array(n), count: new Float64Array(n) };
        let j = 0;
        for (let i = 0; i < current.length; i++) {
          const d = current[i]! - previous[i]!;
          if (d > 0) {
            diff.index[j] = i;
            diff.count[j++] = d;
          }
        }
      }
    }
    this.#hasLatency = true;
    this.#previous = current;
    this.#current = previous;
    return diff;
  }
}

/** The upper bound, in ms, of LogHistogram bucket `i`. */
function upperMs(i: number): number {
  return 2 ** ((i + 1) / PER_DOUBLING) / 1000;
}

function densify(sparse: SparseCounts): Float64Array {
  const dense = new Float64Array(HISTOGRAM_BUCKETS);
  addSparse(dense, sparse, 1);
  return dense;
}

function addSparse(target: Float64Array, sparse: SparseCounts, sign: 1 | -1): void {
  for (let j = 0; j < sparse.index.length; j++) target[sparse.index[j]!]! += sign * sparse.count[j]!;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
