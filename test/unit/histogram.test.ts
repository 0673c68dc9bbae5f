// LogHistogram (src/telemetry/histogram.ts).
import { describe, expect, it } from 'vitest';
import { LogHistogram } from '../../src/telemetry/histogram.js';

describe('LogHistogram', () => {
  it('percentiles are within one bucket (9 %) of the exact value', () => {
    const h = new LogHistogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 10_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const ms = 0.02 * Math.exp((x / 2 ** 31) * 9); // 20 µs … 160 ms, log-uniform
      values.push(ms);
      h.record(ms);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const got = h.percentile(q);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got / exact).toBeLessThan(1.091);
    }
    expect(h.count).toBe(10_000);
    expect(h.max).toBe(values.at(-1));
    expect(h.percentile(1)).toBe(h.max);
    expect(h.sum).toBeCloseTo(
      values.reduce((a, b) => a + b, 0),
      6,
    );
  });

  it('counts below powers of two of microseconds exactly, and keeps the extremes', () => {
    const h = new LogHistogram();
    for (const ms of [0, 0.0009, 0.001, 0.0639, 0.064, 0.0641, 1e12]) h.record(ms);
    expect(h.countBelowPow2Us(0)).toBe(0);
    expect(h.countBelowPow2Us(1)).toBe(3); // 0, 0.9 µs and 1 µs are below 2 µs
    expect(h.countBelowPow2Us(6)).toBe(4); // 63.9 µs < 64 µs ≤ 64 µs
    expect(h.countBelowPow2Us(40)).toBe(6);
    expect(h.countBelowPow2Us(41)).toBe(7); // the last bucket holds everything beyond
    expect(h.summary()).toMatchObject({ count: 7, max: 1e12 });
    expect(new LogHistogram().summary()).toEqual({
      count: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      max: 0,
    });
  });
});
