/**
 * CPU per call with 64 calls in flight, for comparing builds side by side (docs/PERFORMANCE.md, "64 in flight").
 *
 *   node dist/bench/flight.js --rounds 8 old=/path/to/old-checkout:snakepit-msgpack new=.:snakepit-msgpack \
 *     bare=.:bare-msgpack python-shell=.:python-shell
 *
 * Each `label=root:system` is a sample: `root` is a checkout whose `dist/` is built (a copy of `dist/` with the
 * `python/` beside it is enough), `system` one of bench/systems. Rounds are interleaved (every sample in round 1,
 * then round 2, …; every other round in reverse order), each sample in a fresh Node process (`--child`). A sample starts 2 workers, warms up, runs
 * `--calls` `add` calls with 64 in flight, then `--seq` sequential ones, and reports:
 *   - calls/s with 64 in flight;
 *   - the host's CPU per call (process.cpuUsage: every thread of the process, user and system) and the workers'
 *     (/proc/<pid>/stat of each), which hold up better than calls/s when other work shares the machine;
 *   - read and write system calls per call of each worker and the host (/proc/<pid>/io), and how many frames
 *     the host's socket writes carried (the calls in flight travel in one batch per worker, or in two groups);
 *   - the sequential p50.
 * The table gives medians over rounds (calls/s with min–max) and each sample's per-round ratio to the first.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { resolvePython } from '../src/python-env/interpreter.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');

interface Sample {
  cps: number;
  hostUs: number;
  workerUs: number;
  p50Us: number;
  /** Per call, for each worker and then the host. */
  reads: number[];
  writes: number[];
  /** Host socket writes during the timed part, by frames carried: `{ frames: writes }`. */
  writeFrames: Record<string, number>;
}

function framesIn(chunk: Uint8Array): string {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let pos = 0;
  let frames = 0;
  while (pos + 4 <= chunk.byteLength) {
    pos += 4 + view.getUint32(pos);
    frames++;
  }
  return pos === chunk.byteLength && frames > 0 ? String(frames) : '?';
}

function procStatCpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second here)
}

