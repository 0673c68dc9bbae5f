/**
 * `npm run bench:limits`: what `limits` hold to and what they cost, measured with real workers (the limits fixture
 * adapter of test/fixtures/python). The figures docs/RELIABILITY.md ("Limits") quotes come from here.
 *
 * 1. Memory under `memoryMb: 300`: a tool allocating 1.5 GB in 8 MiB pieces (refused by RLIMIT_DATA: the worker's
 *    peak RSS after the MemoryError, and how much of it is code pages), a 1.5 GB numpy array, and 1.5 GB of shared
 *    memory touched as fast as the worker can (the sampler's case: what it saw when it killed the worker).
 * 2. Containment: from `close()`, and from a worker's crash, until a setsid grandchild, a double-forked daemon and a
 *    process-group child are all gone; and what one scan of /proc costs on this machine.
 * 3. Start-up: `Snakepit.start` of one worker to ready, and the worker's own CPU time until then, without and with
 *    limits (rounds interleaved).
 *
 * Flags: --rounds N (5)
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Snakepit, Snakepit as SP, type SnakepitConfig, WorkerCrashedError } from '../src/index.js';
import { findMarked } from '../src/limits/containment.js';
import { isRunning } from '../src/util/proc.js';
import { median, table } from './lib/measure.js';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(flags.rounds);
const ROOT = dirname(fileURLToPath(import.meta.url))
  .replace(/\/dist\/bench$/, '')
  .replace(/\/bench$/, '');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'python');
const LIMITS = 'snakepit_fixtures.limits:LimitsAdapter';

interface Status {
  pid: number;
  VmHWM: number;
  RssFile: number;
}

function start(config: Partial<SnakepitConfig>): Promise<Snakepit> {
  return SP.start({
    adapter: LIMITS,
    size: 1,
    logger: false,
    registryDir: false,
    pythonPath: [FIXTURES],
    ...config,
  } as SnakepitConfig);
}

async function settle(promise: Promise<unknown>): Promise<Error | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

async function goneAfter(pids: number[], t0: number): Promise<number> {
  while (pids.some(isRunning)) await new Promise((r) => setTimeout(r, 2));
  return performance.now() - t0;
}

const range = (values: number[], digits = 0): string =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

async function memory(): Promise<string> {
  const peak: number[] = [];
  const code: number[] = [];
  const numpyPeak: number[] = [];
  const sampled: number[] = [];
  // Each case in a fresh worker: VmHWM is the peak of the worker's whole life.
  const fresh = async (body: (pit: Snakepit) => Promise<void>): Promise<void> => {
    const pit = await start({ limits: { memoryMb: 300 } });
    try {
      await body(pit);
    } finally {
      await pit.close();
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    await fresh(async (pit) => {
      await settle(pit.execute('allocate', { mb: 1536, chunk_mb: 8 }));
      const status = await pit.execute<Status>('status');
      peak.push(status.VmHWM);
      code.push(status.RssFile);
    });
    await fresh(async (pit) => {
      const numpy = await settle(pit.execute('allocate_numpy', { mb: 1536 }));
      if (numpy?.name === 'PythonMemoryError') numpyPeak.push((await pit.execute<Status>('status')).VmHWM);
    });
    await fresh(async (pit) => {
      const killed = await settle(pit.execute('allocate_shared', { mb: 1536, chunk_mb: 16, pause_s: 0 }));
      if (killed instanceof WorkerCrashedError && killed.kind === 'oom_kill') {
        sampled.push(Number(/reached (\d+) MiB/.exec(killed.reason ?? '')?.[1]));
      }
    });
  }
  return table(
    [
      '1.5 GB under memoryMb 300',
      'stopped by',
      'worker peak RSS, MiB (median, min–max)',
      'of which code pages',
    ],
    [
      ['bytearrays of 8 MiB, each written', 'RLIMIT_DATA: MemoryError', range(peak), range(code)],
      [
        'one numpy array (numpy.ones)',
        'RLIMIT_DATA: MemoryError',
        numpyPeak.length ? range(numpyPeak) : 'n/a',
        '–',
      ],
      [
        'shared mmap, 16 MiB pieces written back to back',
        'the sampler: oom_kill',
        `${range(sampled)} (private + shared, when killed)`,
        '–',
      ],
    ],
  );
}

async function containment(): Promise<string> {
  const afterClose: number[] = [];
  const afterCrash: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let pit = await start({});
    let tree = await pit.execute<Record<string, number>>('spawn_tree');
    let t0 = performance.now();
    await pit.close();
    afterClose.push(await goneAfter([tree['setsid']!, tree['daemon']!, tree['group']!], t0));
    pit = await start({});
    try {
      tree = await pit.execute<Record<string, number>>('spawn_tree');
      t0 = performance.now();
      await settle(pit.execute('crash'));
      afterCrash.push(await goneAfter([tree['setsid']!, tree['daemon']!, tree['group']!], t0));
    } finally {
      await pit.close();
    }
  }
  const scans: number[] = [];
  let processes = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    findMarked([{ runId: 'nosuchrun', since: 0 }]); // the worst case: every process's environment is read
    scans.push(performance.now() - t0);
  }
  processes = readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1] as unknown as number;
  return table(
    ['containment', 'ms (median, min–max)'],
    [
      ['close() → setsid grandchild, daemon, group child all gone', range(afterClose)],
      ['worker crash (call fails) → all three gone', range(afterCrash)],
      [`one scan of /proc reading every environment (${processes} processes)`, range(scans, 1)],
    ],
  );
}

async function startup(): Promise<string> {
  const variants: Array<[string, Partial<SnakepitConfig>]> = [
    ['no limits', {}],
    ['memoryMb, cpuSeconds, openFiles', { limits: { memoryMb: 300, cpuSeconds: 5, openFiles: 256 } }],
  ];
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS * 4; round++) {
    for (const [name, config] of variants) {
      const t0 = performance.now();
      const pit = await start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', ...config });
      const ms = performance.now() - t0;
      const onCpu = readFileSync(`/proc/${pit.workers()[0]!.pid}/schedstat`, 'utf8').split(' ')[0];
      await pit.close();
      if (round === 0) continue; // warm-up
      (wall.get(name) ?? wall.set(name, []).get(name)!).push(ms);
      (cpu.get(name) ?? cpu.set(name, []).get(name)!).push(Number(onCpu) / 1e6);
    }
  }
  return table(
    ['start 1 worker to ready', 'wall ms', "worker's CPU ms until ready"],
    variants.map(([name]) => [name, range(wall.get(name)!, 1), range(cpu.get(name)!, 1)]),
  );
}

const load = loadavg()[0]!.toFixed(2);
process.stdout.write(`# limits bench (${cpus().length} CPUs, load ${load}, ${ROUNDS} rounds)\n\n`);
process.stdout.write(`${await memory()}\n\n`);
process.stdout.write(`${await containment()}\n\n`);
process.stdout.write(`${await startup()}\n`);
