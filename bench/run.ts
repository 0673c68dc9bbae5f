/**
 * `npm run bench`: snakepit against the bare framed loop (the transport's ceiling), side by side in one run.
 *
 * Workloads: trivial call (`add`) sequential — p50/p99 latency — and with 64 in flight — calls/s — on 2 workers,
 * for each codec; and a stream of small dicts (`count`: {"i": i}) consumed with `for await` — chunks/s.
 * Rounds are interleaved (bare, snakepit, bare, snakepit, …) so machine noise hits both alike; the table shows
 * medians with the min–max over rounds. Results go to bench/results/<timestamp>.json.
 *
 * Flags: --rounds N (3), --seq N (10000), --conc N (20000), --stream N (200000, chunks per stream),
 *        --codecs msgpack,json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Snakepit } from '../src/index.js';
import { resolvePython } from '../src/python/interpreter.js';
import { BareLoop } from './bare/bare-client.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seq: { type: 'string', default: '10000' },
    conc: { type: 'string', default: '20000' },
    stream: { type: 'string', default: '200000' },
    codecs: { type: 'string', default: 'msgpack,json' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const STREAM = Number(flags.stream);
const STREAM_TARGET = 200_000; // DESIGN.md §6, msgpack
const IN_FLIGHT = 64;
const WORKERS = 2;
const codecs = flags.codecs.split(',') as Array<'msgpack' | 'json'>;

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
  chunksPerSec: number;
}

type Call = (i: number) => Promise<unknown>;
/** Run one stream of `n` chunks to its end; resolve with the chunks received. */
type Stream = (n: number) => Promise<number>;

async function measure(call: Call, stream: Stream): Promise<Sample> {
  for (let i = 0; i < 2000; i++) await call(i); // warm-up: JIT, caches, pipelining statistics
  await concurrent(2000, IN_FLIGHT, call);
  const seq = await sequential(SEQ, call);
  const callsPerSec = await concurrent(CONC, IN_FLIGHT, call);
  await stream(Math.min(STREAM, 20_000)); // warm-up
  const t0 = performance.now();
  const received = await stream(STREAM);
  const chunksPerSec = (received / (performance.now() - t0)) * 1000;
  if (received !== STREAM) throw new Error(`stream delivered ${received} of ${STREAM} chunks`);
  return { p50Us: seq.p50Us, p99Us: seq.p99Us, callsPerSec, chunksPerSec };
}

async function bareRound(python: string, codec: 'msgpack' | 'json'): Promise<Sample> {
  const loop = await BareLoop.start(python, codec, WORKERS);
  try {
    return await measure(
      (i) => loop.call(i, 1),
      (n) => loop.stream(n),
    );
  } finally {
    loop.close();
  }
}

async function snakepitRound(codec: 'msgpack' | 'json'): Promise<Sample> {
  const pit = await Snakepit.start({
    adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
    size: WORKERS,
    codec,
    logger: false,
  });
  try {
    return await measure(
      (i) => pit.execute('add', { a: i, b: 1 }),
      async (n) => {
        let received = 0;
        for await (const _chunk of pit.executeStream('count', { n })) received++;
        return received;
      },
    );
  } finally {
    await pit.close();
  }
}

function summary(samples: Sample[], key: keyof Sample): { median: number; min: number; max: number } {
  const v = samples.map((s) => s[key]);
  return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${python.executable} (${python.source})`;
  console.log(`snakepit bench — ${machine}`);
  console.log(
    `${ROUNDS} interleaved rounds; ${SEQ} sequential calls, ${CONC} calls with ${IN_FLIGHT} in flight, ` +
      `a stream of ${STREAM} small dicts; ${WORKERS} workers\n`,
  );
  const results: Record<string, Sample[]> = {};
  const loads: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const codec of codecs) {
      loads.push(loadavg()[0]!);
      (results[`bare/${codec}`] ??= []).push(await bareRound(python.executable, codec));
      (results[`snakepit/${codec}`] ??= []).push(await snakepitRound(codec));
      process.stdout.write(`round ${round}/${ROUNDS} ${codec} done (load ${loadavg()[0]!.toFixed(2)})\n`);
    }
  }
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  const range = (s: { median: number; min: number; max: number }, digits = 0): string =>
    `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  for (const codec of codecs) {
    const bare = results[`bare/${codec}`]!;
    const pit = results[`snakepit/${codec}`]!;
    for (const [name, samples] of [
      ['bare framed loop', bare],
      ['snakepit', pit],
    ] as const) {
      rows.push([
        name,
        codec,
        range(summary(samples, 'p50Us'), 1),
        range(summary(samples, 'p99Us'), 1),
        range(summary(samples, 'callsPerSec')),
        range(summary(samples, 'chunksPerSec')),
      ]);
    }
    const p50Ratio = summary(pit, 'p50Us').median / summary(bare, 'p50Us').median;
    const tputRatio = summary(pit, 'callsPerSec').median / summary(bare, 'callsPerSec').median;
    const chunks = summary(pit, 'chunksPerSec').median;
    const chunkRatio = chunks / summary(bare, 'chunksPerSec').median;
    verdicts.push(
      `${codec}: sequential p50 = ${p50Ratio.toFixed(2)}× bare (target ≤ 1.5×: ${p50Ratio <= 1.5 ? 'met' : 'NOT met'}); ` +
        `64-in-flight throughput = ${tputRatio.toFixed(2)}× bare (target ≥ 0.7×: ${tputRatio >= 0.7 ? 'met' : 'NOT met'}); ` +
        `stream = ${Math.round(chunks).toLocaleString('en-US')} chunks/s, ${chunkRatio.toFixed(2)}× bare` +
        (codec === 'msgpack'
          ? ` (target ≥ ${STREAM_TARGET.toLocaleString('en-US')}: ${chunks >= STREAM_TARGET ? 'met' : 'NOT met'})`
          : ''),
    );
  }
  console.log('');
  console.log(
    table(
      ['system', 'codec', 'seq p50 µs', 'seq p99 µs', `calls/s, ${IN_FLIGHT} in flight`, 'stream chunks/s'],
      rows,
    ),
  );
  console.log('');
  for (const v of verdicts) console.log(v);
  const outDir = join(dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/bench$/, '/bench'), 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { machine, rounds: ROUNDS, seq: SEQ, conc: CONC, stream: STREAM, loads, results },
      null,
      2,
    ),
  );
  console.log(`\nraw results: ${file}`);
}

await main();
