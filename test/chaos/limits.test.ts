// Chaos: workers that push against their limits. Memory that grows past `limits.memoryMb`, processes that try
// to outlive their worker (a setsid grandchild, a double-forked daemon, a process-group child), grandchildren
// that hold a dead worker's output pipes. Real workers throughout; the host-death case uses a real Node host.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PythonError,
  PythonMemoryError,
  resolvePython,
  type Snakepit,
  type SnakepitConfig,
  WorkerCrashedError,
  WorkerStartError,
} from '../../src/index.js';
import { isRunning } from '../../src/util/proc.js';
import { eventually, requireOptional, start } from '../helpers.js';
import {
  bounded,
  expectGone,
  expectNoLeftovers,
  killOnFinish,
  poolBackToFull,
  startHost,
  tempDir,
} from './chaos-helpers.js';

const LIMITS = 'snakepit_fixtures.limits:LimitsAdapter';
/** Every descendant must be gone this soon after its worker ends. */
const CONTAINED_WITHIN_MS = 3_000;
/**
 * Peak RSS may pass `memoryMb` by the pages of the code the worker mapped (RssFile: ~6 MiB for the bridge, ~12
 * with numpy) and its main stack: the margin docs/RELIABILITY.md states for this adapter.
 */
const MEMORY_MARGIN_MB = 32;
/** Memory the rlimit cannot see is sampled every 50 ms: a generous bound on what grows in between, on a busy VM. */
const SAMPLER_MARGIN_MB = 256;
const PYTHON = resolvePython(undefined).executable;
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

interface Status {
  pid: number;
  VmHWM: number;
  VmRSS: number;
  VmData: number;
  rlimit_data: number;
  rlimit_nofile: number;
  rlimit_cpu: number;
}
type Tree = { setsid: number; daemon: number; group: number };

