/**
 * `npm run bench:large`: where the time of a 100 MB `Float64Array` round trip through numpy goes (row (j) of
 * `npm run bench`). The figures of docs/PERFORMANCE.md ("Large values") and docs/DATA.md ("Numbers") come from here.
 *
 * 1. Each step alone, best of 5, with the minor page faults it took: copies on the host (into warm and into new
 *    memory), `pwrite`/`pread` of a /dev/shm file, numpy's `x * 2` of a view and the copy of a result into a mapping.
 * 2. The whole call (`double_f64` of bench/python), p50 of 5 after a warm-up, with the host's CPU and page faults
 *    per call: in a child with the default environment, in one started with glibc's thresholds raised
 *    (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) and in one whose glibc maps large allocations with huge
 *    pages (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`), alternately (the workers inherit the environment).
 *
 * Flags: --rounds N (3)
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type NDArray, Snakepit } from '../src/index.js';
import { resolvePython } from '../src/python-env/interpreter.js';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, child: { type: 'boolean', default: false } },
});
const ROOT = dirname(fileURLToPath(import.meta.url))
  .replace(/\/dist\/bench$/, '')
  .replace(/\/bench$/, '');
const N = 100e6;
const HOST_MALLOC = { MALLOC_MMAP_THRESHOLD_: '1073741824', MALLOC_TRIM_THRESHOLD_: '4294967296' };
/** glibc (2.35 on) asks for transparent huge pages for its large allocations: 2 MiB per fault instead of 4 KiB. */
const HOST_HUGE = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

/** Minor page faults of this process so far. */
function minorFaults(): number {
  return Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[7]);
}

function step(label: string, run: () => void): string {
  let best = Infinity;
  let faults = 0;
  for (let i = 0; i < 5; i++) {
    const f0 = minorFaults();
    const t0 = performance.now();
    run();
    const ms = performance.now() - t0;
    if (ms < best) [best, faults] = [ms, minorFaults() - f0];
  }
  return `| ${label} | ${best.toFixed(1)} ms | ${faults} |`;
}

function hostSteps(): string[] {
  const from = Buffer.alloc(N, 3);
  const warm = Buffer.alloc(N, 1);
  const path = `/dev/shm/snakepit-bench-${process.pid}`;
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  unlinkSync(path);
  try {
    writeSync(fd, from, 0, N, 0);
    return [
      step('host: `Buffer.copy`, warm pages both sides', () => from.copy(warm)),
      step('host: `Buffer.copy` into a new `Buffer`', () => from.copy(Buffer.allocUnsafeSlow(N))),
      step('host: `pwrite` into a /dev/shm file written before', () => writeSync(fd, from, 0, N, 0)),
      step('host: `pread` from /dev/shm into a warm `Buffer`', () => readSync(fd, warm, 0, N, 0)),
      step('host: `pread` from /dev/shm into a new `Buffer`', () =>
        readSync(fd, Buffer.allocUnsafeSlow(N), 0, N, 0),
      ),
    ];
  } finally {
    closeSync(fd);
  }
}

const PYTHON_STEPS = `
import mmap, os, resource, time, numpy as np
N = ${N}
path = "/dev/shm/snakepit-bench-py-%d" % os.getpid()
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600); os.unlink(path)
os.posix_fallocate(fd, 0, N + 64); m = mmap.mmap(fd, N + 64)
x = np.frombuffer(m, dtype=np.float64, count=N // 8); y = x * 2
def step(label, run):
    best, faults = 1e9, 0
    for _ in range(5):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; t0 = time.perf_counter(); run()
        ms = (time.perf_counter() - t0) * 1000
        if ms < best: best, faults = ms, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    print("| %s | %.1f ms | %d |" % (label, best, faults))
step("worker: numpy \`x * 2\` of a view of /dev/shm", lambda: x * 2)
step("worker: a result copied into a mapping written before", lambda: m.__setitem__(slice(64, 64 + N), memoryview(y).cast("B")))
`;

/** The child: the whole call, p50 of 5 after a warm-up, with the host's CPU and page faults per call. */
async function wholeCall(): Promise<void> {
  const python = resolvePython(undefined).executable;
  const pit = await Snakepit.start({
    adapter: 'bench_adapter:BenchAdapter',
    size: 1,
    pythonPath: [join(ROOT, 'bench', 'python')],
    python: { executable: python },
    logger: false,
  });
  try {
    const x = Float64Array.from({ length: N / 8 }, (_, i) => i * 0.25);
    const ms: number[] = [];
    const cpu: number[] = [];
    const faults: number[] = [];
    for (let i = 0; i < 6; i++) {
      const f0 = minorFaults();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const y = (await pit.execute<NDArray>('double_f64', { data: x })).data as Float64Array;
      if (y[N / 8 - 1] !== x[N / 8 - 1]! * 2) throw new Error('wrong result');
      if (i === 0) continue; // warm-up: segments made, numpy imported
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      faults.push(minorFaults() - f0);
    }
    const p50 = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1]!;
    process.stdout.write(`${JSON.stringify({ ms: p50(ms), cpuMs: p50(cpu), faults: p50(faults) })}\n`);
  } finally {
    await pit.close();
  }
}

async function main(): Promise<void> {
  const python = resolvePython(undefined).executable;
  const rows = [...hostSteps(), ...execFileSync(python, ['-c', PYTHON_STEPS]).toString().trim().split('\n')];
  process.stdout.write(
    `load average ${loadavg()[0]!.toFixed(2)}\n\n| step (100 MB) | time | minor faults |\n|---|---|---|\n`,
  );
  process.stdout.write(`${rows.join('\n')}\n\n`);
  const runs: Record<string, Array<{ ms: number; cpuMs: number; faults: number }>> = {};
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const [label, env] of [
      ['default environment', {}],
      ['host with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ raised', HOST_MALLOC],
      ['host with GLIBC_TUNABLES=glibc.malloc.hugetlb=1', HOST_HUGE],
    ] as const) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
        env: { ...process.env, ...env },
      });
      (runs[label] ??= []).push(JSON.parse(out.toString().trim().split('\n').pop()!));
    }
  }
  process.stdout.write(
    '| 100 MB `Float64Array` → numpy `x * 2` → back | p50 ms (per round) | host CPU ms | host faults |\n|---|---|---|---|\n',
  );
  for (const [label, rs] of Object.entries(runs)) {
    const col = (k: 'ms' | 'cpuMs' | 'faults'): string => rs.map((r) => Math.round(r[k])).join(', ');
    process.stdout.write(`| ${label} | ${col('ms')} | ${col('cpuMs')} | ${col('faults')} |\n`);
  }
  process.stdout.write(`\nload average ${loadavg()[0]!.toFixed(2)}\n`);
}

await (flags.child ? wholeCall() : main());
