// Start-up failures, crashes, queue limits and shutdown, with real processes.
import { describe, expect, it } from 'vitest';
import {
  PoolClosedError,
  PoolSaturatedError,
  QueueTimeoutError,
  SerializationError,
  Snakepit,
  WorkerCrashedError,
  WorkerStartError,
} from '../../src/index.js';
import {
  alive,
  eventually,
  FIXTURES_PYTHONPATH,
  processesMatching,
  recordingLogger,
  start,
} from '../helpers.js';

const MISBEHAVING = 'snakepit_fixtures.misbehaving:MisbehavingAdapter';

describe('start-up', () => {
  it('rejects with the import traceback and a fix, logs the traceback once, and leaves no process', async () => {
    const logger = recordingLogger();
    const err = (await start({
      adapter: 'snakepit_fixtures.broken_import:BrokenAdapter',
      size: 3,
      logger,
    }).catch((e: unknown) => e)) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.pythonType).toBe('ModuleNotFoundError');
    expect(err.phase).toBe('import');
    expect(err.traceback).toContain('snakepit_fixtures_missing_dependency');
    expect(err.message).toContain('snakepit_fixtures.broken_import');
    expect(err.fix).toMatch(
      /^the adapter imports "snakepit_fixtures_missing_dependency", which the workers' Python \(.+\) does not have: install it there, e\.g\. `npx snakepit setup snakepit_fixtures_missing_dependency`/,
    );
    expect(err.message).toContain(`\n  fix: ${err.fix}`);
    // Three workers failed the same way; the log has the traceback once (and no worker's stderr repeats it).
    const tracebacks = logger.lines.filter((l) => l.msg.includes('Traceback (most recent call last)'));
    expect(tracebacks.length).toBe(1);
    expect(tracebacks[0]!.level).toBe('error');
    await eventually(
      () => processesMatching('snakepit_fixtures.broken_import').length === 0,
      3000,
      'workers to exit',
    );
  });

  it('rejects when initialize() raises', async () => {
    const err = (await start({ adapter: 'snakepit_fixtures.misbehaving:FailingInitAdapter' }).catch(
      (e: unknown) => e,
    )) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.phase).toBe('initialize');
    expect(err.message).toContain('weights file missing');
    expect(err.fix).toMatch(/^the adapter's initialize\(\) raised "\w+": fix what the traceback points at/);
  });

  it('rejects with a clear error when the adapter class does not exist', async () => {
    const err = (await start({ adapter: 'snakepit_bridge.adapters.showcase:NoSuchAdapter' }).catch(
      (e: unknown) => e,
    )) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toContain('NoSuchAdapter');
    expect(err.fix).toBe(
      'the module "snakepit_bridge.adapters.showcase" has no class "NoSuchAdapter": check the name after ":" in adapter',
    );
    // A module Python cannot find at all: pythonPath is the fix.
    const lost = (await start({ adapter: 'my_tools_nowhere:Tools' }).catch(
      (e: unknown) => e,
    )) as WorkerStartError;
    expect(lost.fix).toMatch(/^Python cannot find the adapter's module "my_tools_nowhere": put the folder/);
  });

  it('starts several workers concurrently', async () => {
    const t0 = performance.now();
    const pit = await start({ size: 4 });
    const elapsed = performance.now() - t0;
    try {
      expect(pit.workers().map((w) => w.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
      expect(new Set(pit.workers().map((w) => w.pid)).size).toBe(4);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await pit.close();
    }
  });
});

describe('a misbehaving worker', () => {
  it('prints to stdout and stderr without harming the protocol; the lines reach the logger', async () => {
    const logger = recordingLogger();
    const pit = await start({ adapter: MISBEHAVING, logger });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => pit.execute('noisy', { n: 3 })));
      expect(results).toEqual(Array(20).fill(3));
      await eventually(() => logger.lines.some((l) => l.msg.includes('stderr line 2')), 2000, 'stderr lines');
      const out = logger.lines.find((l) => l.msg === 'stdout line 0');
      expect(out?.fields).toMatchObject({ pool: 'default', worker: 'default-1', stream: 'stdout' });
    } finally {
      await pit.close();
    }
  });

  it('reports a result that cannot be encoded with the path to it, and keeps serving', async () => {
    const pit = await start({ adapter: MISBEHAVING });
    try {
      const err = (await pit.execute('unencodable').catch((e: unknown) => e)) as SerializationError;
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.path).toMatch(/bad.*\[1\].*sock/);
      expect(err.valueType).toContain('socket');
      expect(typeof (await pit.execute('pid'))).toBe('number');
    } finally {
      await pit.close();
    }
  });

  it('killed mid-call fails the call with WorkerCrashedError and is replaced', async () => {
    const pit = await start({ adapter: MISBEHAVING });
    try {
      const pid = (await pit.execute('pid')) as number;
      const pending = pit.execute('sleep', { seconds: 30 });
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid, 'SIGKILL');
      const err = (await pending.catch((e: unknown) => e)) as WorkerCrashedError;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.signal).toBe('SIGKILL');
      expect(err.pid).toBe(pid);
      // The pool heals: a new worker serves the next call.
      const next = (await pit.execute('pid')) as number;
      expect(next).not.toBe(pid);
      expect(pit.stats('default').restarts).toBe(1);
    } finally {
      await pit.close();
    }
  });

  it('exiting inside a tool fails that call with the exit code', async () => {
    const pit = await start({ adapter: MISBEHAVING });
    try {
      const err = (await pit.execute('exit_now', { code: 7 }).catch((e: unknown) => e)) as WorkerCrashedError;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.exitCode).toBe(7);
    } finally {
      await pit.close();
    }
  });
});

