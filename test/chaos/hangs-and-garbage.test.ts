// Chaos: a worker whose interpreter is stuck (heartbeats replace it), a cancel that cannot be honoured, garbage
// and oversized frames on the channel. Each case: no lost or hung call, no leftover process, the host survives.
import { describe, expect, it, vi } from 'vitest';
import {
  CallTimeoutError,
  PayloadTooLargeError,
  WorkerCrashedError,
  type SnakepitEvents,
} from '../../src/index.js';
import {
  bounded,
  errorOf,
  expectAllOk,
  expectNoLeftovers,
  load,
  poolBackToFull,
  settleAll,
  startChaos,
} from './chaos-helpers.js';

describe('a worker stuck in C code holding the GIL', () => {
  it('stops answering heartbeats, is killed (hang_kill) and replaced; the other worker keeps serving', async () => {
    const pit = await startChaos({ size: 2, heartbeat: { intervalMs: 200, timeoutMs: 1_000 } });
    try {
      const t0 = performance.now();
      const stuck = pit.execute('hang_gil', {}, { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 100));
      const others = load(100, 2, (i) => pit.execute('echo', { value: i }));
      const [outcome] = await settleAll([stuck], 15_000);
      const err = errorOf<WorkerCrashedError>(outcome);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.kind).toBe('hang_kill');
      expect(err.reason).toMatch(/heartbeat/);
      expect(performance.now() - t0).toBeLessThan(10_000);
      expectAllOk(await bounded(others));
      await poolBackToFull(pit, 2);
      expect(await pit.execute('echo', { value: 'ok' })).toBe('ok');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('with heartbeats off, a timed-out call it cannot cancel still frees the pool: timeout_kill', async () => {
    const pit = await startChaos({ size: 1, heartbeat: false });
    const exits: Array<SnakepitEvents['worker:exited']> = [];
    pit.on('worker:exited', (e) => exits.push(e));
    try {
      const [outcome] = await settleAll([pit.execute('hang_gil', {}, { timeoutMs: 300 })]);
      const err = errorOf(outcome);
      expect(err).toBeInstanceOf(CallTimeoutError);
      // It says what happens (stopped, or its worker killed), never that it "was cancelled in Python".
      expect(err.message).toMatch(/being stopped in Python.*has its worker killed/);
      expect(err.message).not.toMatch(/was cancelled/);
      // The cancel cannot reach a stuck interpreter: the worker is killed after the cancel grace (5 s).
      await expect.poll(() => exits.map((e) => e.kind), { timeout: 15_000 }).toEqual(['timeout_kill']);
      expect(exits[0]!.reason).toMatch(/ignored its cancel .* the worker is killed, not the call cancelled/);
      await poolBackToFull(pit, 1);
      expect(await pit.execute('echo', { value: 2 })).toBe(2);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('a worker writing garbage to the channel', () => {
  it.each(['oversized', 'zero', 'undecodable', 'unknown_type'])(
    '%s frame: the worker is killed (protocol_kill) and replaced; the host carries on',
    async (kind) => {
      const pit = await startChaos({ size: 1 });
      try {
        const [outcome] = await settleAll([pit.execute('garbage', { kind })]);
        const err = errorOf<WorkerCrashedError>(outcome);
        expect(err).toBeInstanceOf(WorkerCrashedError);
        expect(err.kind).toBe('protocol_kill');
        expect(err.reason).toMatch(/frame|message|decode|protocol/i);
        await poolBackToFull(pit, 1);
        expect(await pit.execute('echo', { value: kind })).toBe(kind);
      } finally {
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    },
  );

  // The host breaks the channel and kills the worker; on a loaded machine the worker may see the channel close
  // before the SIGKILL lands, and react: it cancels its calls ("shutdown") and answers them into its outbox. Those
  // answers are not outcomes — the host never asked for a cancel — and must not be salvaged from the ledger. Holding
  // the host's SIGKILL back forces that interleaving: the worker runs its end-of-file path and exits by itself.
  it.each(['oversized', 'undecodable'])(
    '%s frame, the worker seeing the channel close before its SIGKILL: still protocol_kill, not "cancelled"',
    async (kind) => {
      const pit = await startChaos({ size: 1, heartbeat: false });
      const pid = pit.workers()[0]!.pid!;
      const held: Array<number | string | undefined> = [];
      const kill = process.kill.bind(process);
      const spy = vi.spyOn(process, 'kill').mockImplementation((target, signal) => {
        if (signal === 'SIGKILL' && Math.abs(target) === pid) {
          held.push(signal);
          return true;
        }
        return kill(target, signal);
      });
      try {
        const [outcome] = await settleAll([pit.execute('garbage', { kind })]);
        spy.mockRestore();
        expect(held.length, 'the host tried to SIGKILL the worker').toBeGreaterThan(0);
        const err = errorOf<WorkerCrashedError>(outcome);
        expect(err).toBeInstanceOf(WorkerCrashedError);
        expect(err.kind).toBe('protocol_kill');
        await poolBackToFull(pit, 1);
        expect(await pit.execute('echo', { value: kind })).toBe(kind);
      } finally {
        spy.mockRestore();
        try {
          kill(-pid, 'SIGKILL'); // whatever the outcome, the worker held back from its SIGKILL does not outlive the test
        } catch {
          /* it exited by itself */
        }
        await pit.close();
      }
      await expectNoLeftovers(pit.runId);
    },
  );

  it('in JSON mode too', async () => {
    const pit = await startChaos({ size: 1, codec: 'json' });
    try {
      const [outcome] = await settleAll([pit.execute('garbage', { kind: 'undecodable' })]);
      expect(errorOf<WorkerCrashedError>(outcome).kind).toBe('protocol_kill');
      expect(await pit.execute('echo', { value: 'json' })).toBe('json');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('oversized frames', () => {
  it('from the host: PayloadTooLargeError before anything is written; the worker is untouched', async () => {
    const pit = await startChaos({ size: 1, maxFrameBytes: 64 * 1024 });
    try {
      const pid = await pit.execute('pid');
      const err = (await pit
        .execute('echo', { value: 'x'.repeat(100_000) })
        .catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(PayloadTooLargeError);
      expect(await pit.execute('pid')).toBe(pid);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('from the worker: the result is refused in Python (PayloadTooLargeError); the worker is untouched', async () => {
    const pit = await startChaos({ size: 1, maxFrameBytes: 64 * 1024 });
    try {
      const pid = await pit.execute('pid');
      const big = (await pit.execute('big', { n: 100_000 }).catch((e: unknown) => e)) as PayloadTooLargeError;
      expect(big).toBeInstanceOf(PayloadTooLargeError);
      expect(big.message).toMatch(/result of "big"/);
      expect(big.size).toBeGreaterThan(64 * 1024);
      expect(await pit.execute('pid')).toBe(pid);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});
