/**
 * `npm run bench:grpc`: the same workloads over each transport, side by side in one run.
 *
 *   local     spawned workers, frames on a socket pair (the default)
 *   grpc      remote workers: `serve --grpc` on loopback, the same frames over one WorkerChannel stream each
 *   snakepit  Snakepit-style workers: one unary RPC per call (ExecuteTool), for interop — shown for scale
 *   ray       Ray actors (`backend: { kind: 'ray' }`): the frames through the pool's Ray driver and one actor
 *             call per batch each way; opt in with --transports …,ray (needs `ray`; a local Ray is started by
 *             the driver for each round unless --ray-address names a running cluster)
 *
 * Workloads (2 workers each): a trivial call (`add`) sequential — p50/p99 — and with 64 in flight — calls/s; a
 * stream of small dicts (`count`) — chunks/s; a 1 MiB bytes argument echoed back — round trip, median ms.
 * Rounds are interleaved so machine noise hits every transport alike; the table shows medians (min–max).
 *
 * Flags: --rounds N (3), --seq N (5000), --conc N (20000), --stream N (100000), --bytes N (50 round trips),
 *        --transports local,grpc,snakepit[,ray], --ray-address host:port
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { bridgeDirectory } from '../src/python-env/bridge-path.js';
import { resolvePython } from '../src/python-env/interpreter.js';
import { concurrent, median, sequential, table } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seq: { type: 'string', default: '5000' },
    conc: { type: 'string', default: '20000' },
    stream: { type: 'string', default: '100000' },
    bytes: { type: 'string', default: '50' },
    transports: { type: 'string', default: 'local,grpc,snakepit' },
    'ray-address': { type: 'string' },
  },
});
const ROUNDS = Number(flags.rounds);
const SEQ = Number(flags.seq);
const CONC = Number(flags.conc);
const STREAM = Number(flags.stream);
const BYTES_ROUNDS = Number(flags.bytes);
const IN_FLIGHT = 64;
const WORKERS = 2;
const GRPC_TARGET = 20_000; // docs/PERFORMANCE.md "Targets": remote path over loopback, 64 in flight
const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
type Transport = 'local' | 'grpc' | 'snakepit' | 'ray';
const transports = flags.transports.split(',') as Transport[];

interface Sample {
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
  chunksPerSec: number;
  mibRoundTripMs: number;
}

/** A `serve --grpc` server on loopback for the whole run. */
async function startServer(python: string): Promise<{ address: string; proc: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-bench-'));
  const ready = join(dir, 'ready');
  const proc = spawn(
    python,
    ['-m', 'snakepit_bridge', 'serve', '--grpc', '127.0.0.1:0', '--adapter', ADAPTER, '--ready-file', ready],
    { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, PYTHONPATH: bridgeDirectory() } },
  );
  const deadline = Date.now() + 20_000;
  while (!existsSync(ready)) {
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error('the gRPC worker server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { address: `127.0.0.1:${readFileSync(ready, 'utf8').trim()}`, proc, dir };
}

function config(transport: Transport, address: string | undefined): SnakepitConfig {
  const base = { adapter: ADAPTER, logger: false as const };
  if (transport === 'grpc') {
    return { ...base, transport, endpoints: [address!], grpc: { workersPerEndpoint: WORKERS } };
  }
  if (transport === 'ray') {
    const address = flags['ray-address'];
    return {
      ...base,
      size: WORKERS,
      startupTimeoutMs: 120_000,
      backend: {
        kind: 'ray',
        address: address ?? 'local',
        // A local Ray of this round's own: a small object store, no dashboard.
        init: address
          ? {}
          : { num_cpus: 4, object_store_memory: 100 * 1024 * 1024, include_dashboard: false },
      },
    };
  }
  return { ...base, transport, size: WORKERS };
}

async function round(transport: Transport, address: string | undefined): Promise<Sample> {
  const pit = await Snakepit.start(config(transport, address));
  try {
    const call = (i: number): Promise<unknown> => pit.execute('add', { a: i, b: 1 });
    for (let i = 0; i < 1000; i++) await call(i);
    await concurrent(2000, IN_FLIGHT, call);
    const seq = await sequential(SEQ, call);
    const callsPerSec = await concurrent(CONC, IN_FLIGHT, call);
    const stream = async (n: number): Promise<number> => {
      let received = 0;
      for await (const _ of pit.executeStream('count', { n })) received++;
      return received;
    };
    await stream(Math.min(STREAM, 10_000));
    const t0 = performance.now();
    const received = await stream(STREAM);
    const chunksPerSec = (received / (performance.now() - t0)) * 1000;
    if (received !== STREAM) throw new Error(`${transport}: stream delivered ${received} of ${STREAM}`);
    const blob = Buffer.alloc(1 << 20, 7);
    const times: number[] = [];
    for (let i = 0; i < BYTES_ROUNDS + 3; i++) {
      const t = performance.now();
      const back = (await pit.execute('echo', { blob })) as { blob: unknown };
      if (i >= 3) times.push(performance.now() - t);
      if (transport !== 'snakepit' && !(back.blob as Buffer).equals(blob))
        throw new Error('bytes came back wrong');
    }
    return { p50Us: seq.p50Us, p99Us: seq.p99Us, callsPerSec, chunksPerSec, mibRoundTripMs: median(times) };
  } finally {
    await pit.close();
  }
}

async function main(): Promise<void> {
  const python = resolvePython(undefined);
  console.log(
    `snakepit bench:grpc — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${python.executable}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds; ${SEQ} sequential calls, ${CONC} with ${IN_FLIGHT} in flight, a stream of ` +
      `${STREAM} small dicts, ${BYTES_ROUNDS} × 1 MiB echo; ${WORKERS} workers per transport\n`,
  );
  const server = transports.includes('grpc') ? await startServer(python.executable) : undefined;
  const results = new Map<Transport, Sample[]>();
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      for (const transport of transports) {
        const sample = await round(transport, server?.address);
        results.set(transport, [...(results.get(transport) ?? []), sample]);
        process.stdout.write(`round ${r}/${ROUNDS} ${transport} done\n`);
      }
    }
  } finally {
    server?.proc.kill('SIGTERM');
    if (server) rmSync(server.dir, { recursive: true, force: true });
  }
  const range = (samples: Sample[], key: keyof Sample, digits = 0): string => {
    const v = samples.map((s) => s[key]);
    return `${median(v).toFixed(digits)} (${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)})`;
  };
  const label: Record<Transport, string> = {
    local: 'local (socket pair)',
    grpc: 'grpc (WorkerChannel stream)',
    snakepit: 'snakepit (unary RPC per call)',
    ray: 'ray (driver + actor calls)',
  };
  console.log('');
  console.log(
    table(
      [
        'transport',
        'seq p50 µs',
        'seq p99 µs',
        `calls/s, ${IN_FLIGHT} in flight`,
        'stream chunks/s',
        '1 MiB echo ms',
      ],
      transports.map((t) => {
        const s = results.get(t)!;
        return [
          label[t],
          range(s, 'p50Us', 1),
          range(s, 'p99Us', 1),
          range(s, 'callsPerSec'),
          range(s, 'chunksPerSec'),
          range(s, 'mibRoundTripMs', 2),
        ];
      }),
    ),
  );
  const grpc = results.get('grpc');
  if (grpc) {
    const tput = median(grpc.map((s) => s.callsPerSec));
    console.log(
      `\ngrpc: ${Math.round(tput).toLocaleString('en-US')} calls/s with ${IN_FLIGHT} in flight ` +
        `(target ≥ ${GRPC_TARGET.toLocaleString('en-US')}: ${tput >= GRPC_TARGET ? 'met' : 'NOT met'})`,
    );
  }
}

await main();
