// Chaos: workers that die under calls — kill -9, segfault, abort, sys.exit, a replacement that cannot import —
// and the crash barrier's retry rule. Each case: no lost or hung call, no leftover process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerCrashedError, WorkerStartError, type SnakepitEvents } from '../../src/index.js';
import {
  bounded,
  errorOf,
  expectAllOk,
  expectNoLeftovers,
  failures,
  FLAKY,
  load,
  poolBackToFull,
  settleAll,
  startChaos,
  tempDir,
} from './chaos-helpers.js';

function runsIn(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe('a worker killed with SIGKILL mid-call', () => {
  it('fails that call with WorkerCrashedError, serves the rest, and the pool gets back to full size', async () => {
    const pit = await startChaos({ size: 2 });
    try {
      const victim = pit.workers()[0]!;
      const doomed = pit.execute('sleep', { seconds: 30 }); // least-loaded: lands on the first worker
      await new Promise((r) => setTimeout(r, 150));
      const background = load(300, 4, (i) => pit.execute('echo', { value: i }));
      process.kill(victim.pid!, 'SIGKILL');
      const [outcome] = await settleAll([doomed]);
      expect(outcome!.ok).toBe(false);
      const err = errorOf<WorkerCrashedError>(outcome);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.signal).toBe('SIGKILL');
      expect(err.kind).toBe('killed');
      expect(err.pid).toBe(victim.pid);
      // The echo calls are not idempotent-marked, yet none was on the victim for long: any that were fail with
      // WorkerCrashedError, none hangs, and the rest succeed.
      const echoes = await bounded(background);
      for (const error of failures(echoes)) expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(echoes.filter((e) => e.ok).length).toBeGreaterThan(250);
      await poolBackToFull(pit, 2);
      expect(pit.workers().map((w) => w.pid)).not.toContain(victim.pid);
      expect(await pit.execute('echo', { value: 'after' })).toBe('after');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('a worker killed with calls still unread in its socket', () => {
  it('is reported as killed (not a protocol error), and the unread call runs on the replacement', async () => {
    const pit = await startChaos({ size: 1, heartbeat: false });
    const exits: Array<SnakepitEvents['worker:exited']> = [];
    const returned: Array<SnakepitEvents['call:returned']> = [];
    pit.on('worker:exited', (e) => exits.push(e));
    pit.on('call:returned', (e) => returned.push(e));
    try {
      const victim = pit.workers()[0]!;
      // Stopped, the worker reads nothing: the call written now stays in its socket, and its death resets it.
      process.kill(victim.pid!, 'SIGSTOP');
      const stuck = pit.execute('echo', { value: 1 }); // written to the stopped worker, never read
      await new Promise((r) => setTimeout(r, 100));
      process.kill(victim.pid!, 'SIGKILL');
      // It never began (the worker's ledger says so), so it is not lost: it runs on the replacement.
      const [outcome] = await settleAll([stuck]);
      expect(outcome).toEqual({ ok: true, value: 1 });
      expect(returned).toMatchObject([{ tool: 'echo', worker: victim.id, reason: 'not_begun' }]);
      expect(exits).toMatchObject([{ worker: victim.id, kind: 'killed' }]);
      expect(exits[0]!.reason ?? '').not.toMatch(/protocol/i);
      await poolBackToFull(pit, 1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('a crash in native code', () => {
  it.each([
    ['segfault', 'SIGSEGV'],
    ['abort', 'SIGABRT'],
  ])(
    '%s: the call fails with the crash signal, classified crash_signal; the pool heals',
    async (tool, signal) => {
      const pit = await startChaos({ size: 1 });
      const exits: Array<SnakepitEvents['worker:exited']> = [];
      pit.on('worker:exited', (e) => exits.push(e));
      try {
        const [outcome] = await settleAll([pit.execute(tool)]);
        const err = errorOf<WorkerCrashedError>(outcome);
        expect(err).toBeInstanceOf(WorkerCrashedError);
        expect(err.signal).toBe(signal);
        expect(err.kind).toBe('crash_signal');
        expect(exits).toMatchObject([{ crashed: true, kind: 'crash_signal', signal }]);
        await poolBackToFull(pit, 1);
        expect(await pit.execute('echo', { value: 1 })).toBe(1);
      } finally {
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    },
  );
});

describe('sys.exit() inside a tool', () => {
  it.each([
    [0, 'clean_exit'],
    [3, 'error_exit'],
  ])(
    'sys.exit(%i): the call fails with that exit code (%s) and a replacement serves the next',
    async (code, kind) => {
      const pit = await startChaos({ size: 1 });
      try {
        const [outcome] = await settleAll([pit.execute('exit', { code })]);
        const err = errorOf<WorkerCrashedError>(outcome);
        expect(err).toBeInstanceOf(WorkerCrashedError);
        expect(err.exitCode).toBe(code);
        expect(err.kind).toBe(kind);
        expect(await pit.execute('echo', { value: 'next' })).toBe('next');
      } finally {
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    },
  );
});

describe('a worker that exits at import after one successful start', () => {
  it('is retried with back-off, then reported (pool:degraded) and still retried; calls fail fast meanwhile', async () => {
    const marker = join(tempDir('flaky'), 'imported');
    const pit = await startChaos({
      adapter: FLAKY,
      size: 1,
      env: { FLAKY_MARKER: marker },
      restart: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 },
      template: false, // cold starts: each replacement imports the adapter, which is what fails
    });
    const degraded: Array<SnakepitEvents['pool:degraded']> = [];
    pit.on('pool:degraded', (e) => degraded.push(e));
    try {
      const pid = (await pit.execute('pid')) as number;
      const inFlight = pit.execute('sleep', { seconds: 30 });
      await new Promise((r) => setTimeout(r, 100));
      const queued = pit.execute('pid'); // waits for the replacement that will never come
      process.kill(pid, 'SIGKILL');
      const [first, second] = await settleAll([inFlight, queued], 15_000);
      expect(errorOf(first)).toBeInstanceOf(WorkerCrashedError);
      const queuedErr = errorOf<WorkerStartError>(second);
      expect(queuedErr).toBeInstanceOf(WorkerStartError);
      expect(queuedErr.message).toMatch(/breaks after its first successful start/);
      await expect.poll(() => degraded.length, { timeout: 10_000 }).toBe(1);
      expect(degraded[0]!.workers).toBe(0);
      await expect
        .poll(() => pit.stats('default'), { timeout: 5_000 })
        .toMatchObject({ degraded: true, workers: 0 });
      // A degraded pool with no worker answers at once.
      const t0 = performance.now();
      const err = (await pit.execute('pid').catch((e: unknown) => e)) as WorkerStartError;
      expect(err).toBeInstanceOf(WorkerStartError);
      expect(err.message).toMatch(/is degraded: \d+ worker start\(s\) failed in a row.*keeps trying/);
      expect(performance.now() - t0).toBeLessThan(1_000);
      // It did not give up: attempts go on past maxAttempts, at most maxBackoffMs apart.
      await expect.poll(() => pit.stats('default').restartFailures, { timeout: 5_000 }).toBeGreaterThan(4);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('the crash barrier', () => {
  it('retries an idempotent call on the replacement, and it succeeds', async () => {
    const count = join(tempDir('retry'), 'runs');
    const pit = await startChaos({ size: 1 });
    const retried: Array<SnakepitEvents['call:retried']> = [];
    pit.on('call:retried', (e) => retried.push(e));
    try {
      const [outcome] = await settleAll([pit.execute('crash_once', { path: count }, { idempotent: true })]);
      expect(outcome).toEqual({ ok: true, value: 2 });
      expect(runsIn(count)).toBe(2);
      expect(retried).toMatchObject([{ tool: 'crash_once', attempt: 2, kind: 'killed' }]);
      expect(pit.stats('default')).toMatchObject({ retries: 1, restarts: 1 });
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('never retries a call that was not marked idempotent', async () => {
    const count = join(tempDir('noretry'), 'runs');
    const pit = await startChaos({ size: 2, maxRetries: 3 });
    try {
      const [outcome] = await settleAll([pit.execute('crash_once', { path: count })]);
      expect(errorOf(outcome)).toBeInstanceOf(WorkerCrashedError);
      await poolBackToFull(pit, 2);
      expect(runsIn(count)).toBe(1);
      expect(pit.stats('default').retries).toBe(0);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('stops after maxRetries: a call that always kills its worker runs 1 + maxRetries times', async () => {
    const count = join(tempDir('maxretry'), 'runs');
    const pit = await startChaos({ size: 2, maxRetries: 2 });
    try {
      const [outcome] = await settleAll([pit.execute('crash_always', { path: count }, { idempotent: true })]);
      const err = errorOf<WorkerCrashedError>(outcome);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(runsIn(count)).toBe(3);
      // Other calls were never in danger.
      expectAllOk(await load(50, 4, (i) => pit.execute('echo', { value: i })));
      await poolBackToFull(pit, 2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('retries idempotent calls caught in a crash under load; none is lost', async () => {
    const pit = await startChaos({ size: 2, maxRetries: 2 });
    try {
      const pids = pit.workers().map((w) => w.pid!);
      const running = load(600, 16, () => pit.execute('sleep', { seconds: 0.004 }, { idempotent: true }));
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pids[0]!, 'SIGKILL');
      const outcomes = await bounded(running);
      expectAllOk(outcomes);
      expect(outcomes).toHaveLength(600);
      // The call running on the victim is retried (idempotent); calls it had not begun are returned, run elsewhere.
      const { retries, returned } = pit.stats('default');
      expect(retries + returned).toBeGreaterThan(0);
      await poolBackToFull(pit, 2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});
