// Chaos: sessions through recycling and crashes. A planned recycle moves a session's Python state to the
// replacement, so every call succeeds and the state is kept, in every affinity mode; what cannot move (it does not
// pickle) is reported once, naming it. A crash loses the state: a strict_queue session gets one SessionLostError
// and carries on, strict_fail_fast keeps failing until the session is deleted, hint never fails a call.
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentsError,
  type PyRef,
  SessionLostError,
  type Snakepit,
  type SnakepitEvents,
  WorkerBusyError,
} from '../../src/index.js';
import { errorOf, expectNoLeftovers, poolBackToFull, settleAll, startChaos } from './chaos-helpers.js';

const STATEFUL = 'snakepit_fixtures.stateful:StatefulAdapter';
type Bump = { count: number; pid: number; worker: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function workerOf(pit: Snakepit, session: string): Promise<{ id: string; pid: number }> {
  const id = pit.sessions.get(session)!.workers['default']!;
  return { id, pid: pit.workers().find((w) => w.id === id)!.pid! };
}

describe('a live session through recycling (recycle.maxRequests: 3)', () => {
  it.each(['strict_queue', 'strict_fail_fast', 'hint'] as const)(
    '%s: every call succeeds and the session keeps its state on each new worker',
    async (affinity) => {
      const pit = await startChaos({ adapter: STATEFUL, size: 2, affinity, recycle: { maxRequests: 3 } });
      const handoffs: Array<SnakepitEvents['session:handoff']> = [];
      pit.on('session:handoff', (e) => handoffs.push(e));
      try {
        // Until the session has moved twice (a replacement takes a moment to start on a loaded machine).
        const counts: number[] = [];
        const workers = new Set<string>();
        for (let i = 0; i < 200 && handoffs.length < 2; i++) {
          const r = await pit.executeInSession<Bump>('user-1', 'bump');
          counts.push(r.count);
          workers.add(r.worker);
          await sleep(100);
        }
        expect(counts).toEqual(Array.from({ length: counts.length }, (_, i) => i + 1));
        expect(handoffs.length).toBe(2);
        expect(workers.size).toBeGreaterThanOrEqual(2);
        expect(handoffs.every((h) => h.session === 'user-1' && h.values === 1 && h.lost.length === 0)).toBe(
          true,
        );
        expect((await pit.executeInSession<Bump>('user-1', 'bump')).count).toBe(counts.length + 1);
        expect(pit.stats('default')).toMatchObject({ errors: 0, restarts: 0 });
      } finally {
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    },
  );

  it('calls made while the state moves wait for it, then run on the replacement (concurrent load)', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 2, recycle: { maxRequests: 20 } });
    try {
      // Four sessions, calls in flight all the time: recycles happen under them, until two have.
      const outcomes = await settleAll(
        ['a', 'b', 'c', 'd'].map(async (s) => {
          const seen: number[] = [];
          while (pit.stats('default').recycles < 2 && seen.length < 5_000) {
            seen.push((await pit.executeInSession<Bump>(s, 'bump')).count);
          }
          return seen;
        }),
        60_000,
      );
      for (const o of outcomes) {
        expect(o.ok).toBe(true);
        if (o.ok) expect(o.value).toEqual(Array.from({ length: o.value.length }, (_, i) => i + 1));
      }
      expect(pit.stats('default').recycles).toBeGreaterThanOrEqual(2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('what cannot move with a recycled session', () => {
  it('strict_queue: reported once, naming it, by a SessionLostError; what pickles moved, references included', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 1 });
    try {
      await pit.executeInSession('s', 'remember', { key: 'config', value: { depth: 3 } });
      await pit.executeInSession('s', 'remember_lock', { key: 'lock' });
      const model = await pit.executeInSession<PyRef>('s', 'make_model', { name: 'alpha', weight: 2 });
      const lock = await pit.executeInSession<PyRef>('s', 'make_lock_ref');
      const old = await workerOf(pit, 's');
      await pit.recycleWorker(old.id);
      const first = await pit.executeInSession('s', 'recall', { key: 'config' }).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(SessionLostError);
      const err = first as SessionLostError;
      expect(err.lost.map((l) => [l.kind, l.name])).toEqual([
        ['value', "'lock'"],
        ['ref', lock.id],
      ]);
      expect(err.message).toMatch(/ctx\.store\['lock'\] \(lock: .*pickle/);
      // Reported once: the session carries on, with what moved.
      expect(await pit.executeInSession('s', 'recall', { key: 'config' })).toEqual({ depth: 3 });
      expect(await pit.executeInSession('s', 'recall', { key: 'lock' })).toBeNull();
      expect(await pit.callMethod(model, 'predict', [5])).toBe(10);
      expect(await pit.getAttr(model, 'name')).toBe('alpha');
      expect(lock.released).toBe(true);
      await expect(pit.getAttr(lock, 'locked')).rejects.toBeInstanceOf(InvalidArgumentsError);
      expect((await workerOf(pit, 's')).id).not.toBe(old.id);
      // Releasing a moved reference reaches the worker that holds it now.
      model.release();
      await expect
        .poll(async () => ((await pit.executeInSession('s', 'python_state')) as { refs: number }).refs)
        .toBe(0);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('hint: no call fails; the session:handoff event reports it', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 1, affinity: 'hint' });
    const handoffs: Array<SnakepitEvents['session:handoff']> = [];
    pit.on('session:handoff', (e) => handoffs.push(e));
    try {
      await pit.executeInSession('s', 'remember', { key: 'kept', value: 1 });
      await pit.executeInSession('s', 'remember_lock');
      await pit.recycleWorker(pit.workers()[0]!.id);
      expect(await pit.executeInSession('s', 'recall', { key: 'kept' })).toBe(1);
      expect(handoffs).toHaveLength(1);
      expect(handoffs[0]!.lost).toMatchObject([{ kind: 'value', name: "'lock'", type: 'lock' }]);
      expect(handoffs[0]!.error).toBeInstanceOf(SessionLostError);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe("the bridge's session tools", () => {
  it("are out of reach of callers: another session's state cannot be read, nor a pickle planted", async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 1 });
    try {
      await pit.executeInSession('victim', 'remember', { key: 'secret', value: 'token' });
      for (const [tool, args] of [
        ['__snakepit__.session_export', { session: 'victim' }],
        [
          '__snakepit__.session_import',
          { session: 'victim', state: Buffer.from('cos\nsystem\n(S"id"\ntR.') },
        ],
      ] as const) {
        const err = await pit.execute(tool, args).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentsError);
        expect((err as Error).message).toMatch(/reserved for snakepit moving sessions/);
        await expect(pit.executeInSession('attacker', tool, args)).rejects.toBeInstanceOf(
          InvalidArgumentsError,
        );
      }
      expect(await pit.executeInSession('victim', 'recall', { key: 'secret' })).toBe('token');
      expect(pit.stats('default').requests).toBe(2); // nothing of the attempts reached the worker
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('a session whose state is too big to move', () => {
  it('is lost as in a crash, reported once (strict_queue), and carries on', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 1, maxFrameBytes: 100_000 });
    try {
      await pit.executeInSession('s', 'remember_big', { n: 200_000 });
      await pit.recycleWorker(pit.workers()[0]!.id);
      const err = (await pit.executeInSession('s', 'bump').catch((e: unknown) => e)) as SessionLostError;
      expect(err).toBeInstanceOf(SessionLostError);
      expect(err.message).toMatch(/could not move to its replacement/);
      expect((await pit.executeInSession<Bump>('s', 'bump')).count).toBe(1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe("a session's worker crashes", () => {
  it('strict_queue: one SessionLostError, then the session carries on on a new worker, its state gone', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 2 });
    const lostEvents: Array<SnakepitEvents['session:lost']> = [];
    pit.on('session:lost', (e) => lostEvents.push(e));
    try {
      await pit.executeInSession('s', 'bump');
      await pit.executeInSession('s', 'bump');
      const victim = await workerOf(pit, 's');
      process.kill(victim.pid, 'SIGKILL');
      await expect.poll(() => lostEvents.length, { timeout: 5_000 }).toBe(1);
      expect(lostEvents[0]).toMatchObject({ session: 's', worker: victim.id, reported: true });
      const [first] = await settleAll([pit.executeInSession('s', 'bump')]);
      const err = errorOf<SessionLostError>(first);
      expect(err).toBeInstanceOf(SessionLostError);
      expect(err.message).toMatch(/reported once/);
      const after = await pit.executeInSession<Bump>('s', 'bump');
      expect(after.count).toBe(1); // a fresh state
      expect(after.worker).not.toBe(victim.id);
      expect((await pit.executeInSession<Bump>('s', 'bump')).count).toBe(2);
      await poolBackToFull(pit, 2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('strict_fail_fast: every call fails until the session is deleted', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 2, affinity: 'strict_fail_fast' });
    try {
      await pit.executeInSession('s', 'bump');
      process.kill((await workerOf(pit, 's')).pid, 'SIGKILL');
      await poolBackToFull(pit, 2);
      for (let i = 0; i < 3; i++) {
        await expect(pit.executeInSession('s', 'bump')).rejects.toBeInstanceOf(SessionLostError);
      }
      pit.sessions.delete('s');
      expect((await pit.executeInSession<Bump>('s', 'bump')).count).toBe(1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('hint: no call fails; the next one runs elsewhere with an empty state', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 2, affinity: 'hint' });
    try {
      await pit.executeInSession('s', 'bump');
      process.kill((await workerOf(pit, 's')).pid, 'SIGKILL');
      await poolBackToFull(pit, 2);
      expect((await pit.executeInSession<Bump>('s', 'bump')).count).toBe(1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('strict_fail_fast on a busy worker', () => {
  it('fails the call at once with WorkerBusyError instead of waiting', async () => {
    const pit = await startChaos({ adapter: STATEFUL, size: 2, affinity: 'strict_fail_fast' });
    try {
      await pit.executeInSession('s', 'bump');
      const long = pit.executeInSession('s', 'sleep', { seconds: 0.5 });
      await sleep(50);
      const t0 = performance.now();
      const err = await pit.executeInSession('s', 'bump').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerBusyError);
      expect(performance.now() - t0).toBeLessThan(400);
      expect(await long).toBe(0.5);
      expect((await pit.executeInSession<Bump>('s', 'bump')).count).toBe(2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});
