/**
 * The workloads (issue 9, a–i). Each runs against a started driver, checks that every answer is right, and
 * returns its measurements. `size` scales them down for the CI smoke run (correctness only, no timing claims).
 */
import { readFileSync } from 'node:fs';
import { concurrent, sequential } from './lib/measure.js';
import type { BenchDriver } from './systems/types.js';

export interface WorkloadResult {
  /** Every answer was checked and right. */
  ok: boolean;
  /** Why not ok, or why not applicable. */
  note?: string;
  /** Not supported by this system (ok is then false and the row shows n/a). */
  na?: boolean;
  metrics: Record<string, number>;
}

export interface Sizes {
  sequential: number;
  floatCalls: number;
  floats: number;
  concurrent: number;
  inFlight: number;
  parallelCalls: number;
  cpuMs: number;
  sleepMs: number;
  chunks: number;
  bytesIterations: number;
  bytesSize: number;
  /** Items of the large Float64Array (100 MB: 12,500,000). */
  bigFloats: number;
  bigIterations: number;
  /** Rows of the table sent to pandas and back (1,000,000). */
  tableRows: number;
}

export const FULL: Sizes = {
  sequential: 10_000,
  floatCalls: 1_000,
  floats: 10_000,
  concurrent: 20_000,
  inFlight: 64,
  parallelCalls: 8,
  cpuMs: 50,
  sleepMs: 100,
  chunks: 100_000,
  bytesIterations: 20,
  bytesSize: 1 << 20,
  bigFloats: 12_500_000,
  bigIterations: 5,
  tableRows: 1_000_000,
};

export const QUICK: Sizes = {
  sequential: 50,
  floatCalls: 5,
  floats: 1_000,
  concurrent: 200,
  inFlight: 16,
  parallelCalls: 2,
  cpuMs: 10,
  sleepMs: 20,
  chunks: 1_000,
  bytesIterations: 2,
  bytesSize: 64 * 1024,
  bigFloats: 100_000,
  bigIterations: 2,
  tableRows: 1_000,
};

function fail(note: string): WorkloadResult {
  return { ok: false, note, metrics: {} };
}

export function notApplicable(note: string): WorkloadResult {
  return { ok: false, na: true, note, metrics: {} };
}

