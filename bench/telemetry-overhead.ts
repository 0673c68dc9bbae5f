/**
 * `npm run bench:telemetry`: what telemetry costs a call, side by side in one run.
 *
 * 1. Host side, no workers: the nanoseconds one call spends in telemetry (the observer's created / started /
 *    settled on a call), for each mode: on with nobody listening, with `pit.on` listeners on call:start and
 *    call:stop, with a diagnostics_channel subscriber, with the OpenTelemetry API loaded but no SDK, and with an
 *    SDK recording every span (batched, as in production, to an exporter that drops them). "off" is zero by
 *    construction: no observer.
 * 2. End to end, 2 workers, trivial call (`add`): sequential p50/p99 and calls/s with 64 in flight, for
 *    `telemetry: false`, on with nobody listening, on with listeners, on with an SDK recording spans, and on
 *    with `pit.dashboard()` open and one viewer reading its event stream (sampling every 1 s, as by default).
 * 3. What one dashboard sample costs the host (every interval): read stats, workers (their memory from /proc)
 *    and sessions, build the update and its JSON, for a pool of 2 workers.
 *    Rounds are interleaved (off, on, listener, tracing, off, …) so machine noise hits all alike; the table shows
 *    medians with min–max over rounds.
 *
 * Flags: --rounds N (3), --seq N (5000), --conc N (20000), --micro N (200000 calls per micro round)
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { Call, type CallOwner, type CallRunner } from '../src/call/call.js';
import { resolvePython } from '../src/python-env/interpreter.js';
import { DashboardState } from '../src/dashboard/dashboard-state.js';
import { CallTelemetry } from '../src/telemetry/call-telemetry.js';
import { EventBus } from '../src/telemetry/event-bus.js';
import { loadCallTracer } from '../src/telemetry/tracing.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seq: { type: 'string', default: '5000' },
    conc: { type: 'string', default: '20000' },
    micro: { type: 'string', default: '200000' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const MICRO = Number(flags.micro);
const IN_FLIGHT = 64;
const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

/** An exporter that drops what it gets: the SDK's recording cost without an export's. */
const dropExporter: SpanExporter = {
  export: (_spans: ReadableSpan[], done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};
const sdk = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropExporter)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

function withSdk<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  if (on) trace.setGlobalTracerProvider(sdk);
  return fn().finally(() => {
    if (on) trace.disable();
  });
}

// ── 1. host side ───────────────────────────────────────────────────────────────────────────────────────────

type MicroMode =
  'no listener' | 'pit.on listeners' | 'channel subscriber' | 'OTel API, no SDK' | 'OTel SDK recording';
const MICRO_MODES: MicroMode[] = [
  'no listener',
  'pit.on listeners',
  'channel subscriber',
  'OTel API, no SDK',
  'OTel SDK recording',
];

async function microRound(mode: MicroMode): Promise<number> {
  const bus = new EventBus(() => {});
  const tracer = mode.startsWith('OTel') ? await loadCallTracer(true) : undefined;
  const t = new CallTelemetry('bench', bus, tracer, 'run');
  let seen = 0;
  const count = (): void => void seen++;
  if (mode === 'pit.on listeners') {
    bus.on('call:start', count);
    bus.on('call:stop', count);
  }
  const sub = (): void => void seen++;
  if (mode === 'channel subscriber') diagnosticsChannel.subscribe('snakepit:call:stop', sub);
  const owner: CallOwner = { abandon: () => {} };
  const runner: CallRunner = { id: 'w', cancel: () => {}, credit: () => {} };
  // One real call, driven through the observer again and again: the telemetry alone is timed.
  const call = new Call({
    id: 1,
    pool: 'bench',
    tool: 'add',
    args: {},
    sessionId: undefined,
    timeoutMs: 60_000,
    queueTimeoutMs: undefined,
    signal: undefined,
    stream: undefined,
    owner,
  });
  call.markRunning(runner);
  call.succeed(0);
  try {
    return await withSdk(mode === 'OTel SDK recording', async () => {
      for (let i = 0; i < 10_000; i++) {
        t.created(call);
        t.started(call);
        t.settled(call, undefined);
      }
      const t0 = performance.now();
      for (let i = 0; i < MICRO; i++) {
        t.created(call);
        t.started(call);
        t.settled(call, undefined);
      }
      return ((performance.now() - t0) * 1e6) / MICRO;
    });
  } finally {
    if (mode === 'channel subscriber') diagnosticsChannel.unsubscribe('snakepit:call:stop', sub);
    if (seen < 0) console.log(seen);
  }
}

// ── 2. end to end ──────────────────────────────────────────────────────────────────────────────────────────

type E2eMode =
  | 'telemetry off'
  | 'on, no listener'
  | 'on, listeners'
  | 'on, OTel SDK recording'
  | 'on, dashboard + 1 viewer';
const E2E_MODES: E2eMode[] = [
  'telemetry off',
  'on, no listener',
  'on, listeners',
  'on, OTel SDK recording',
  'on, dashboard + 1 viewer',
];

/** A viewer of a dashboard's event stream; resolves with a function that disconnects it. */
function viewer(port: number, received: { bytes: number }): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
      res.on('data', (d: Buffer) => (received.bytes += d.length));
      resolve(() => req.destroy());
    });
    req.on('error', reject);
  });
}

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
}