function startLimits(config: Partial<SnakepitConfig> = {}): Promise<Snakepit> {
  return start({ adapter: LIMITS, ...config });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await bounded(
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: Error) => ({ ok: false as const, error }),
    ),
    60_000,
    'the call',
  );
  if (outcome.ok) throw new Error(`expected the call to fail; it returned ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/** Run `body`, close, and check the run left no worker behind (the suite's closing assertion). */
async function withPit<T>(pit: Snakepit, body: (pit: Snakepit) => Promise<T>): Promise<T> {
  try {
    return await body(pit);
  } finally {
    await pit.close();
    await expectNoLeftovers(pit.runId);
  }
}

const treePids = (tree: Tree): number[] => [tree.setsid, tree.daemon, tree.group];

describe('limits.memoryMb', () => {
  it('a call allocating 1.5 GB under memoryMb 300 fails with MemoryError; peak RSS stays within the margin; the next call succeeds', async () => {
    await withPit(await startLimits({ limits: { memoryMb: 300 } }), async (pit) => {
      const before = (await pit.execute('status')) as Status;
      expect(before.rlimit_data).toBe(300 * 1024 * 1024);
      const error = await failure(pit.execute('allocate', { mb: 1536, chunk_mb: 8 }));
      expect(error).toBeInstanceOf(PythonMemoryError);
      expect(error).toBeInstanceOf(PythonError);
      const after = (await pit.execute('status')) as Status;
      expect(after.pid).toBe(before.pid); // the worker survived: MemoryError is an ordinary exception
      expect(after.VmHWM).toBeGreaterThan(200); // it really got close to the limit...
      expect(after.VmHWM).toBeLessThan(300 + MEMORY_MARGIN_MB); // ...and no further
      expect(await pit.execute('allocate', { mb: 64 })).toBeGreaterThan(0);
    });
  });

  it('numpy: an array past the limit is a MemoryError, the worker lives on', async () => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return;
    await withPit(await startLimits({ limits: { memoryMb: 300 } }), async (pit) => {
      const error = await failure(pit.execute('allocate_numpy', { mb: 1536 }));
      expect(error).toBeInstanceOf(PythonMemoryError);
      expect(await pit.execute('allocate_numpy', { mb: 64 })).toBeLessThan(300 + MEMORY_MARGIN_MB);
    });
  });

  it('memory the rlimit cannot see (shared mappings) is caught by the sampler: oom_kill, and the pool recovers', async () => {
    await withPit(await startLimits({ limits: { memoryMb: 300 } }), async (pit) => {
      const pid = ((await pit.execute('status')) as Status).pid;
      const error = await failure(pit.execute('allocate_shared', { mb: 1536 }));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      const crashed = error as WorkerCrashedError;
      expect(crashed.kind).toBe('oom_kill');
      expect(crashed.reason).toMatch(/limits\.memoryMb 300/);
      const seen = Number(/(\d+) MiB/.exec(crashed.reason ?? '')?.[1]);
      expect(seen).toBeGreaterThan(300);
      expect(seen).toBeLessThan(300 + SAMPLER_MARGIN_MB);
      expect(isRunning(pid)).toBe(false);
      await poolBackToFull(pit, 1);
      expect(((await pit.execute('status')) as Status).pid).not.toBe(pid);
    });
  });

  it('an adapter whose import needs more than the limit fails to start with the MemoryError', async () => {
    const error = await failure(
      start({ adapter: 'snakepit_fixtures.limits_heavy:HeavyAdapter', limits: { memoryMb: 64 } }),
    );
    expect(error).toBeInstanceOf(WorkerStartError);
    expect((error as WorkerStartError).pythonType).toBe('MemoryError');
    expect(error.message).toMatch(/limits\.memoryMb, 64 MiB/);
  });
});

describe('limits.openFiles and limits.cpuSeconds', () => {
  it('openFiles caps descriptors: opening more is an OSError (EMFILE) in that call only', async () => {
    await withPit(await startLimits({ limits: { openFiles: 64 } }), async (pit) => {
      expect(((await pit.execute('status')) as Status).rlimit_nofile).toBe(64);
      const error = await failure(pit.execute('open_files', { n: 100 }));
      expect((error as PythonError).pythonType).toBe('OSError');
      expect(error.message).toMatch(/Too many open files/);
      expect(await pit.execute('open_files', { n: 10 })).toBe(10);
    });
  });

  it('cpuSeconds stops a call that burns more CPU than allowed; the next call gets a fresh budget', async () => {
    await withPit(await startLimits({ limits: { cpuSeconds: 1 } }), async (pit) => {
      const error = await failure(pit.execute('burn', { cpu_seconds: 30 }));
      expect(error).toBeInstanceOf(PythonError);
      expect((error as PythonError).pythonType).toBe('CpuLimitExceeded');
      expect(error.message).toMatch(/limits\.cpuSeconds/);
      // Each call starts a new budget: two calls of 0.7 s of CPU pass although together they exceed 1 s.
      expect(await pit.execute('burn', { cpu_seconds: 0.7 })).toBeGreaterThanOrEqual(0.7);
      expect(await pit.execute('burn', { cpu_seconds: 0.7 })).toBeGreaterThanOrEqual(0.7);
    });
  });
});

describe('process-tree containment: nothing a worker started outlives it', () => {
  it('close(): a setsid grandchild, a double-forked daemon and a process-group child are gone within 3 s', async () => {
    const pit = await startLimits();
    const tree = (await pit.execute('spawn_tree')) as Tree;
    killOnFinish(treePids(tree));
    expect(treePids(tree).every(isRunning)).toBe(true);
    const t0 = Date.now();
    await pit.close();
    await expectGone(treePids(tree), CONTAINED_WITHIN_MS - (Date.now() - t0));
    await expectNoLeftovers(pit.runId);
  });

  it('a worker crash: its descendants are gone within 3 s; the other worker and its descendants are not touched', async () => {
    await withPit(await startLimits({ size: 2 }), async (pit) => {
      // Sessions pin calls to a worker: "a" gets one, and while it is busy "b" gets the other.
      const treeA = await pit.executeInSession<Tree & { worker: number }>('a', 'spawn_tree');
      const busy = pit.executeInSession('a', 'nap', { seconds: 1 });
      const treeB = await pit.executeInSession<Tree & { worker: number }>('b', 'spawn_tree');
      killOnFinish([...treePids(treeA), ...treePids(treeB)]);
      await busy;
      expect(treeA.worker).not.toBe(treeB.worker);
      const error = await failure(pit.executeInSession('a', 'crash'));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      const t0 = Date.now();
      await expectGone(treePids(treeA), CONTAINED_WITHIN_MS);
      expect(Date.now() - t0).toBeLessThan(CONTAINED_WITHIN_MS);
      expect(isRunning(treeB.worker)).toBe(true);
      expect(treePids(treeB).every(isRunning)).toBe(true);
    });
  });

  it('recycling: the old worker’s descendants go with it', async () => {
    await withPit(await startLimits(), async (pit) => {
      const tree = (await pit.execute('spawn_tree')) as Tree;
      killOnFinish(treePids(tree));
      await pit.recycleWorker(pit.workers()[0]!.id);
      await expectGone(treePids(tree), CONTAINED_WITHIN_MS);
    });
  });

  it('a host killed with SIGKILL: the next start sweeps its workers’ descendants within 3 s, and nothing else', async () => {
    const registryDir = tempDir('reg');
    const host = startHost('tree', { registryDir, adapter: LIMITS });
    const ready = await host.waitFor('ready');
    const trees = ready['trees'] as Tree[];
    const all = trees.flatMap(treePids);
    killOnFinish(all);
    // Bystanders: a live host using the same registry, and a process snakepit did not start.
    const live = startHost('tree', { registryDir, adapter: LIMITS });
    const liveReady = await live.waitFor('ready');
    const liveTrees = (liveReady['trees'] as Tree[]).flatMap(treePids);
    killOnFinish(liveTrees);
    const stranger = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
    killOnFinish([stranger.pid!]);

    host.child.kill('SIGKILL');
    await host.exited;
    await expectGone(ready['pids'] as number[]); // the workers follow their host at once...
    await new Promise((r) => setTimeout(r, 500));
    expect(all.every(isRunning)).toBe(true); // ...their descendants, in other sessions and groups, do not

    const t0 = Date.now();
    const pit = await startLimits({ registryDir });
    try {
      await expectGone(all, Math.max(0, CONTAINED_WITHIN_MS - (Date.now() - t0)));
      expect(liveTrees.every(isRunning)).toBe(true);
      expect(isRunning(stranger.pid!)).toBe(true);
      expect(readdirSync(registryDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await pit.close();
    }
    live.child.kill('SIGTERM');
  });
});

describe('descriptors of dead workers', () => {
  it('stay flat across 20 crashes whose grandchildren (no marker, new session) hold the output pipes', async () => {
    await withPit(
      await startLimits({ restart: { initialBackoffMs: 1, maxBackoffMs: 1, maxAttempts: 1_000 } }),
      async (pit) => {
        const holders: number[] = [];
        killOnFinish(holders);
        const crashOnce = async (): Promise<void> => {
          holders.push(...(await pit.execute<number[]>('spawn_pipe_holders', { n: 2 })));
          expect(await failure(pit.execute('crash'))).toBeInstanceOf(WorkerCrashedError);
          await poolBackToFull(pit, 1);
        };
        const initial = fdCount();
        await crashOnce(); // warm-up: whatever the first crash allocates for good
        await eventually(
          () => fdCount() <= initial + NOISE_FDS,
          5_000,
          'the first dead worker’s pipes closed',
        );
        const before = fdCount();
        for (let i = 0; i < 20; i++) await crashOnce();
        expect(holders.filter(isRunning)).toHaveLength(42); // they really still hold the pipes
        await eventually(
          () => fdCount() <= before + NOISE_FDS,
          5_000,
          `descriptors back to ${before} (+${NOISE_FDS}); now ${fdCount()}`,
        );
      },
    );
  });
});

/** The test runner's own descriptors come and go (IPC, timers); a leak here would be 2 per crash. */
const NOISE_FDS = 2;

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
