// The Ray backend beyond the transport conformance suite (which runs against Ray too): placement by resource on a
// two-node local cluster, an actor killed mid-call, a lost driver, nothing left after close() or a host SIGKILL,
// and the clear error when `ray` is missing. One two-node cluster serves the whole file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, WorkerCrashedError, WorkerStartError } from '../../src/index.js';
import { BRIDGE_PYTHONPATH, eventually, FIXTURES_PYTHONPATH } from '../helpers.js';
import {
  alive,
  clusterPids,
  driverPids,
  RAY_PROBE,
  rayAvailable,
  startLocalRay,
  type LocalRay,
  type Where,
} from '../ray-helpers.js';

const available = rayAvailable();
const run = available ? it : it.skip;
const NO_RAY = join(FIXTURES_PYTHONPATH, '..', 'python-no-ray');

describe('ray backend', () => {
  let ray: LocalRay;
  const pits: Snakepit[] = [];
  beforeAll(async () => {
    if (!available) return;
    // Two nodes on this machine, each with two `slot`s: four actors that each need a slot must use both nodes.
    ray = await startLocalRay(
      { numCpus: 1, resources: { slot: 2 } },
      [{ numCpus: 1, resources: { slot: 2 } }],
      {
        pythonPath: [BRIDGE_PYTHONPATH, FIXTURES_PYTHONPATH],
      },
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(pits.map((p) => p.close()));
    await ray?.stop();
  });

  const start = async (size: number, extra: Record<string, unknown> = {}): Promise<Snakepit> => {
    const pit = await Snakepit.start({
      adapter: RAY_PROBE,
      size,
      pythonPath: [FIXTURES_PYTHONPATH],
      logger: false,
      startupTimeoutMs: 60_000,
      restart: { initialBackoffMs: 50 },
      backend: {
        kind: 'ray',
        address: ray.address,
        shipBridge: false,
        resources: { num_cpus: 0.1, custom: { slot: 1 } },
      },
      ...extra,
    });
    pits.push(pit);
    return pit;
  };
  const whereAll = async (pit: Snakepit, workers: number): Promise<Where[]> => {
    const seen = new Map<number, Where>();
    for (let round = 0; seen.size < workers && round < 20; round++) {
      const answers = (await Promise.all(
        Array.from({ length: workers * 2 }, () => pit.execute('where', { seconds: 0.1 })),
      )) as Where[];
      for (const w of answers) seen.set(w.pid, w);
    }
    return [...seen.values()];
  };

  run(
    'places actors on both nodes by resource and serves a concurrent load; close() leaves nothing',
    async () => {
      const pit = await start(4);
      const load = await Promise.all(
        Array.from({ length: 200 }, (_, i) => pit.execute('echo', { value: i })),
      );
      expect(load).toEqual(Array.from({ length: 200 }, (_, i) => i));
      const where = await whereAll(pit, 4);
      expect(where).toHaveLength(4);
      expect(new Set(where.map((w) => w.node)).size).toBe(2); // two slots per node: two actors on each
      const drivers = driverPids(process.pid);
      expect(drivers).toHaveLength(1);
      await pit.close();
      // The driver, the actors' processes and their workers: all gone.
      const pids = [...drivers, ...where.map((w) => w.pid), ...where.map((w) => w.ppid)];
      await eventually(() => pids.every((pid) => !alive(pid)), 15_000, 'the pool’s processes to end');
    },
  );

  run('an actor whose process is killed mid-call fails that call typed and is replaced', async () => {
    const pit = await start(1);
    const [before] = await whereAll(pit, 1);
    const call = pit.execute('sleep', { seconds: 30 }).catch((e: unknown) => e);
    await eventually(() => pit.workers()[0]!.load > 0, 5_000, 'the call to run');
    await new Promise((r) => setTimeout(r, 200));
    process.kill(before!.ppid, 'SIGKILL'); // the actor's process, not the worker in it
    const err = (await call) as WorkerCrashedError;
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.message).toMatch(/actor/i);
    await eventually(() => !alive(before!.pid), 10_000, 'the dead actor’s worker to leave');
    const [after] = await whereAll(pit, 1);
    expect(after!.ppid).not.toBe(before!.ppid);
    expect(after!.actor).not.toBe(before!.actor);
    await pit.close();
  });

  run('a lost driver fails its calls typed, and the pool comes back through a new one', async () => {
    const pit = await start(1);
    const [driver] = driverPids(process.pid);
    const [before] = await whereAll(pit, 1);
    const call = pit.execute('sleep', { seconds: 30 }).catch((e: unknown) => e);
    await eventually(() => pit.workers()[0]!.load > 0, 5_000, 'the call to run');
    process.kill(driver!, 'SIGKILL');
    const err = (await call) as WorkerCrashedError;
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.kind).toBe('connection_lost');
    expect(err.message).toContain('Ray driver');
    expect(await pit.execute('echo', { value: 'back' }, { timeoutMs: 60_000 })).toBe('back');
    expect(driverPids(process.pid).filter((p) => p !== driver)).toHaveLength(1);
    // The dead driver's actor went with its job.
    await eventually(() => !alive(before!.pid) && !alive(before!.ppid), 15_000, 'the old actor to end');
    await pit.close();
  });

  run('a host killed with SIGKILL leaves no driver, actor or worker behind', async () => {
    const host = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(FIXTURES_PYTHONPATH, '..', 'hosts', 'ray-host.ts'),
        JSON.stringify({ address: ray.address, pythonPath: [FIXTURES_PYTHONPATH] }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const ready = await new Promise<{ workers: Where[]; drivers: number[] }>((resolve, reject) => {
        let err = '';
        host.stderr.on('data', (d: Buffer) => (err += d.toString()));
        host.once('exit', (code) => reject(new Error(`host exited ${code}: ${err}`)));
        createInterface({ input: host.stdout }).on('line', (line) => {
          const msg = JSON.parse(line) as { event: string; workers: Where[]; drivers: number[] };
          if (msg.event === 'ready') resolve(msg);
        });
      });
      expect(ready.drivers).toHaveLength(1);
      host.kill('SIGKILL');
      const pids = [
        ...ready.drivers,
        ...ready.workers.map((w) => w.pid),
        ...ready.workers.map((w) => w.ppid),
      ];
      await eventually(() => pids.every((pid) => !alive(pid)), 20_000, 'the dead host’s processes to end');
    } finally {
      if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
    }
  });

  run(
    'a pool that starts its own local Ray (address "local") ends that cluster on close()',
    async () => {
      const tempDir = mkdtempSync('/tmp/spl-'); // short: Ray's socket paths live under it
      try {
        const pit = await start(2, {
          backend: {
            kind: 'ray',
            address: 'local',
            shipBridge: false,
            resources: { num_cpus: 0.5 },
            init: {
              num_cpus: 1,
              object_store_memory: 80 * 1024 * 1024,
              include_dashboard: false,
              _temp_dir: tempDir,
            },
          },
        });
        // Several calls over a few seconds: the cluster must outlive the driver's start-up (it once did not).
        for (let i = 0; i < 5; i++) {
          expect(await pit.execute('echo', { value: i })).toBe(i);
          await new Promise((r) => setTimeout(r, 500));
        }
        const where = await whereAll(pit, 2);
        expect(where.every((w) => w.node !== null)).toBe(true);
        expect(clusterPids(tempDir).length).toBeGreaterThan(2); // its GCS, raylet, actors …
        await pit.close();
        await eventually(() => clusterPids(tempDir).length === 0, 15_000, 'the pool’s own cluster to end');
      } finally {
        rmSync(tempDir, { recursive: true, force: true });
      }
    },
    120_000,
  ); // a whole local Ray starts and stops here: slow on a loaded machine

  run(
    'no cluster at the address: start fails typed within startupTimeoutMs, naming the cluster',
    async () => {
      const before = new Set(driverPids(process.pid));
      const err = (await Snakepit.start({
        adapter: RAY_PROBE,
        size: 1,
        logger: false,
        startupTimeoutMs: 5_000,
        backend: { kind: 'ray', address: '127.0.0.1:9' },
      }).catch((e: unknown) => e)) as WorkerStartError;
      expect(err).toBeInstanceOf(WorkerStartError);
      expect(err.message).toMatch(/Ray cluster at 127\.0\.0\.1:9/);
      await eventually(
        () => driverPids(process.pid).every((p) => before.has(p)),
        10_000,
        'the driver to end',
      );
    },
  );

  run('without `ray` in the interpreter, start fails naming the package', async () => {
    const before = new Set(driverPids(process.pid));
    const err = (await Snakepit.start({
      adapter: RAY_PROBE,
      size: 1,
      pythonPath: [NO_RAY, FIXTURES_PYTHONPATH],
      logger: false,
      backend: { kind: 'ray', address: ray.address },
    }).catch((e: unknown) => e)) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toContain('`ray`');
    expect(err.message).toContain('pip install');
    await eventually(() => driverPids(process.pid).every((p) => before.has(p)), 10_000, 'the driver to end');
  });
});

describe('without a ray backend', () => {
  it('a pool starts no Ray driver and its workers do not import ray', async () => {
    const pit = await Snakepit.start({
      adapter: RAY_PROBE,
      size: 1,
      pythonPath: [FIXTURES_PYTHONPATH],
      logger: false,
    });
    try {
      expect(driverPids(process.pid)).toHaveLength(0);
      const where = (await pit.execute('where')) as Where;
      expect(where.node).toBeNull();
      expect(alive(where.pid)).toBe(true);
    } finally {
      await pit.close();
    }
  });
});
