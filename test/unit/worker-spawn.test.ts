// The environment a local worker starts with: our defaults, then the host's environment, then the pool's `env`.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { workerEnv } from '../../src/worker/worker-spawn.js';

const pool = (env?: Record<string, string>) =>
  resolveConfig({ adapter: 'm:A', ...(env ? { env } : {}) }).pools[0]!;

describe('workerEnv', () => {
  it('sets one BLAS thread and glibc heap thresholds by default, and says who the worker is', () => {
    const env = workerEnv(pool(), 'run-1', 'w-1');
    expect(env).toMatchObject({
      OMP_NUM_THREADS: '1',
      MALLOC_MMAP_THRESHOLD_: '4194304',
      MALLOC_TRIM_THRESHOLD_: '8388608',
      SNAKEPIT_RUN_ID: 'run-1',
      SNAKEPIT_WORKER_ID: 'w-1',
      SNAKEPIT_SPIN_US: '50',
      SNAKEPIT_HOST_PID: String(process.pid),
    });
  });

  it("lets the pool's env override every default", () => {
    const env = workerEnv(pool({ MALLOC_MMAP_THRESHOLD_: '131072', OMP_NUM_THREADS: '4' }), 'r', 'w');
    expect(env['MALLOC_MMAP_THRESHOLD_']).toBe('131072');
    expect(env['OMP_NUM_THREADS']).toBe('4');
  });

  it("passes the pool's spinUs, 0 included", () => {
    const resolved = resolveConfig({ adapter: 'm:A', spinUs: 0 }).pools[0]!;
    expect(workerEnv(resolved, 'r', 'w')['SNAKEPIT_SPIN_US']).toBe('0');
  });
});
