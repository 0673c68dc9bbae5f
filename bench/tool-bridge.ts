/**
 * `npm run bench:tools`: what a host tool costs, next to a plain call, in one run.
 *
 *   plain            pit.execute('add')                                   host → Python → host
 *   Python → TS      pit.execute('call_host', {tool: 'echoHost'})         … Python → host tool → Python …
 *   Python → TS → Py pit.execute('call_host', {tool: 'viaPython'})        … the host tool runs pit.execute('add')
 *
 * Each workload: sequential p50/p99 latency, and calls/s with 16 in flight, on 2 workers. Rounds are interleaved
 * (plain, bridge, nested, plain, …) so machine noise hits all alike; the table shows medians over rounds. The
 * nested workload with 16 in flight keeps both workers busy with outer calls, so every inner call takes the
 * nested path (it runs on the worker its caller holds, inside the caller's wait).
 *
 * Flags: --rounds N (3), --seq N (3000), --conc N (6000), --codecs msgpack,json
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Snakepit } from '../src/index.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seq: { type: 'string', default: '3000' },
    conc: { type: 'string', default: '6000' },
    codecs: { type: 'string', default: 'msgpack,json' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const IN_FLIGHT = 16;
const codecs = flags.codecs.split(',') as Array<'msgpack' | 'json'>;

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
}
type Workload = 'plain' | 'Python → TS' | 'Python → TS → Python';
const WORKLOADS: Workload[] = ['plain', 'Python → TS', 'Python → TS → Python'];

async function measure(call: (i: number) => Promise<unknown>): Promise<Sample> {
  for (let i = 0; i < 500; i++) await call(i); // warm-up
  await concurrent(500, IN_FLIGHT, call);
  const seq = await sequential(SEQ, call);
  return { p50Us: seq.p50Us, p99Us: seq.p99Us, callsPerSec: await concurrent(CONC, IN_FLIGHT, call) };
}

async function runCodec(codec: 'msgpack' | 'json'): Promise<Map<Workload, Sample[]>> {
  const pit = await Snakepit.start({
    adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
    size: 2,
    codec,
    logger: false,
  });
  try {
    pit.tools.register('echoHost', ({ x }) => x, {
      parameters: { type: 'object', properties: { x: { type: 'integer' } }, required: ['x'] },
    });
    pit.tools.register('viaPython', ({ x }) => pit.execute('add', { a: x, b: 1 }));
    const calls: Record<Workload, (i: number) => Promise<unknown>> = {
      plain: (i) => pit.execute('add', { a: i, b: 1 }),
      'Python → TS': (i) => pit.execute('call_host', { tool: 'echoHost', args: { x: i } }),
      'Python → TS → Python': (i) => pit.execute('call_host', { tool: 'viaPython', args: { x: i } }),
    };
    // Correctness first: a bench that measures failures measures nothing.
    if ((await calls['Python → TS → Python'](41)) !== 42)
      throw new Error('nested call returned a wrong value');
    const samples = new Map<Workload, Sample[]>(WORKLOADS.map((w) => [w, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of WORKLOADS) samples.get(w)!.push(await measure(calls[w]));
    }
    return samples;
  } finally {
    await pit.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `snakepit tool-bridge bench — ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds; ${SEQ} sequential calls, ${CONC} calls with ${IN_FLIGHT} in flight; 2 workers\n`,
  );
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  for (const codec of codecs) {
    const samples = await runCodec(codec);
    const med = (w: Workload, k: keyof Sample): number => median(samples.get(w)!.map((s) => s[k]));
    for (const w of WORKLOADS) {
      rows.push([
        codec,
        w,
        Math.round(med(w, 'p50Us')),
        Math.round(med(w, 'p99Us')),
        Math.round(med(w, 'callsPerSec')),
      ]);
    }
    const plain = med('plain', 'p50Us');
    notes.push(
      `${codec}: a host-tool round trip adds ${Math.round(med('Python → TS', 'p50Us') - plain)} µs at p50; ` +
        `a nested Python call through a host tool adds ${Math.round(med('Python → TS → Python', 'p50Us') - plain)} µs`,
    );
  }
  console.log(table(['codec', 'workload', 'p50 µs', 'p99 µs', `calls/s (${IN_FLIGHT} in flight)`], rows));
  console.log('');
  for (const n of notes) console.log(n);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
