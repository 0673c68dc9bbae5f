// A pool's first cold worker is spawned before the host builds its pools (src/worker/early-worker.ts): the
// handle takes that process over, and one no handle takes — a start that fails or stops first — is killed.
// Real Python workers throughout.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SnakepitConfig } from '../../src/config/config-types.js';
import { locateConfig } from '../../src/config/locate-config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { PythonEnvError, WorkerStartError } from '../../src/errors/errors.js';
import { Pool } from '../../src/pool/pool.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { silentLogger } from '../../src/util/logger.js';
import { EarlyWorker, firstWorkerSpawnsCold } from '../../src/worker/early-worker.js';
import { alive, eventually, FIXTURES_PYTHONPATH, SHOWCASE, start } from '../helpers.js';

async function poolConfig(extra: Partial<SnakepitConfig> = {}) {
  const config = await locateConfig(
    resolveConfig({
      adapter: SHOWCASE,
      size: 1,
      template: false,
      logger: false,
      pythonPath: [FIXTURES_PYTHONPATH],
      ...extra,
    } as SnakepitConfig),
  );
  return config.pools[0]!;
}

function newPool(config: Awaited<ReturnType<typeof poolConfig>>, early: EarlyWorker | undefined): Pool {
  return new Pool(config, {
    logger: silentLogger,
    events: new EventBus(() => undefined),
    runId: 'early-test',
    onHostCall: () => undefined,
    early,
  });
}

const spawned: EarlyWorker[] = [];
function track(early: EarlyWorker | undefined): EarlyWorker {
  expect(early).toBeDefined();
  spawned.push(early!);
  return early!;
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const early of spawned.splice(0)) early.process.signal('SIGKILL');
});

/** Spy on EarlyWorker.spawn (it still spawns) and collect what it made, to check each was taken or killed. */
function recordEarlySpawns(): EarlyWorker[] {
  const made: EarlyWorker[] = [];
  const spawn = EarlyWorker.spawn.bind(EarlyWorker);
  vi.spyOn(EarlyWorker, 'spawn').mockImplementation((config, runId) => {
    const early = spawn(config, runId);
    if (early) made.push(early);
    return early;
  });
  return made;
}

describe('the first cold worker, spawned early', () => {
  it('is taken over by its handle: the pool serves from that very process', async () => {
    const config = await poolConfig();
    const early = track(EarlyWorker.spawn(config, 'early-test'));
    const pool = newPool(config, early);
    try {
      await pool.start();
      expect(early.taken).toBe(true);
      expect(pool.workers().map((w) => [w.id, w.pid])).toEqual([[early.id, early.process.pid]]);
    } finally {
      await pool.destroy();
    }
  });

  it('is killed when the pool is closed before it starts', async () => {
    const config = await poolConfig();
    const early = track(EarlyWorker.spawn(config, 'early-test'));
    const pool = newPool(config, early);
    await pool.destroy();
    await expect(early.process.exited).resolves.toMatchObject({ signal: 'SIGKILL' });
    expect(early.taken).toBe(false);
  });

  it('is killed, with no unhandled rejection, when the host fails to build itself after the spawn', async () => {
    const registryDir = mkdtempSync(join(tmpdir(), 'snakepit-early-'));
    const made = recordEarlySpawns();
    // Telemetry.forPool runs in the Snakepit constructor, after the early spawn
    vi.spyOn(Telemetry.prototype, 'forPool').mockImplementation(() => {
      throw new Error('constructor failure after the spawn');
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(start({ template: false, registryDir })).rejects.toThrow(
        'constructor failure after the spawn',
      );
      expect(made).toHaveLength(1);
      spawned.push(...made);
      await eventually(() => !alive(made[0]!.process.pid!), 5_000, 'the early worker to be killed');
      expect(made[0]!.process.exitInfo).toMatchObject({ signal: 'SIGKILL' });
      expect(readdirSync(registryDir)).toEqual([]); // the run's record is removed too
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a missing interpreter, found missing while the sweep and the run record were made, leaves no record', async () => {
    // locateConfig runs beside the sweep and the run's record (Snakepit.start): its failure removes the record
    const registryDir = mkdtempSync(join(tmpdir(), 'snakepit-early-'));
    const spawn = vi.spyOn(EarlyWorker, 'spawn');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(
        start({ template: false, registryDir, python: { executable: '/nonexistent/python3' } }),
      ).rejects.toBeInstanceOf(PythonEnvError);
      expect(spawn).not.toHaveBeenCalled();
      expect(readdirSync(registryDir)).toEqual([]);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a broken adapter still fails the start with WorkerStartError, leaving nothing running', async () => {
    const made = recordEarlySpawns();
    await expect(start({ template: false, adapter: 'no_such_module_here:Nope' })).rejects.toBeInstanceOf(
      WorkerStartError,
    );
    expect(made).toHaveLength(1); // the failure came from the early process
    spawned.push(...made);
    await eventually(() => !alive(made[0]!.process.pid!));
  });

  it('is used only where the first worker is a cold local Python process', async () => {
    expect(firstWorkerSpawnsCold(await poolConfig())).toBe(true);
    expect(firstWorkerSpawnsCold(await poolConfig({ template: true }))).toBe(false);
    expect(firstWorkerSpawnsCold({ ...(await poolConfig()), size: 0 })).toBe(false); // a gRPC pool's default
    expect(firstWorkerSpawnsCold({ ...(await poolConfig()), command: ['python3', 'worker.py'] })).toBe(false);
  });
});
