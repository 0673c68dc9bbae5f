// The environment a local worker starts with: our defaults, then the host's environment, then the pool's `env`.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { workerEnv } from '../../src/worker/worker-spawn.js';
import { locatedPool } from '../fake-link.js';

const pool = (env?: Record<string, string>) =>
  locatedPool(resolveConfig({ adapter: 'm:A', ...(env ? { env } : {}) }).pools[0]!);

describe('workerEnv', () => {
  it('sets one BLAS thread and glibc heap thresholds by default, and says who the worker is', () => {
    const env = workerEnv(pool(), 'run-1', 'w-1');
    expect(env).toMatchObject({
      OMP_NUM_THREADS: '1',
      MALLOC_MMAP_THRESHOLD_: String(1024 ** 3),
      MALLOC_TRIM_THRESHOLD_: String(4 * 1024 ** 3),
      SNAKEPIT_RUN_ID: 'run-1',
      SNAKEPIT_WORKER_ID: 'w-1',
      SNAKEPIT_SPIN_US: '50',
      SNAKEPIT_HOST_PID: String(process.pid),
    });
  });

  it('keeps glibc thresholds small under a memory limit (memory kept for reuse would count against it)', () => {
    const limited = locatedPool(resolveConfig({ adapter: 'm:A', limits: { memoryMb: 512 } }).pools[0]!);
    expect(workerEnv(limited, 'r', 'w')).toMatchObject({
      MALLOC_MMAP_THRESHOLD_: '4194304',
      MALLOC_TRIM_THRESHOLD_: '8388608',
    });
  });

  it("lets the pool's env override every default", () => {
    const env = workerEnv(pool({ MALLOC_MMAP_THRESHOLD_: '131072', OMP_NUM_THREADS: '4' }), 'r', 'w');
    expect(env['MALLOC_MMAP_THRESHOLD_']).toBe('131072');
    expect(env['OMP_NUM_THREADS']).toBe('4');
  });

  it('sizes native thread pools: 1, then the host environment, then nativeThreads, then the pool env', () => {
    const saved = process.env['MKL_NUM_THREADS'];
    process.env['MKL_NUM_THREADS'] = '6';
    try {
      const plain = workerEnv(pool(), 'r', 'w');
      expect(plain).toMatchObject({ OMP_NUM_THREADS: '1', BLIS_NUM_THREADS: '1', MKL_NUM_THREADS: '6' });
      const sized = locatedPool(
        resolveConfig({ adapter: 'm:A', nativeThreads: 3, env: { OMP_NUM_THREADS: '2' } }).pools[0]!,
      );
      expect(workerEnv(sized, 'r', 'w')).toMatchObject({
        OMP_NUM_THREADS: '2',
        OPENBLAS_NUM_THREADS: '3',
        MKL_NUM_THREADS: '3',
        VECLIB_MAXIMUM_THREADS: '3',
      });
    } finally {
      if (saved === undefined) delete process.env['MKL_NUM_THREADS'];
      else process.env['MKL_NUM_THREADS'] = saved;
    }
  });

  it('resolves the thread profile to a capacity of threadsPerWorker, without pipelining', () => {
    const thread = resolveConfig({ adapter: 'm:A', profile: 'thread', threadsPerWorker: 6 }).pools[0]!;
    expect(thread).toMatchObject({
      profile: 'thread',
      threadsPerWorker: 6,
      workerConcurrency: 6,
      pipelineDepth: 6,
    });
    const proc = resolveConfig({ adapter: 'm:A' }).pools[0]!;
    expect(proc).toMatchObject({ profile: 'process', threadsPerWorker: undefined, workerConcurrency: 1 });
    expect(resolveConfig({ adapter: 'm:A', profile: 'thread' }).pools[0]!.threadsPerWorker).toBe(8);
  });

  it("passes the pool's spinUs, 0 included", () => {
    const resolved = locatedPool(resolveConfig({ adapter: 'm:A', spinUs: 0 }).pools[0]!);
    expect(workerEnv(resolved, 'r', 'w')['SNAKEPIT_SPIN_US']).toBe('0');
  });
});
