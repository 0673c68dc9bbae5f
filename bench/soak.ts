/**
 * `npm run bench:soak`: memory drift over a long run. 1,000,000 calls through a 2-worker pool with 64 in flight
 * (heartbeats on, as by default), sampling the resident memory of the host (after a forced GC when run with
 * --expose-gc, as the npm script does) and of each worker. Drift compares the median of the samples just after
 * warm-up with the median of the last samples: it is what a leak of a few bytes per call would move.
 * Target (docs/PERFORMANCE.md, "Targets"): ≤ 5 % for the host and for each worker. Only growth counts against it: memory given back
 * after warm-up (V8 shrinking its young generation, say) is a negative drift, shown but not a leak.
 *
 * Flags: --calls N (1000000), --warmup N (100000), --samples N (20), --codecs msgpack,json (msgpack)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Snakepit } from '../src/index.js';
import { resolvePython } from '../src/python-env/interpreter.js';
import { readRssBytes } from '../src/util/proc.js';
import { median, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    warmup: { type: 'string', default: '100000' },
    samples: { type: 'string', default: '20' },
    codecs: { type: 'string', default: 'msgpack' },
  },
});
const CALLS = Number(flags.calls);
const WARMUP = Number(flags.warmup);
const SAMPLES = Number(flags.samples);
const IN_FLIGHT = 64;
const WORKERS = 2;
const TARGET_PCT = 5;
const WINDOW = 3; // samples per median (start and end)
const MIB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

interface Sample {
  calls: number;
  seconds: number;
  callsPerSec: number;
  hostRssMb: number;
  hostHeapMb: number;
  workerRssMb: number[];
}

function sample(pit: Snakepit, calls: number, t0: number, since: { calls: number; t: number }): Sample {
  gc?.();
  const now = performance.now();
  const s: Sample = {
    calls,
    seconds: (now - t0) / 1000,
    callsPerSec: ((calls - since.calls) / (now - since.t)) * 1000,
    hostRssMb: process.memoryUsage.rss() / MIB,
    hostHeapMb: process.memoryUsage().heapUsed / MIB,
    workerRssMb: pit.workers().map((w) => (w.pid ? (readRssBytes(w.pid) ?? NaN) / MIB : NaN)),
  };
  since.calls = calls;
  since.t = now;
  return s;
}

function drift(values: number[]): { startMb: number; endMb: number; pct: number } {
  const startMb = median(values.slice(0, WINDOW));
  const endMb = median(values.slice(-WINDOW));
  return { startMb, endMb, pct: ((endMb - startMb) / startMb) * 100 };
}

async function soak(
  codec: 'msgpack' | 'json',
): Promise<{ samples: Sample[]; pids: Array<number | undefined> }> {
  const pit = await Snakepit.start({
    adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
    size: WORKERS,
    codec,
    logger: false,
  });
  try {
    const pids = pit.workers().map((w) => w.pid);
    const every = Math.max(1, Math.floor((CALLS - WARMUP) / SAMPLES));
    const samples: Sample[] = [];
    let issued = 0;
    let done = 0;
    let nextSample = WARMUP;
    let failed: unknown;
    const t0 = performance.now();
    const since = { calls: 0, t: t0 };
    const lane = async (): Promise<void> => {
      while (issued < CALLS && failed === undefined) {
        const i = issued++;
        const value = await pit.execute('add', { a: i, b: 1 });
        if (value !== i + 1) failed = new Error(`add(${i}, 1) returned ${String(value)}`);
        done++;
        if (done >= nextSample) {
          nextSample += every;
          samples.push(sample(pit, done, t0, since));
          const last = samples.at(-1)!;
          process.stdout.write(
            `  ${codec} ${done.toLocaleString('en-US')} calls, ${Math.round(last.callsPerSec).toLocaleString('en-US')}/s, ` +
              `host ${last.hostRssMb.toFixed(1)} MiB, workers ${last.workerRssMb.map((m) => m.toFixed(1)).join(' / ')} MiB\n`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    if (failed) throw failed;
    const stats = pit.stats('default');
    if (stats.restarts !== 0 || stats.errors !== 0) {
      throw new Error(`the soak saw ${stats.restarts} restarts and ${stats.errors} errors`);
    }
    if (pit.workers().some((w, i) => w.pid !== pids[i]))
      throw new Error('a worker was replaced during the soak');
    return { samples, pids };
  } finally {
    await pit.close();
  }
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${python.executable} (${python.source})`;
  console.log(`snakepit soak — ${machine}`);
  console.log(
    `${CALLS.toLocaleString('en-US')} calls per codec, ${IN_FLIGHT} in flight, ${WORKERS} workers; ` +
      `${SAMPLES} samples after ${WARMUP.toLocaleString('en-US')} warm-up calls` +
      (gc ? '; host sampled after a forced GC' : '; run with --expose-gc for steadier host figures') +
      '\n',
  );
  const codecs = flags.codecs.split(',') as Array<'msgpack' | 'json'>;
  const results: Record<string, Sample[]> = {};
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  for (const codec of codecs) {
    const { samples } = await soak(codec);
    results[codec] = samples;
    const series: Array<[string, number[]]> = [
      ['host RSS', samples.map((s) => s.hostRssMb)],
      ['host heap used', samples.map((s) => s.hostHeapMb)],
      ...samples[0]!.workerRssMb.map(
        (_, i) => [`worker ${i + 1} RSS`, samples.map((s) => s.workerRssMb[i]!)] as [string, number[]],
      ),
    ];
    for (const [name, values] of series) {
      const d = drift(values);
      const judged = name !== 'host heap used'; // the heap breathes with GC; RSS is the target
      rows.push([
        codec,
        name,
        d.startMb.toFixed(1),
        d.endMb.toFixed(1),
        `${d.pct >= 0 ? '+' : ''}${d.pct.toFixed(2)} %`,
        judged ? (d.pct <= TARGET_PCT ? 'met' : 'NOT met') : '(info)',
      ]);
      if (judged && d.pct > TARGET_PCT) verdicts.push(`${codec} ${name} drifted ${d.pct.toFixed(2)} %`);
    }
    const rate = median(samples.map((s) => s.callsPerSec));
    rows.push([codec, 'calls/s (median of samples)', '', Math.round(rate).toLocaleString('en-US'), '', '']);
  }
  console.log('');
  console.log(
    table(['codec', 'measure', 'after warm-up, MiB', 'at the end, MiB', 'drift', `≤ ${TARGET_PCT} %`], rows),
  );
  console.log('');
  console.log(
    verdicts.length
      ? `target NOT met: ${verdicts.join('; ')}`
      : `target met: no RSS grew by more than ${TARGET_PCT} %`,
  );
  const outDir = join(dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/bench$/, '/bench'), 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, calls: CALLS, warmup: WARMUP, results }, null, 2));
  console.log(`\nraw results: ${file}`);
}

await main();
