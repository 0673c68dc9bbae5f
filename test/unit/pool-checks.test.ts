// pit.doctor()'s per-pool check (src/doctor/pool-checks.ts): what it says of a pool from its stats.
import { describe, expect, it } from 'vitest';
import { poolCheck, poolsReport } from '../../src/doctor/pool-checks.js';
import { fakePoolStats as stats } from '../fake-pool-stats.js';

const degraded = { state: 'degraded', degraded: true, restartFailures: 3, lastStartError: 'boom' } as const;

describe('poolCheck', () => {
  it('a full running pool is ok', () => {
    expect(poolCheck(stats({ size: 2, workers: 2, available: 2 })).status).toBe('ok');
  });

  it('a degraded pool with no ready worker fails, even while its back-off is starting one', () => {
    // `workers` counts the worker being started right now; it may fail like the others
    const check = poolCheck(stats({ ...degraded, size: 2, workers: 1, available: 0, busy: 0 }));
    expect(check.status).toBe('fail');
    expect(check.message).toMatch(/0 of 2 workers ready.*fail at once/);
    expect(check.details).toEqual(['boom']);
    expect(poolsReport([stats(), stats({ ...degraded, workers: 1, available: 0 })]).ok).toBe(false);
  });

  it('a degraded pool that still has a ready worker warns', () => {
    expect(poolCheck(stats({ ...degraded, size: 2, workers: 1, available: 0, busy: 1 })).status).toBe('warn');
  });
});
