// Chaos: pools that heal, and a start that is not held hostage by one broken pool. A degraded pool keeps trying
// with capped back-off and recovers once the cause is fixed (`pool:recovered`), or at once on `pit.resume`; its
// state shows in stats and `pit.doctor()`. `startPolicy: "available"` starts the pools that can start and reports
// the others; large pools start in batches.
import diagnosticsChannel from 'node:diagnostics_channel';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  channelName,
  type RestartConfig,
  Snakepit,
  type SnakepitConfig,
  type SnakepitEvents,
  WorkerStartError,
} from '../../src/index.js';
import { FIXTURES_PYTHONPATH, SHOWCASE } from '../helpers.js';
import { processesMatching } from '../helpers.js';
import { expectNoLeftovers, poolBackToFull, startChaos, tempDir } from './chaos-helpers.js';

const GATED = 'snakepit_fixtures.gated:GatedAdapter';

function twoPools(gate: string, extra: Partial<SnakepitConfig> = {}): SnakepitConfig {
  return {
    logger: false,
    pools: [
      { name: 'healthy', adapter: SHOWCASE, size: 1, pythonPath: [FIXTURES_PYTHONPATH] },
      {
        name: 'broken',
        adapter: GATED,
        size: 2,
        pythonPath: [FIXTURES_PYTHONPATH],
        env: { GATE_FILE: gate },
        restart: { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 300 },
        template: false, // each start imports the adapter: that import is what breaks and heals here
      },
    ],
    ...extra,
  } as SnakepitConfig;
}

/** One worker of the gated adapter, its dependency there for now (remove `gate` to break it). */
async function startGated(restart: RestartConfig): Promise<{ gate: string; pit: Snakepit }> {
  const gate = join(tempDir('gate'), 'dependency');
  writeFileSync(gate, 'installed');
  // Cold starts: each start imports the adapter, which is what breaks (a template would fork the old import).
  return {
    gate,
    pit: await startChaos({ adapter: GATED, size: 1, env: { GATE_FILE: gate }, restart, template: false }),
  };
}

