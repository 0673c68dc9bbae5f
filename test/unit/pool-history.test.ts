// PoolHistory (src/dashboard/pool-history.ts): counters into per-second rates, the latency of each interval.
import { describe, expect, it } from 'vitest';
import { PoolHistory } from '../../src/dashboard/pool-history.js';
import { fakePoolStats as stats } from '../fake-pool-stats.js';
import { LogHistogram } from '../../src/telemetry/histogram.js';

describe('PoolHistory', () => {
  it('turns counters into per-second rates and the latency of each interval into percentiles', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(10, stats(), (into) => (h.copyCounts(into), true), 0);
    for (let i = 0; i < 99; i++) h.record(1);
    h.record(100);
    const p = history.sample(2000, stats({ requests: 100, errors: 4, queued: 3, inFlight: 2 }));
    expect(p).toMatchObject({ t: 2000, calls: 50, errors: 2, queued: 3, inFlight: 2 });
    expect(p.p50! / 1).toBeGreaterThanOrEqual(1);
    expect(p.p50!).toBeLessThan(1.1);
    expect(p.p99!).toBeLessThan(1.1); // the 99th of 100 values is still 1 ms
    // Nothing ended in the next interval: no percentiles, zero rates.
    const quiet = history.sample(3000, stats({ requests: 100, errors: 4 }));
    expect(quiet).toMatchObject({ calls: 0, errors: 0, p50: null, p99: null });
  });

  it('keeps `capacity` points, and the window histogram forgets what fell out', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(2, stats(), (into) => (h.copyCounts(into), true), 0);
    h.record(10);
    history.sample(1000, stats({ requests: 1 }));
    expect(history.latency()).toMatchObject({ count: 1 });
    h.record(0.05);
    history.sample(2000, stats({ requests: 2 }));
    expect(history.latency().count).toBe(2);
    history.sample(3000, stats({ requests: 2 })); // the 10 ms call's interval falls out
    expect(history.points.map((p) => p.t)).toEqual([2000, 3000]);
    const w = history.latency();
    expect(w.count).toBe(1);
    expect(w.p99).toBeLessThan(0.06);
    // One bar per doubling of microseconds, covering the value.
    expect(w.bars).toEqual([{ fromMs: 0.032, toMs: 0.064, count: 1 }]);
  });

  it('bars run contiguously from the lowest to the highest doubling with values', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(5, stats(), (into) => (h.copyCounts(into), true), 0);
    h.record(0.001);
    h.record(3);
    history.sample(1000, stats());
    const { bars } = history.latency();
    expect(bars[0]).toMatchObject({ fromMs: 0, toMs: 0.002 }); // the first bar also holds everything below 1 µs
    expect(bars.at(-1)!.toMs).toBe(4.096);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(2);
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.fromMs).toBe(bars[i - 1]!.toMs);
  });

  it('without call telemetry: rates still, no latency', () => {
    const history = new PoolHistory(5, stats(), () => false, 0);
    expect(history.sample(500, stats({ requests: 10 }))).toMatchObject({ calls: 20, p50: null });
    expect(history.latency()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, bars: [] });
  });
});
