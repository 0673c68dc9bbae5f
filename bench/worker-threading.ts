/**
 * `npm run bench:threading`: what the worker's shared read role buys, through the whole stack, side by side.
 *
 * Systems, in interleaved rounds (machine noise on this VM comes in regimes of a few seconds, so rounds are
 * short and many, and the table shows medians with the min–max):
 *   - bare: the bare framed loop (bench/bare), one thread per worker — the transport's ceiling;
 *   - snakepit: the worker as it runs by default (the main thread reads; a watchdog reads during long calls);
 *   - with `--before <python>`: snakepit with that interpreter (e.g. a wrapper running another checkout's
 *     bridge), for before/after comparisons.
 * Workloads (2 workers, msgpack unless --codecs): `add` sequential — p50/p99 —, `add` with 64 in flight —
 * calls/s —, a stream of small dicts — chunks/s —, and the latency of an `add` issued while the other worker
 * runs a 20 ms `sleep` every time (the watchdog's hand-overs must not slow the quick calls).
 *
 * Flags: --rounds N (5), --seq N (5000), --conc N (20000), --stream N (100000), --codecs msgpack,json,
 *        --before <python executable>
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { resolvePython } from '../src/python-env/interpreter.js';
import { BareLoop } from './bare/bare-client.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seq: { type: 'string', default: '5000' },
    conc: { type: 'string', default: '20000' },
    stream: { type: 'string', default: '100000' },
    codecs: { type: 'string', default: 'msgpack' },
    before: { type: 'string' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const STREAM = Number(flags.stream);
const IN_FLIGHT = 64;
const WORKERS = 2;
const codecs = flags.codecs.split(',') as Array<'msgpack' | 'json'>;

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
  chunksPerSec: number;
  besideLongP50Us: number;
}

interface System {
  name: string;
  round: (codec: 'msgpack' | 'json') => Promise<Sample>;
}

type Call = (i: number) => Promise<unknown>;

async function measure(
  call: Call,
  stream: (n: number) => Promise<number>,
  besideLong: () => Promise<number>,
): Promise<Sample> {
  for (let i = 0; i < 1000; i++) await call(i); // warm-up
  await concurrent(2000, IN_FLIGHT, call);
  const seq = await sequential(SEQ, call);
  const callsPerSec = await concurrent(CONC, IN_FLIGHT, call);
  const t0 = performance.now();
  const received = await stream(STREAM);
  const chunksPerSec = (received / (performance.now() - t0)) * 1000;
  if (received !== STREAM) throw new Error(`stream delivered ${received} of ${STREAM} chunks`);
  return {
    p50Us: seq.p50Us,
    p99Us: seq.p99Us,
    callsPerSec,
    chunksPerSec,
    besideLongP50Us: await besideLong(),
  };
}

function bare(python: string): System {
  return {
    name: 'bare framed loop',
    round: async (codec) => {
      const loop = await BareLoop.start(python, codec, WORKERS);
      try {
        return await measure(
          (i) => loop.call('add', { a: i, b: 1 }),
          async (n) => {
            let count = 0;
            await loop.call('stream', { n }, () => count++);
            return count;
          },
          async () => NaN, // not measured: the bare loop runs one call at a time per worker, by design
        );
      } finally {
        loop.close();
      }
    },
  };
}

function snakepit(name: string, config: SnakepitConfig): System {
  return {
    name,
    round: async (codec) => {
      const pit = await Snakepit.start({
        adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
        size: WORKERS,
        codec,
        logger: false,
        ...config,
      });
      try {
        return await measure(
          (i) => pit.execute('add', { a: i, b: 1 }),
          async (n) => {
            let received = 0;
            for await (const _chunk of pit.executeStream('count', { n })) received++;
            return received;
          },
          () => besideLong(pit),
        );
      } finally {
        await pit.close();
      }
    },
  };
}

/** p50 of sequential `add` calls while 20 ms sleeps keep one worker busy the whole time. */
async function besideLong(pit: Snakepit): Promise<number> {
  let running = true;
  const sleeper = (async () => {
    while (running) await pit.execute('sleep', { seconds: 0.02 });
  })();
  await new Promise((r) => setTimeout(r, 50));
  const { p50Us } = await sequential(1000, (i) => pit.execute('add', { a: i, b: 1 }));
  running = false;
  await sleeper;
  return p50Us;
}

function summary(samples: Sample[], key: keyof Sample): string {
  const v = samples.map((s) => s[key]).filter((x) => !Number.isNaN(x));
  if (v.length === 0) return '—';
  const digits = key.endsWith('Us') ? 1 : 0;
  const m = median(v).toFixed(digits);
  return v.length > 1 ? `${m} (${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)})` : m;
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${python.executable}`;
  console.log(`worker threading bench — ${machine}`);
  console.log(
    `${ROUNDS} interleaved rounds; ${SEQ} sequential calls, ${CONC} calls with ${IN_FLIGHT} in flight, ` +
      `a stream of ${STREAM} small dicts; ${WORKERS} workers\n`,
  );
  const systems: System[] = [bare(python.executable), snakepit('snakepit', {})];
  if (flags.before) systems.push(snakepit('before', { python: { executable: flags.before } }));
  for (const codec of codecs) {
    const results = new Map<string, Sample[]>(systems.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const system of systems) results.get(system.name)!.push(await system.round(codec));
      process.stdout.write(`${codec} round ${round}/${ROUNDS} done (load ${loadavg()[0]!.toFixed(2)})\n`);
    }
    const rows = systems.map((s) => {
      const samples = results.get(s.name)!;
      return [
        s.name,
        codec,
        summary(samples, 'p50Us'),
        summary(samples, 'p99Us'),
        summary(samples, 'callsPerSec'),
        summary(samples, 'chunksPerSec'),
        summary(samples, 'besideLongP50Us'),
      ];
    });
    console.log('');
    console.log(
      table(
        [
          'system',
          'codec',
          'seq p50 µs',
          'seq p99 µs',
          `calls/s, ${IN_FLIGHT} in flight`,
          'stream chunks/s',
          'p50 µs beside 20 ms calls',
        ],
        rows,
      ),
    );
    const med = (name: string, key: keyof Sample): number => median(results.get(name)!.map((s) => s[key]));
    const bareName = systems[0]!.name;
    console.log(
      `\n${codec}: snakepit seq p50 = ${(med('snakepit', 'p50Us') / med(bareName, 'p50Us')).toFixed(2)}× bare, ` +
        `64-in-flight = ${(med('snakepit', 'callsPerSec') / med(bareName, 'callsPerSec')).toFixed(2)}× bare\n`,
    );
  }
}

await main();
