/**
 * `npm run bench:profiles`: which worker profile for which workload, measured on this machine. The decision matrix
 * of docs/PROFILES.md comes from here.
 *
 * Layouts (each a Snakepit of its own; rounds interleaved, medians with min–max):
 *   - process ×2: two workers, one sync call at a time each (the default profile, one worker per core here);
 *   - thread 1×1, 1×2, 1×8: one worker with a pool of 1, 2 or 8 threads;
 *   - thread 2×4: two workers of 4 threads.
 * Workloads (bench/python/bench_profiles.py), each with 16 calls in flight, in calls per second:
 *   - cpu: 5 ms of pure Python (holds the GIL);
 *   - numpy: 4 products of 256×256 matrices (BLAS outside the GIL; one BLAS thread per worker, nativeThreads 1);
 *   - blocking I/O: `time.sleep(20 ms)`;
 *   - async I/O: `await asyncio.sleep(20 ms)`;
 *   - noop: an empty sync tool (the per-call cost of each layout).
 *
 * Flags: --rounds N (5), --calls N (calls per workload and round; 400)
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { concurrent, median, table } from './lib/measure.js';

const ROOT = dirname(fileURLToPath(import.meta.url))
  .replace(/\/dist\/bench$/, '')
  .replace(/\/bench$/, '');
const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '400' } },
});
const ROUNDS = Number(flags.rounds);
const CALLS = Number(flags.calls);
const IN_FLIGHT = 16;

interface Layout {
  name: string;
  config: Partial<SnakepitConfig>;
}

const LAYOUTS: Layout[] = [
  { name: 'process ×2', config: { size: 2 } },
  { name: 'thread 1×1', config: { size: 1, profile: 'thread', threadsPerWorker: 1 } },
  { name: 'thread 1×2', config: { size: 1, profile: 'thread', threadsPerWorker: 2 } },
  { name: 'thread 1×8', config: { size: 1, profile: 'thread', threadsPerWorker: 8 } },
  { name: 'thread 2×4', config: { size: 2, profile: 'thread', threadsPerWorker: 4 } },
];

const WORKLOADS: Array<{ name: string; tool: string; args: Record<string, unknown>; calls: number }> = [
  { name: 'cpu (5 ms pure Python)', tool: 'cpu', args: { ms: 5 }, calls: CALLS },
  { name: 'numpy (4 × 256² matmul)', tool: 'matmul', args: { n: 256, reps: 4 }, calls: CALLS },
  { name: 'blocking I/O (20 ms)', tool: 'io', args: { ms: 20 }, calls: CALLS },
  { name: 'async I/O (20 ms)', tool: 'aio', args: { ms: 20 }, calls: CALLS },
  { name: 'noop', tool: 'noop', args: {}, calls: CALLS * 25 },
];

async function main(): Promise<void> {
  const pits = new Map<string, Snakepit>();
  for (const layout of LAYOUTS) {
    pits.set(
      layout.name,
      await Snakepit.start({
        adapter: 'bench_profiles:ProfilesAdapter',
        pythonPath: [join(ROOT, 'bench', 'python')],
        logger: false,
        nativeThreads: 1,
        ...layout.config,
      } as SnakepitConfig),
    );
  }
  const samples = new Map<string, number[]>(); // `${workload}|${layout}` -> calls/s per round
  try {
    for (const pit of pits.values()) {
      for (const w of WORKLOADS)
        await concurrent(IN_FLIGHT * 2, IN_FLIGHT, () => pit.execute(w.tool, w.args));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of WORKLOADS) {
        // each round visits the layouts in another order, so a slow spell of the machine hits them all alike
        const order = LAYOUTS.map((l, i) => LAYOUTS[(i + round) % LAYOUTS.length]!);
        for (const layout of order) {
          const pit = pits.get(layout.name)!;
          const rate = await concurrent(w.calls, IN_FLIGHT, () => pit.execute(w.tool, w.args));
          const key = `${w.name}|${layout.name}`;
          samples.set(key, [...(samples.get(key) ?? []), rate]);
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await Promise.allSettled([...pits.values()].map((p) => p.close()));
  }
  const cell = (values: number[]): string =>
    `${Math.round(median(values))} (${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))})`;
  const rows = WORKLOADS.map((w) => [
    w.name,
    ...LAYOUTS.map((l) => cell(samples.get(`${w.name}|${l.name}`)!)),
  ]);
  console.log(
    `# bench:profiles — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(2)}, ` +
      `${ROUNDS} rounds, ${IN_FLIGHT} calls in flight; calls/s, median (min–max)\n`,
  );
  console.log(table(['workload', ...LAYOUTS.map((l) => l.name)], rows));
  const ratio = (w: string, a: string, b: string): string =>
    (median(samples.get(`${w}|${a}`)!) / median(samples.get(`${w}|${b}`)!)).toFixed(2);
  console.log(
    `\nnumpy, thread 1×2 over thread 1×1: ${ratio(WORKLOADS[1]!.name, 'thread 1×2', 'thread 1×1')}×; ` +
      `cpu, thread 1×2 over thread 1×1: ${ratio(WORKLOADS[0]!.name, 'thread 1×2', 'thread 1×1')}×; ` +
      `blocking I/O, thread 1×8 over process ×2: ${ratio(WORKLOADS[2]!.name, 'thread 1×8', 'process ×2')}×`,
  );
}

await main();
