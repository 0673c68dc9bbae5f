// Chaos: recycling under load — memory past maxRssMb, maxRequests, ttlMs, recycleWorker(id). The replacement is
// ready before the old worker stops taking calls, so no call fails. No leftover process.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { InvalidArgumentsError, WorkerStartError, type SnakepitEvents } from '../../src/index.js';
import {
  bounded,
  expectAllOk,
  expectGone,
  expectNoLeftovers,
  FLAKY,
  load,
  startChaos,
  tempDir,
} from './chaos-helpers.js';
import { recordingLogger } from '../helpers.js';

type Recycled = SnakepitEvents['worker:recycled'];

describe('recycling', () => {
  it('keeps the old worker serving when its replacement cannot start', async () => {
    const marker = join(tempDir('flaky-recycle'), 'imported');
    // Cold starts: the replacement's own import is what fails (a template would fork the first import).
    const pit = await startChaos({ adapter: FLAKY, size: 1, env: { FLAKY_MARKER: marker }, template: false });
    try {
      const old = pit.workers()[0]!;
      const running = load(200, 4, () => pit.execute('sleep', { seconds: 0.002 }));
      const err = (await pit.recycleWorker(old.id).catch((e: unknown) => e)) as WorkerStartError;
      expect(err).toBeInstanceOf(WorkerStartError);
      expect(err.message).toMatch(/breaks after its first successful start/);
      expectAllOk(await bounded(running));
      expect(pit.workers().map((w) => [w.id, w.pid, w.state])).toEqual([[old.id, old.pid, 'ready']]);
      expect(pit.stats('default')).toMatchObject({ recycles: 0, errors: 0 });
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('replaces a worker whose memory grows past maxRssMb, with zero failed calls', async () => {
    const pit = await startChaos({ size: 2, recycle: { maxRssMb: 60, checkIntervalMs: 50 } });
    const recycled: Recycled[] = [];
    pit.on('worker:recycled', (e) => recycled.push(e));
    try {
      const pids = pit.workers().map((w) => w.pid!);
      // Each grow call keeps 4 MiB more: a worker passes 60 MiB after a dozen calls; keep going well past that.
      const outcomes = await bounded(
        load(240, 4, async (i) => {
          const rss = (await pit.execute(
            i % 2 ? 'grow' : 'echo',
            i % 2 ? { mb: 4 } : { value: i },
          )) as number;
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
          return rss;
        }),
      );
      expectAllOk(outcomes);
      // A recycle is reported once the old worker has stopped, which may be just after the last call.
      await expect.poll(() => recycled.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(recycled.every((r) => r.reason === 'max_rss' && (r.rssMb ?? 0) >= 60)).toBe(true);
      expect(pit.stats('default')).toMatchObject({ recycles: recycled.length, errors: 0, restarts: 0 });
      expect(pit.workers().length).toBeGreaterThanOrEqual(2);
      const gone = pids.filter((p) => !pit.workers().some((w) => w.pid === p));
      expect(gone.length).toBeGreaterThanOrEqual(1);
      await expectGone(gone);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('recycles on maxRequests under continuous load, with zero failed calls', async () => {
    const pit = await startChaos({ size: 2, recycle: { maxRequests: 150 } });
    const recycled: Recycled[] = [];
    const exits: Array<SnakepitEvents['worker:exited']> = [];
    pit.on('worker:recycled', (e) => recycled.push(e));
    pit.on('worker:exited', (e) => exits.push(e));
    try {
      const outcomes = await bounded(load(2_000, 16, (i) => pit.execute('slow_echo', { value: i })));
      expectAllOk(outcomes);
      expect(outcomes.map((o) => (o.ok ? o.value : undefined))).toEqual(
        Array.from({ length: 2_000 }, (_, i) => i),
      );
      expect(recycled.length).toBeGreaterThanOrEqual(3);
      expect(recycled.every((r) => r.reason === 'max_requests' && r.served >= 150)).toBe(true);
      expect(exits.every((e) => !e.crashed && e.kind === 'stopped')).toBe(true);
      expect(pit.stats('default')).toMatchObject({ errors: 0, restarts: 0 });
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('recycles by age (ttlMs) while serving', async () => {
    const pit = await startChaos({ size: 2, recycle: { ttlMs: 300, checkIntervalMs: 50 } });
    const recycled: Recycled[] = [];
    pit.on('worker:recycled', (e) => recycled.push(e));
    try {
      // Until two workers were renewed (a replacement takes a while to start on a loaded machine), at most 15 s.
      const deadline = Date.now() + 15_000;
      const outcomes = await bounded(
        load(1_000_000, 4, async () => {
          if (Date.now() > deadline || recycled.length >= 2) return -1;
          return (await pit.execute('sleep', { seconds: 0.002 })) as number;
        }),
      );
      expectAllOk(outcomes);
      expect(recycled.length).toBeGreaterThanOrEqual(2);
      expect(recycled.every((r) => r.reason === 'ttl' && r.uptimeMs >= 300)).toBe(true);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('close() in the middle of a recycle stops both workers and leaves nothing behind', async () => {
    const logger = recordingLogger();
    const pit = await startChaos({ size: 1, logger });
    const old = pit.workers()[0]!;
    const recycling = pit.recycleWorker(old.id).catch((e: unknown) => e);
    await pit.close();
    expect(await bounded(recycling)).toBeInstanceOf(WorkerStartError); // its replacement was stopped unstarted
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    await expectNoLeftovers(pit.runId);
  });

  it('recycleWorker(id): the replacement is ready before the old worker stops; no call fails', async () => {
    const pit = await startChaos({ size: 1 });
    const order: string[] = [];
    pit.on('worker:spawned', (e) => order.push(`spawned ${e.worker}`));
    pit.on('worker:exited', (e) => order.push(`exited ${e.worker}`));
    try {
      const old = pit.workers()[0]!;
      const running = load(400, 8, () => pit.execute('sleep', { seconds: 0.002 }));
      const slow = pit.execute('sleep', { seconds: 0.3 }); // in flight on the old worker when it drains
      await new Promise((r) => setTimeout(r, 50));
      await bounded(pit.recycleWorker(old.id));
      expect(pit.workers().map((w) => w.id)).toEqual(['default-2']);
      expect(order).toEqual(['spawned default-2', 'exited default-1']);
      expectAllOk(await bounded(running));
      expect(await slow).toBe(0.3);
      await expectGone([old.pid!]);
      await expect(pit.recycleWorker('default-1')).rejects.toBeInstanceOf(InvalidArgumentsError);
      await expect(pit.recycleWorker('nope')).rejects.toThrow(
        /no live worker has id "nope" \(workers: default-2\)/,
      );
      expect(pit.stats('default')).toMatchObject({ recycles: 1, errors: 0 });
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});
