// Chaos: one poisoned call among many pipelined ones. Whatever kills its worker — os._exit, a segfault, a hang past
// its timeout that ignores the cancel (timeout_kill), garbage on the channel (protocol_kill) — only that call fails:
// the calls queued behind it inside the worker had not begun, so they run elsewhere, idempotent or not, and the
// answers the worker had computed but not yet sent are not lost. A call whose result cannot be decoded, or whose
// argument is a 5,000-digit BigInt, fails (or succeeds) alone and kills nothing. No lost or hung call, no leftover
// process.
import { describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  SerializationError,
  WorkerCrashedError,
  type SnakepitEvents,
} from '../../src/index.js';
import {
  errorOf,
  expectNoLeftovers,
  failures,
  poolBackToFull,
  settleAll,
  startChaos,
} from './chaos-helpers.js';

const CALLS = 200;
const POISONED = 100;

describe('one poisoned call among 200 pipelined on 2 workers', () => {
  it.each([
    ['exit', 'error_exit'],
    ['segfault', 'crash_signal'],
    ['garbage', 'protocol_kill'],
    ['hang', 'timeout_kill'],
  ])('%s: the other 199 succeed, promptly', async (how, kind) => {
    const pit = await startChaos({ size: 2, heartbeat: false });
    const exits: Array<SnakepitEvents['worker:exited']> = [];
    pit.on('worker:exited', (e) => exits.push(e));
    try {
      // The host learns that `poison` is fast, so it pipelines calls to it behind one another.
      for (let i = 0; i < 20; i++) await pit.execute('poison', { value: i });
      const t0 = performance.now();
      const settledAt: number[] = [];
      // A hanging poisoned call has a 1.5 s timeout (the hang outlives it: the worker is killed 5 s later, for
      // ignoring its cancel); every other call a generous one, so only a call that waited behind it could miss its
      // deadline. (Not shorter: on a loaded machine call 100 can wait that long in the queue and time out before
      // it ever reaches a worker, and then nothing is poisoned.)
      const calls = Array.from({ length: CALLS }, (_, i) =>
        pit
          .execute(
            'poison',
            { value: i, how: i === POISONED ? how : '' },
            { timeoutMs: i === POISONED && how === 'hang' ? 1_500 : 15_000 },
          )
          .finally(() => (settledAt[i] = performance.now() - t0)),
      );
      const outcomes = await settleAll(calls, 20_000);
      const others = outcomes.filter((_, i) => i !== POISONED);
      expect(failures(others)).toEqual([]);
      expect(others.map((o) => (o.ok ? o.value : undefined))).toEqual(
        Array.from({ length: CALLS }, (_, i) => i).filter((i) => i !== POISONED),
      );
      const poisoned = errorOf(outcomes[POISONED]);
      if (how === 'hang') expect(poisoned).toBeInstanceOf(CallTimeoutError);
      else expect((poisoned as WorkerCrashedError).kind).toBe(kind);
      // Unrelated calls are not held up by the poisoned call's timeout or its worker's death (before: ~5.5 s).
      const slowest = Math.max(...settledAt.filter((_, i) => i !== POISONED));
      expect(slowest, 'ms until the last unrelated call settled').toBeLessThan(4_000);
      await expect.poll(() => exits.map((e) => e.kind), { timeout: 15_000 }).toEqual([kind]);
      await poolBackToFull(pit, 2);
      expect(pit.stats('default').errors).toBe(1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('one odd call among 200 pipelined that does not kill its worker', () => {
  // A result the host cannot decode, and an argument Python's int() would refuse from text (over 4,300 digits):
  // each concerns its own call only, so the worker stays and nothing else is disturbed.
  const huge = 10n ** 5_000n + 7n;
  it.each([
    ['a result the host cannot decode', { how: 'undecodable' }, SerializationError],
    ['a 5,000-digit BigInt argument', { value: huge }, undefined],
  ] as const)('%s: the other 199 succeed, no worker is replaced', async (_label, poison, errorType) => {
    const pit = await startChaos({ size: 2, heartbeat: false });
    const exits: Array<SnakepitEvents['worker:exited']> = [];
    pit.on('worker:exited', (e) => exits.push(e));
    try {
      for (let i = 0; i < 20; i++) await pit.execute('poison', { value: i });
      const pids = pit.workers().map((w) => w.pid);
      const calls = Array.from({ length: CALLS }, (_, i) =>
        pit.execute('poison', i === POISONED ? poison : { value: i }, { timeoutMs: 15_000 }),
      );
      const outcomes = await settleAll(calls, 20_000);
      const others = outcomes.filter((_, i) => i !== POISONED);
      expect(failures(others)).toEqual([]);
      expect(others.map((o) => (o.ok ? o.value : undefined))).toEqual(
        Array.from({ length: CALLS }, (_, i) => i).filter((i) => i !== POISONED),
      );
      if (errorType) {
        const err = errorOf(outcomes[POISONED]);
        expect(err).toBeInstanceOf(errorType);
        expect(err.message).toMatch(/cannot be decoded/);
      } else expect(outcomes[POISONED]).toEqual({ ok: true, value: huge });
      expect(exits).toEqual([]);
      expect(pit.workers().map((w) => w.pid)).toEqual(pids);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});

describe('what a dying worker had already produced', () => {
  it('answers computed before the crash reach their callers; calls behind it run on the replacement', async () => {
    // workerConcurrency: all 21 calls go to the worker at once, whatever the host measured of the tool's speed
    // (pipelining would do the same on a quiet machine); Python still runs them one at a time, in order.
    const pit = await startChaos({ size: 1, heartbeat: false, workerConcurrency: 32 });
    const returned: Array<SnakepitEvents['call:returned']> = [];
    pit.on('call:returned', (e) => returned.push(e));
    try {
      // One tick: the 21 calls go out in one write and the worker reads them as one batch. It answers the first
      // ten into its outbox, then dies before sending them.
      const calls = Array.from({ length: 21 }, (_, i) =>
        pit.execute('poison', { value: i, how: i === 10 ? 'exit' : '' }),
      );
      const outcomes = await settleAll(calls, 20_000);
      expect(errorOf<WorkerCrashedError>(outcomes[10]).kind).toBe('error_exit');
      expect(failures(outcomes.filter((_, i) => i !== 10))).toEqual([]);
      expect(returned.length).toBeGreaterThan(0);
      expect(returned.every((r) => r.reason === 'not_begun')).toBe(true);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('chunks a stream yielded just before its worker died are delivered, then the crash', async () => {
    const pit = await startChaos({ size: 1, heartbeat: false });
    try {
      const received: unknown[] = [];
      const err = await (async () => {
        for await (const chunk of pit.executeStream('stream_then_exit', { n: 7 })) received.push(chunk);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(received).toEqual([0, 1, 2, 3, 4, 5, 6]);
      await poolBackToFull(pit, 1);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });
});