describe('a degraded pool heals', () => {
  it('degraded → fixed → recovered, on its own (capped back-off), with its state in stats, events and doctor', async () => {
    const { gate, pit } = await startGated({ maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 200 });
    const degraded: Array<SnakepitEvents['pool:degraded']> = [];
    const recovered: Array<SnakepitEvents['pool:recovered']> = [];
    pit.on('pool:degraded', (e) => degraded.push(e));
    pit.on('pool:recovered', (e) => recovered.push(e));
    try {
      rmSync(gate); // the dependency goes missing…
      process.kill((await pit.execute('pid')) as number, 'SIGKILL'); // …and the worker dies
      await expect.poll(() => degraded.length, { timeout: 10_000 }).toBe(1);
      expect(degraded[0]!.error.message).toMatch(/is degraded: .*keeps trying/);
      await expect
        .poll(() => pit.stats('default'), { timeout: 5_000 })
        .toMatchObject({ state: 'degraded', degraded: true, workers: 0 });
      const stats = pit.stats('default');
      expect(stats.restartFailures).toBeGreaterThanOrEqual(3);
      expect(stats.lastStartError).toMatch(/a dependency is missing/);
      expect(pit.doctor()).toMatchObject({ ok: false, checks: [{ id: 'pool:default', status: 'fail' }] });
      const failing = (await pit.execute('pid').catch((e: unknown) => e)) as WorkerStartError;
      expect(failing).toBeInstanceOf(WorkerStartError); // at once, with the cause
      expect(failing.message).toMatch(/a dependency is missing/);
      writeFileSync(gate, 'installed again'); // fixed: the next attempt (≤ maxBackoffMs) starts a worker
      await expect.poll(() => recovered.length, { timeout: 10_000 }).toBe(1);
      expect(recovered[0]).toMatchObject({ pool: 'default', workers: 1 });
      expect(recovered[0]!.degradedMs).toBeGreaterThan(0);
      expect(pit.stats('default')).toMatchObject({ state: 'running', degraded: false, workers: 1 });
      expect(pit.doctor()).toMatchObject({ ok: true, checks: [{ id: 'pool:default', status: 'ok' }] });
      expect(typeof (await pit.execute('pid'))).toBe('number');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('pit.resume(pool) tries at once, without waiting out the back-off', async () => {
    const { gate, pit } = await startGated({
      maxAttempts: 1,
      initialBackoffMs: 60_000,
      maxBackoffMs: 60_000,
    });
    const recovered: Array<SnakepitEvents['pool:recovered']> = [];
    pit.on('pool:recovered', (e) => recovered.push(e));
    try {
      rmSync(gate);
      const pid = (await pit.execute('pid')) as number;
      await new Promise((r) => setTimeout(r, 1_100)); // up long enough to count as healthy: replaced at once
      process.kill(pid, 'SIGKILL');
      await expect.poll(() => pit.stats('default').state, { timeout: 10_000 }).toBe('degraded');
      expect(pit.stats('default').nextRestartInMs).toBeGreaterThan(10_000);
      await expect(pit.resume('default')).rejects.toBeInstanceOf(WorkerStartError); // still broken
      writeFileSync(gate, 'installed again');
      const t0 = performance.now();
      await pit.resume('default');
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(recovered).toHaveLength(1);
      expect(typeof (await pit.execute('pid'))).toBe('number');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('one broken pool and one healthy pool', () => {
  it('startPolicy "available": the healthy pool serves; the broken one is reported, fails fast, and heals', async () => {
    const gate = join(tempDir('gate'), 'dependency');
    const pit = await Snakepit.start(twoPools(gate, { startPolicy: 'available' }));
    try {
      expect(await pit.execute('add', { a: 1, b: 2 }, { pool: 'healthy' })).toBe(3);
      // No worker of it is ready (`workers` would also count one its back-off is starting right now).
      expect(pit.stats('broken')).toMatchObject({ state: 'degraded', available: 0, busy: 0, size: 2 });
      expect(pit.stats('broken').lastStartError).toMatch(/a dependency is missing/);
      const report = pit.doctor();
      expect(report.ok).toBe(false);
      expect(report.checks.map((c) => [c.id, c.status])).toEqual([
        ['pool:healthy', 'ok'],
        ['pool:broken', 'fail'],
      ]);
      await expect(pit.execute('pid', {}, { pool: 'broken' })).rejects.toBeInstanceOf(WorkerStartError);
      writeFileSync(gate, 'installed');
      await expect.poll(() => pit.stats('broken').state, { timeout: 10_000 }).toBe('running');
      await poolBackToFull(pit, 3);
      expect(typeof (await pit.execute('pid', {}, { pool: 'broken' }))).toBe('number');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it("startPolicy 'all' (the default): start rejects with the broken pool's error and leaves nothing running", async () => {
    const gate = join(tempDir('gate'), 'dependency');
    const before = processesMatching('snakepit_bridge', GATED).length;
    const err = (await Snakepit.start(twoPools(gate)).catch((e: unknown) => e)) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.traceback).toMatch(/a dependency is missing/);
    expect(processesMatching('snakepit_bridge', GATED).length).toBe(before);
    expect(processesMatching('snakepit_bridge', SHOWCASE, `--pool healthy`).length).toBe(0);
  });

  it('startPolicy "available" with nothing that can start still rejects', async () => {
    const gate = join(tempDir('gate'), 'dependency');
    const config = twoPools(gate, { startPolicy: 'available' });
    config.pools = config.pools!.slice(1);
    await expect(Snakepit.start(config)).rejects.toBeInstanceOf(WorkerStartError);
  });
});

describe('a large pool starts in batches', () => {
  it('never has more than startupBatchSize workers starting at once', async () => {
    // diagnostics_channel sees the events of a start, before `start` returns a Snakepit to listen on.
    const starting = new Set<string>();
    let most = 0;
    const onSpawned = (e: unknown): void => {
      starting.add((e as SnakepitEvents['worker:spawned']).worker);
      most = Math.max(most, starting.size);
    };
    const onReady = (e: unknown): void => void starting.delete((e as SnakepitEvents['worker:ready']).worker);
    diagnosticsChannel.subscribe(channelName('worker:spawned'), onSpawned);
    diagnosticsChannel.subscribe(channelName('worker:ready'), onReady);
    try {
      const pit = await startChaos({ size: 9, startupBatchSize: 4 });
      try {
        expect(pit.workers().filter((w) => w.state === 'ready')).toHaveLength(9);
        expect(most).toBe(4);
      } finally {
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    } finally {
      diagnosticsChannel.unsubscribe(channelName('worker:spawned'), onSpawned);
      diagnosticsChannel.unsubscribe(channelName('worker:ready'), onReady);
    }
  });
});