async function checked(run: () => Promise<WorkloadResult>): Promise<WorkloadResult> {
  try {
    return await run();
  } catch (err) {
    return fail(`threw: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

export type WorkloadName =
  | 'sequential'
  | 'floats-list'
  | 'floats-typed'
  | 'concurrent'
  | 'cpu-parallel'
  | 'sleep-parallel'
  | 'stream'
  | 'bytes'
  | 'big-array'
  | 'table';

export const WORKLOADS: Record<WorkloadName, (d: BenchDriver, s: Sizes) => Promise<WorkloadResult>> = {
  sequential: (d, s) =>
    checked(async () => {
      let wrong = 0;
      const r = await sequential(s.sequential, async (i) => {
        if ((await d.add(i, 1)) !== i + 1) wrong++;
      });
      return wrong
        ? fail(`${wrong} wrong answers`)
        : { ok: true, metrics: { p50Us: r.p50Us, p99Us: r.p99Us, callsPerSec: r.callsPerSec } };
    }),

  'floats-list': (d, s) =>
    checked(async () => {
      const values = Array.from({ length: s.floats }, (_, i) => i * 0.5);
      const expected = values.reduce((a, b) => a + b, 0);
      const t0 = performance.now();
      for (let i = 0; i < s.floatCalls; i++) {
        const got = await d.sumList(values);
        if (!close(got, expected)) return fail(`sum was ${got}, expected ${expected}`);
      }
      return { ok: true, metrics: { callsPerSec: (s.floatCalls / (performance.now() - t0)) * 1000 } };
    }),

  'floats-typed': (d, s) =>
    checked(async () => {
      if (!d.sumF64) return notApplicable('no typed-array type crosses this bridge');
      const values = Float64Array.from({ length: s.floats }, (_, i) => i * 0.5);
      const expected = values.reduce((a, b) => a + b, 0);
      await d.sumF64(values); // warm-up: the first call imports numpy
      const t0 = performance.now();
      for (let i = 0; i < s.floatCalls; i++) {
        const got = await d.sumF64(values);
        if (!close(got, expected)) return fail(`sum was ${got}, expected ${expected}`);
      }
      return { ok: true, metrics: { callsPerSec: (s.floatCalls / (performance.now() - t0)) * 1000 } };
    }),

  concurrent: (d, s) =>
    checked(async () => {
      let wrong = 0;
      const check = async (i: number): Promise<void> => {
        if ((await d.add(i, 2)) !== i + 2) wrong++;
      };
      // Warm-up with the same pattern (a quarter of the run): the JIT has so far seen only one call at a time,
      // and a system with more host code takes longer to warm, which is not what this row is about.
      await concurrent(Math.ceil(s.concurrent / 4), s.inFlight, check);
      const callsPerSec = await concurrent(s.concurrent, s.inFlight, check);
      return wrong ? fail(`${wrong} wrong answers`) : { ok: true, metrics: { callsPerSec } };
    }),

  'cpu-parallel': (d, s) =>
    checked(async () => {
      const t0 = performance.now();
      const out = await Promise.all(Array.from({ length: s.parallelCalls }, () => d.cpu(s.cpuMs)));
      const wallMs = performance.now() - t0;
      if (out.some((n) => !(Number(n) > 0))) return fail('a CPU call returned no iteration count');
      return { ok: true, metrics: { wallMs, serialMs: s.parallelCalls * s.cpuMs } };
    }),

  'sleep-parallel': (d, s) =>
    checked(async () => {
      const t0 = performance.now();
      const out = await Promise.all(Array.from({ length: s.parallelCalls }, () => d.sleep(s.sleepMs)));
      const wallMs = performance.now() - t0;
      if (out.some((v) => Number(v) !== s.sleepMs)) return fail('a sleep call returned the wrong value');
      return { ok: true, metrics: { wallMs, serialMs: s.parallelCalls * s.sleepMs } };
    }),

  stream: (d, s) =>
    checked(async () => {
      if (!d.stream) return notApplicable('no streaming: a generator does not cross this bridge');
      const t0 = performance.now();
      const n = await d.stream(s.chunks);
      const ms = performance.now() - t0;
      if (n !== s.chunks) return fail(`received ${n} of ${s.chunks} chunks`);
      return { ok: true, metrics: { chunksPerSec: (n / ms) * 1000 } };
    }),

  bytes: (d, s) =>
    checked(async () => {
      if (!d.echoBytes) return notApplicable('no bytes type crosses this bridge');
      const data = Buffer.alloc(s.bytesSize);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
      const samples: number[] = [];
      for (let i = 0; i < s.bytesIterations + 1; i++) {
        const t0 = performance.now();
        const back = await d.echoBytes(data);
        const ms = performance.now() - t0;
        if (!Buffer.from(back instanceof ArrayBuffer ? new Uint8Array(back) : back).equals(data))
          return fail('bytes came back different');
        if (i > 0) samples.push(ms); // the first is warm-up
      }
      samples.sort((a, b) => a - b);
      return { ok: true, metrics: { p50Ms: samples[Math.floor(samples.length / 2)]! } };
    }),

  // 100 MB Float64Array → numpy `x * 2` → back, with the default options (the frame limit included).
  'big-array': (d, s) =>
    checked(async () => {
      if (!d.doubleF64) return notApplicable('no typed array reaches numpy through this bridge');
      const x = Float64Array.from({ length: s.bigFloats }, (_, i) => i * 0.25);
      const samples: number[] = [];
      for (let i = 0; i < s.bigIterations + 1; i++) {
        const t0 = performance.now();
        const y = await d.doubleF64(x);
        const ms = performance.now() - t0;
        for (const at of [0, 1, s.bigFloats >> 1, s.bigFloats - 1]) {
          if (y[at] !== x[at]! * 2) return fail(`item ${at} came back as ${y[at]}, expected ${x[at]! * 2}`);
        }
        if (i > 0) samples.push(ms); // the first is warm-up (segments, numpy import)
      }
      samples.sort((a, b) => a - b);
      return { ok: true, metrics: { p50Ms: samples[Math.floor(samples.length / 2)]! } };
    }),

  // A 1,000,000-row apache-arrow Table (float, int, text) → a pandas DataFrame in Python → back as a Table.
  table: (d, s) =>
    checked(async () => {
      if (!d.tableRoundTrip) return notApplicable('no table reaches pandas through this bridge');
      const { tableFromArrays } = await import('apache-arrow');
      const n = s.tableRows;
      const table = tableFromArrays({
        x: Float64Array.from({ length: n }, (_, i) => i / 4),
        i: Int32Array.from({ length: n }, (_, i) => i),
        s: Array.from({ length: n }, (_, i) => `row ${i % 1000}`),
      });
      const samples: number[] = [];
      for (let round = 0; round < 4; round++) {
        const t0 = performance.now();
        const back = await d.tableRoundTrip(table);
        const ms = performance.now() - t0;
        if (back.numRows !== n || back.getChild('x')?.get(n - 1) !== (n - 1) / 4)
          return fail(`the table came back with ${back.numRows} rows`);
        if (round > 0) samples.push(ms); // the first imports pandas and pyarrow
      }
      samples.sort((a, b) => a - b);
      return { ok: true, metrics: { p50Ms: samples[Math.floor(samples.length / 2)]! } };
    }),
};

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