describe('the queue', () => {
  it('refuses a call when queue.max calls are already waiting', async () => {
    const pit = await start({ size: 1, queue: { max: 2 } });
    try {
      const busy = pit.execute('sleep', { seconds: 0.5 });
      const queued = [pit.execute('ping'), pit.execute('ping')];
      await expect(pit.execute('ping')).rejects.toBeInstanceOf(PoolSaturatedError);
      await Promise.all([busy, ...queued]);
      expect(pit.stats('default').saturations).toBe(1);
    } finally {
      await pit.close();
    }
  });

  it('times out a call that waited longer than queue.timeoutMs', async () => {
    const pit = await start({ size: 1, queue: { timeoutMs: 100 } });
    try {
      const busy = pit.execute('sleep', { seconds: 0.6 });
      await expect(pit.execute('ping')).rejects.toBeInstanceOf(QueueTimeoutError);
      await busy;
      expect(await pit.execute('ping')).toMatchObject({ status: 'ok' });
    } finally {
      await pit.close();
    }
  });
});

describe('shutdown', () => {
  it('drains in-flight calls, then leaves no Python process behind', async () => {
    const pit = await start({ size: 2 });
    const pids = pit.workers().map((w) => w.pid!);
    expect(pids.every(alive)).toBe(true);
    const inflight = pit.execute('sleep', { seconds: 0.3 });
    await pit.close();
    expect(await inflight).toBe(0.3);
    expect(pids.filter(alive)).toEqual([]);
    await expect(pit.execute('ping')).rejects.toBeInstanceOf(PoolClosedError);
    await pit.close(); // idempotent
  });

  it('fails calls still running when the close timeout passes', async () => {
    const pit = await start({ size: 1, closeTimeoutMs: 200 });
    const pid = pit.workers()[0]!.pid!;
    const stuck = pit.execute('sleep', { seconds: 30 }).catch((e: unknown) => e);
    await pit.close();
    expect(await stuck).toBeInstanceOf(PoolClosedError);
    expect(alive(pid)).toBe(false);
  });

  it('supports `await using` and runAsScript', async () => {
    let pid = 0;
    {
      await using pit = await start({});
      pid = pit.workers()[0]!.pid!;
      expect(await pit.execute('add', { a: 1, b: 1 })).toBe(2);
    }
    expect(alive(pid)).toBe(false);

    const result = await Snakepit.runAsScript(
      {
        adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
        size: 1,
        logger: false,
        pythonPath: [FIXTURES_PYTHONPATH],
      },
      async (pit) => {
        pid = pit.workers()[0]!.pid!;
        return pit.execute('add', { a: 2, b: 2 });
      },
    );
    expect(result).toBe(4);
    expect(alive(pid)).toBe(false);
  });
});
