/**
 * `npm run bench:generic`: the per-call overhead of the generic adapter, side by side in one run.
 *
 *   direct Python call       math.sqrt(16.0) inside Python (timeit)                  — the floor
 *   adapter, in process      resolve + argument check + call + result, no channel    — the generic adapter's share
 *   @tool through the pool   a hand-written `sqrt` tool (BaseAdapter), execute()     — the bridge without it
 *   generic through the pool execute('python.math.sqrt', { _args: [16] })           — what users get
 *
 * Through-the-pool rows: sequential p50/p99 (µs) and calls/s with 64 in flight, on 2 workers, rounds interleaved
 * (@tool, generic, @tool, generic, …) so machine noise hits both alike; medians with min–max over rounds.
 * Targets: the seed's "under 5 ms vs a direct Python call"; ours, under 0.1 ms at p50.
 *
 * Flags: --rounds N (3), --seq N (5000), --conc N (20000), --codec msgpack|json (msgpack)
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Snakepit } from '../src/index.js';
import { bridgeDirectory } from '../src/python-env/bridge-path.js';
import { resolvePython } from '../src/python-env/interpreter.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seq: { type: 'string', default: '5000' },
    conc: { type: 'string', default: '20000' },
    codec: { type: 'string', default: 'msgpack' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const CODEC = flags.codec as 'msgpack' | 'json';
const IN_FLIGHT = 64;
const WORKERS = 2;
/** bench/python, from the source tree or from dist/bench. */
const BENCH_PYTHON = join(
  dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/bench$/, '/bench'),
  'python',
);

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
}

type Call = (i: number) => Promise<unknown>;

async function measure(call: Call): Promise<Sample> {
  for (let i = 0; i < 2000; i++) await call(i); // warm-up: JIT, caches, pipelining statistics
  await concurrent(2000, IN_FLIGHT, call);
  const seq = await sequential(SEQ, call);
  const callsPerSec = await concurrent(CONC, IN_FLIGHT, call);
  return { p50Us: seq.p50Us, p99Us: seq.p99Us, callsPerSec };
}

async function poolRound(kind: 'tool' | 'generic'): Promise<Sample> {
  const common = { size: WORKERS, codec: CODEC, logger: false as const, pythonPath: [BENCH_PYTHON] };
  const pit = await Snakepit.start(
    kind === 'tool'
      ? { ...common, adapter: 'bench_adapters:SqrtAdapter' }
      : { ...common, libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }] },
  );
  try {
    return await measure(
      kind === 'tool'
        ? () => pit.execute('sqrt', { x: 16 })
        : () => pit.execute('python.math.sqrt', { _args: [16] }),
    );
  } finally {
    await pit.close();
  }
}

function inProcess(python: string): { direct: number; adapter: number } {
  const out = execFileSync(python, [join(BENCH_PYTHON, 'generic_direct.py')], {
    env: { ...process.env, PYTHONPATH: [bridgeDirectory(), BENCH_PYTHON].join(':') },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { direct: number; adapter: number };
}

function stat(values: number[], digits: number): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  console.log(
    `snakepit generic-adapter bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
      `${python.executable}; codec ${CODEC}, ${WORKERS} workers`,
  );
  console.log(
    `${ROUNDS} interleaved rounds; ${SEQ} sequential calls, ${CONC} calls with ${IN_FLIGHT} in flight\n`,
  );
  const direct: number[] = [];
  const adapter: number[] = [];
  const pools: Record<'tool' | 'generic', Sample[]> = { tool: [], generic: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const ns = inProcess(python.executable);
    direct.push(ns.direct / 1000);
    adapter.push(ns.adapter / 1000);
    pools.tool.push(await poolRound('tool'));
    pools.generic.push(await poolRound('generic'));
    process.stdout.write(`round ${round}/${ROUNDS} done\n`);
  }
  const col = (samples: Sample[], key: keyof Sample, digits: number): string =>
    stat(
      samples.map((s) => s[key]),
      digits,
    );
  const rows = [
    ['direct Python call: math.sqrt(16.0)', stat(direct, 3), '', ''],
    ['generic adapter in process (no channel)', stat(adapter, 3), '', ''],
    [
      '@tool sqrt through the pool',
      col(pools.tool, 'p50Us', 1),
      col(pools.tool, 'p99Us', 1),
      col(pools.tool, 'callsPerSec', 0),
    ],
    [
      'python.math.sqrt through the pool',
      col(pools.generic, 'p50Us', 1),
      col(pools.generic, 'p99Us', 1),
      col(pools.generic, 'callsPerSec', 0),
    ],
  ];
  console.log('');
  console.log(table(['call', 'p50 µs', 'p99 µs', `calls/s, ${IN_FLIGHT} in flight`], rows));
  const genericP50 = median(pools.generic.map((s) => s.p50Us));
  const toolP50 = median(pools.tool.map((s) => s.p50Us));
  const overhead = genericP50 - median(direct);
  console.log('');
  console.log(
    `overhead of python.math.sqrt through the pool vs a direct Python call, p50: ${overhead.toFixed(1)} µs ` +
      `(target < 100 µs: ${overhead < 100 ? 'met' : 'NOT met'}; the seed's < 5 ms: ${overhead < 5000 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `generic adapter vs a hand-written @tool through the same pool, p50: ${(genericP50 - toolP50).toFixed(1)} µs ` +
      `(in process the adapter's share is ${(median(adapter) - median(direct)).toFixed(2)} µs per call)`,
  );
}

await main();