async function e2eRound(mode: E2eMode): Promise<Sample> {
  const config: SnakepitConfig = { adapter: ADAPTER, size: 2, logger: false };
  if (mode === 'telemetry off') config.telemetry = false;
  const pit = await Snakepit.start(config);
  let seen = 0;
  if (mode === 'on, listeners') {
    pit.on('call:start', () => void seen++);
    pit.on('call:stop', () => void seen++);
    pit.on('call:exception', () => void seen++);
  }
  const streamed = { bytes: 0 };
  let disconnect = (): void => {};
  if (mode === 'on, dashboard + 1 viewer') {
    const dash = await pit.dashboard({ port: 0 });
    disconnect = await viewer(dash.port, streamed);
  }
  try {
    const sample = await withSdk(mode === 'on, OTel SDK recording', async () => {
      const call = (i: number): Promise<unknown> => pit.execute('add', { a: i, b: 1 });
      for (let i = 0; i < 2000; i++) await call(i);
      await concurrent(2000, IN_FLIGHT, call);
      const seq = await sequential(SEQ, call);
      const callsPerSec = await concurrent(CONC, IN_FLIGHT, call);
      return { p50Us: seq.p50Us, p99Us: seq.p99Us, callsPerSec };
    });
    if (mode === 'on, listeners' && seen === 0) throw new Error('the listeners heard nothing');
    if (mode === 'on, dashboard + 1 viewer' && streamed.bytes === 0)
      throw new Error('the viewer got nothing');
    return sample;
  } finally {
    disconnect();
    await pit.close();
  }
}

// ── 3. a dashboard sample ──────────────────────────────────────────────────────────────────────────────────

async function sampleRound(): Promise<number> {
  const pit = await Snakepit.start({ adapter: ADAPTER, size: 2, logger: false });
  try {
    for (let i = 0; i < 200; i++) await pit.execute('add', { a: i, b: 1 });
    // The same reads as pit.dashboard()'s (the latency buckets aside: one copy of 321 numbers).
    const state = new DashboardState(
      {
        runId: pit.runId,
        stats: () => pit.stats(),
        workers: () => pit.workers(),
        sessions: pit.sessions,
        on: (event, listener) => {
          pit.on(event, listener);
          return () => pit.off(event, listener);
        },
        metrics: () => pit.metrics(),
        latencyCounts: () => false,
        logError: () => {},
      },
      { intervalMs: 3_600_000, historyMs: 3_600_000, maxErrors: 50, maxSessions: 50 },
    );
    try {
      let bytes = 0;
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) bytes += JSON.stringify(state.tick()).length;
      if (bytes === 0) throw new Error('no update');
      return (performance.now() - t0) / 1000;
    } finally {
      state.close();
    }
  } finally {
    await pit.close();
  }
}

function range(values: number[], digits: number): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  console.log(
    `snakepit telemetry overhead — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
      `${python.executable} (${python.source})`,
  );
  console.log(
    `${ROUNDS} interleaved rounds; host side: ${MICRO} calls per round; end to end: ${SEQ} sequential calls, ` +
      `${CONC} with ${IN_FLIGHT} in flight, 2 workers\n`,
  );
  const micro = new Map<MicroMode, number[]>(MICRO_MODES.map((m) => [m, []]));
  const e2e = new Map<E2eMode, Sample[]>(E2E_MODES.map((m) => [m, []]));
  const samples: number[] = [];
  const loads: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    loads.push(loadavg()[0]!);
    for (const m of MICRO_MODES) micro.get(m)!.push(await microRound(m));
    for (const m of E2E_MODES) e2e.get(m)!.push(await e2eRound(m));
    samples.push(await sampleRound());
    process.stdout.write(`round ${round}/${ROUNDS} done (load ${loadavg()[0]!.toFixed(2)})\n`);
  }

  console.log('\nHost side: telemetry per call (created + started + settled), ns');
  console.log(
    table(
      ['mode', 'ns per call'],
      MICRO_MODES.map((m) => [m, range(micro.get(m)!, 0)]),
    ),
  );

  const off = e2e.get('telemetry off')!;
  const base = { p50: median(off.map((s) => s.p50Us)), tput: median(off.map((s) => s.callsPerSec)) };
  console.log('\nEnd to end: `add` on 2 workers');
  console.log(
    table(
      ['mode', 'seq p50 µs', 'seq p99 µs', `calls/s, ${IN_FLIGHT} in flight`, 'p50 vs off', 'calls/s vs off'],
      E2E_MODES.map((m) => {
        const s = e2e.get(m)!;
        const p50 = median(s.map((x) => x.p50Us));
        const tput = median(s.map((x) => x.callsPerSec));
        return [
          m,
          range(
            s.map((x) => x.p50Us),
            1,
          ),
          range(
            s.map((x) => x.p99Us),
            1,
          ),
          range(
            s.map((x) => x.callsPerSec),
            0,
          ),
          `${(((p50 - base.p50) / base.p50) * 100).toFixed(1)} %`,
          `${(((tput - base.tput) / base.tput) * 100).toFixed(1)} %`,
        ];
      }),
    ),
  );
  console.log(
    `\nA dashboard sample (stats, workers, sessions, the update as JSON; 2 workers): ${range(samples, 3)} ms, ` +
      'once per interval (1 s by default)',
  );
  console.log(`\nload average during the rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
}

await main();