function procIo(pid: number): [number, number] {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}: (\\d+)`).exec(text)?.[1] ?? NaN);
  return [field('syscr'), field('syscw')];
}

async function child(root: string, system: string, calls: number, seqCalls: number): Promise<Sample> {
  const systems = (await import(pathToFileURL(join(root, 'dist', 'bench', 'systems', 'index.js')).href)) as {
    systemById(id: string): { start(o: object): Promise<import('./systems/types.js').BenchDriver> };
  };
  const { concurrent, sequential } = await import('./lib/measure.js');
  // Count the frames in each socket write of the host, by walking their length prefixes ("?": not framed so).
  const writes = new Map<string, number>();
  let counting = false;
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (counting && chunk instanceof Uint8Array) {
      const key = framesIn(chunk);
      writes.set(key, (writes.get(key) ?? 0) + 1);
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  const driver = await systems.systemById(system).start({
    python: resolvePython(undefined, { cwd: ROOT }).executable, // this checkout's environment, wherever it runs from
    pythonDir: join(ROOT, 'bench', 'python'),
    workers: 2,
  });
  try {
    const pids = driver.pythonPids();
    for (let i = 0; i < 2000; i++) await driver.add(i, 1);
    await concurrent(5000, 64, (i) => driver.add(i, 1));
    const io0 = [...pids, process.pid].map(procIo);
    const ticks0 = pids.map(procStatCpuTicks);
    counting = true;
    const cpu0 = process.cpuUsage();
    const cps = await concurrent(calls, 64, async (i) => {
      if ((await driver.add(i, 1)) !== i + 1) throw new Error('add answered wrongly');
    });
    const cpu = process.cpuUsage(cpu0);
    counting = false;
    const ticks = pids.map(procStatCpuTicks).reduce((a, t, j) => a + t - ticks0[j]!, 0);
    const io1 = [...pids, process.pid].map(procIo);
    const seq = await sequential(seqCalls, (i) => driver.add(i, 1));
    const writeFrames = Object.fromEntries(writes);
    return {
      cps,
      hostUs: (cpu.user + cpu.system) / calls,
      workerUs: (ticks * 10_000) / calls,
      p50Us: seq.p50Us,
      reads: io1.map((x, j) => (x[0] - io0[j]![0]) / calls),
      writes: io1.map((x, j) => (x[1] - io0[j]![1]) / calls),
      writeFrames,
    };
  } finally {
    await driver.close();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function main(): void {
  const { values: flags, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '6' },
      calls: { type: 'string', default: '60000' },
      seq: { type: 'string', default: '3000' },
    },
  });
  const specs = positionals.map((p) => {
    const m = /^([^=]+)=(.+):([a-z-]+)$/.exec(p);
    if (!m) throw new Error(`"${p}" is not label=root:system`);
    return { label: m[1]!, root: resolve(m[2]!), system: m[3]! };
  });
  if (specs.length === 0) throw new Error('name at least one label=root:system');
  const samples = new Map<string, Array<Sample & { load: number }>>(specs.map((s) => [s.label, []]));
  for (let round = 1; round <= Number(flags.rounds); round++) {
    // Every other round runs the samples in reverse: a sample that follows another's teardown pays for it.
    for (const s of round % 2 ? specs : [...specs].reverse()) {
      const load = loadavg()[0]!;
      const run = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', s.root, s.system, flags.calls, flags.seq],
        { encoding: 'utf8', timeout: 300_000 },
      );
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) {
        process.stderr.write(`round ${round} ${s.label}: no result\n${run.stderr}\n`);
        continue;
      }
      const sample = { ...(JSON.parse(line.slice(7)) as Sample), load };
      samples.get(s.label)!.push(sample);
      process.stderr.write(
        `round ${round} ${s.label}: ${Math.round(sample.cps)} calls/s, host ${sample.hostUs.toFixed(1)} µs, ` +
          `workers ${sample.workerUs.toFixed(1)} µs per call, p50 ${Math.round(sample.p50Us)} µs (load ${load}); ` +
          `host writes by frames carried: ${Object.entries(sample.writeFrames)
            .filter(([, n]) => n >= 10)
            .map(([frames, n]) => `${frames}×${n}`)
            .join(' ')}\n`,
      );
    }
  }
  const first = samples.get(specs[0]!.label)!;
  console.log(
    '| sample | calls/s (min–max) | host CPU µs/call | worker CPU µs/call | CPU per call vs ' +
      `${specs[0]!.label} | sequential p50 µs | host writes per call |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const s of specs) {
    const v = samples.get(s.label)!;
    if (v.length === 0) continue;
    const cps = v.map((x) => x.cps);
    const ratio = v
      .map((x, j) => (first[j] ? (x.hostUs + x.workerUs) / (first[j]!.hostUs + first[j]!.workerUs) : NaN))
      .filter((r) => !Number.isNaN(r));
    console.log(
      `| ${s.label} | ${Math.round(median(cps))} (${Math.round(Math.min(...cps))}–${Math.round(Math.max(...cps))}) | ` +
        `${median(v.map((x) => x.hostUs)).toFixed(1)} | ${median(v.map((x) => x.workerUs)).toFixed(1)} | ` +
        `${median(ratio).toFixed(2)} | ${Math.round(median(v.map((x) => x.p50Us)))} | ` +
        `${median(v.map((x) => x.writes.at(-1)!)).toFixed(3)} |`,
    );
  }
  const loads = [...samples.values()].flat().map((x) => x.load);
  console.log(`\nload average ${Math.min(...loads)}–${Math.max(...loads)}; ${flags.rounds} rounds`);
}

if (process.argv[2] === '--child') {
  const [root, system, calls, seq] = process.argv.slice(3) as [string, string, string, string];
  const sample = await child(root, system, Number(calls), Number(seq));
  process.stdout.write(`RESULT ${JSON.stringify(sample)}\n`);
  process.exit(0);
} else {
  main();
}
