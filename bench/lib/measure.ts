/** Measurement helpers for bench/: latency percentiles and closed-loop throughput. */

export interface LatencyResult {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `n` calls one after another; latency of each. */
export async function sequential(n: number, call: (i: number) => Promise<unknown>): Promise<LatencyResult> {
  const samples = new Array<number>(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(i);
    samples[i] = (performance.now() - t) * 1000;
  }
  const elapsed = performance.now() - t0;
  samples.sort((a, b) => a - b);
  return {
    p50Us: percentile(samples, 50),
    p99Us: percentile(samples, 99),
    callsPerSec: (n / elapsed) * 1000,
  };
}

/** `n` calls with `inFlight` outstanding at all times; calls per second. */
export async function concurrent(
  n: number,
  inFlight: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  let issued = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (issued < n) {
      const i = issued++;
      await call(i);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (n / (performance.now() - t0)) * 1000;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Render rows as a Markdown table. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const fmt = (v: string | number): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1)) : v;
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(fmt).join(' | ')} |`);
  return lines.join('\n');
}
