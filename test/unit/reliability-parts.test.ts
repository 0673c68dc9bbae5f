// The pure pieces of supervision, against fakes and fake clocks: heartbeat, restart policy, exit classification,
// the retry rule, the worker state machine, and the queue's front door for retried calls.
import { testCall } from './test-call.js';
import { describe, expect, it } from 'vitest';
import { Call } from '../../src/call/call.js';
import { mayRetry } from '../../src/pool/crash-barrier.js';
import { RestartPolicy, STABLE_AFTER_MS } from '../../src/pool/restart-policy.js';
import { TaskQueue } from '../../src/pool/task-queue.js';
import { ChunkStream } from '../../src/call/chunk-stream.js';
import { classifyExit, type ExitFacts } from '../../src/worker/classify-exit.js';
import { Heartbeat } from '../../src/worker/heartbeat.js';
import type { WorkerExit } from '../../src/worker/worker-handle.js';
import { WorkerLifecycle, type WorkerState } from '../../src/worker/worker-state.js';
function call(opts: { idempotent?: boolean; timeoutMs?: number; stream?: boolean } = {}): Call {
  return testCall({
    timeoutMs: opts.timeoutMs ?? 10_000,
    stream: opts.stream ? new ChunkStream(8) : undefined,
    idempotent: opts.idempotent,
  });
}

describe('Heartbeat', () => {
  function fixture(intervalMs = 100, timeoutMs = 300) {
    let now = 0;
    const pings: number[] = [];
    const silent: number[] = [];
    const hb = new Heartbeat({
      intervalMs,
      timeoutMs,
      now: () => now,
      ping: (id) => pings.push(id),
      onSilent: (ms) => silent.push(ms),
    });
    hb.start();
    hb.stop(); // drive it by hand
    return {
      hb,
      pings,
      silent,
      advance(ms: number) {
        now += ms;
      },
    };
  }

  it('pings every beat while the worker answers', () => {
    const f = fixture();
    for (let i = 0; i < 10; i++) {
      f.advance(100);
      f.hb.tick();
      f.hb.heard();
    }
    expect(f.pings).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(f.silent).toEqual([]);
  });

  it('calls a worker silent for timeoutMs hung, once', () => {
    const f = fixture();
    f.advance(100);
    f.hb.tick();
    f.advance(100);
    f.hb.tick();
    expect(f.silent).toEqual([]);
    f.advance(100);
    f.hb.tick();
    expect(f.silent).toEqual([300]);
    expect(f.pings).toEqual([1, 2]);
  });

  it('any frame counts as a sign of life', () => {
    const f = fixture();
    for (let i = 0; i < 20; i++) {
      f.advance(100);
      if (i % 2 === 0) f.hb.heard();
      f.hb.tick();
    }
    expect(f.silent).toEqual([]);
  });

  it('does not blame the worker when the host itself was blocked (a late beat restarts the clock)', () => {
    const f = fixture();
    f.advance(5_000); // the event loop was blocked: the worker's pongs sit unread in the socket
    f.hb.tick();
    expect(f.silent).toEqual([]);
    f.advance(100);
    f.hb.tick();
    f.advance(100);
    f.hb.tick();
    f.advance(100);
    f.hb.tick();
    expect(f.silent).toEqual([300]); // but real silence afterwards still counts
  });
});

describe('RestartPolicy', () => {
  const exit = (uptimeMs: number, callsInFlight = 0): WorkerExit => ({
    crashed: true,
    exit: { code: 1, signal: null },
    reason: undefined,
    kind: 'error_exit',
    uptimeMs,
    callsInFlight,
  });

  it('replaces at once, then backs off exponentially up to the cap; degraded after maxAttempts, still trying', () => {
    const p = new RestartPolicy({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 350 });
    const delays = [p.delayMs()];
    for (let i = 0; i < 5; i++) {
      expect(p.degraded).toBe(false);
      p.startFailed();
      delays.push(p.delayMs());
    }
    expect(delays).toEqual([0, 100, 200, 350, 350, 350]);
    expect(p.degraded).toBe(true);
    p.startFailed();
    expect(p.delayMs()).toBe(350); // capped, never a give-up
    p.reset(); // resume(): at once again
    expect([p.degraded, p.delayMs()]).toEqual([false, 0]);
  });

  it('counts a worker that dies on its own right after its start; a healthy death resets the count', () => {
    const p = new RestartPolicy({ maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 1000 });
    p.workerDied(exit(50));
    p.workerDied(exit(50));
    expect(p.failures).toBe(2);
    p.workerDied(exit(STABLE_AFTER_MS)); // it had been up a while
    expect(p.failures).toBe(0);
    p.startFailed();
    p.workerDied(exit(10, 1)); // a call killed it: not the worker's fault
    expect(p.failures).toBe(0);
  });
});

describe('classifyExit', () => {
  const facts = (over: Partial<ExitFacts>): ExitFacts => ({
    exit: { code: null, signal: null },
    stopping: false,
    starting: false,
    hostKill: undefined,
    oomKillsDuringLife: undefined,
    ...over,
  });
  it.each<[Partial<ExitFacts>, string]>([
    [{ exit: { code: 0, signal: null } }, 'clean_exit'],
    [{ exit: { code: 3, signal: null } }, 'error_exit'],
    [{ exit: { code: null, signal: 'SIGSEGV' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGABRT' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGBUS' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGKILL' } }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, oomKillsDuringLife: 0 }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, oomKillsDuringLife: 1 }, 'oom_kill'],
    [{ exit: { code: null, signal: 'SIGTERM' } }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'hang_kill' }, 'hang_kill'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'timeout_kill' }, 'timeout_kill'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'protocol_kill' }, 'protocol_kill'],
    [{ exit: { code: 0, signal: null }, stopping: true }, 'stopped'],
    [{ exit: { code: null, signal: 'SIGKILL' }, stopping: true }, 'stopped'],
    [{ exit: { code: 3, signal: null }, starting: true }, 'start_failed'],
  ])('%j -> %s', (over, kind) => {
    expect(classifyExit(facts(over))).toBe(kind);
  });
});

describe('the retry rule (mayRetry)', () => {
  it('retries only idempotent, unsettled, uncancelled, non-stream calls within maxRetries', () => {
    expect(mayRetry(call({ idempotent: true }), 1)).toBe(true);
    expect(mayRetry(call(), 1)).toBe(false);
    expect(mayRetry(call({ idempotent: true }), 0)).toBe(false);
    expect(mayRetry(call({ idempotent: true, stream: true }), 1)).toBe(false);
    const retried = call({ idempotent: true });
    retried.requeue();
    expect(retried.retries).toBe(1);
    expect(mayRetry(retried, 1)).toBe(false);
    expect(mayRetry(retried, 2)).toBe(true);
    const settled = call({ idempotent: true });
    settled.fail(new Error('x'));
    expect(mayRetry(settled, 1)).toBe(false);
    const cancelled = call({ idempotent: true });
    cancelled.cancelled = 'timeout';
    expect(mayRetry(cancelled, 1)).toBe(false);
  });

  it('requeue puts the call back in the queued phase, without its runner', () => {
    const c = call({ idempotent: true });
    c.markRunning({ id: 'w', cancel: () => {}, credit: () => {} });
    expect(c.phase).toBe('running');
    c.requeue();
    expect(c.phase).toBe('queued');
    expect(c.runner).toBeUndefined();
  });
});

describe('TaskQueue.unshift', () => {
  it('puts a retried call before the calls that arrived after it', () => {
    const q = new TaskQueue();
    const [a, b, c] = [call(), call(), call()];
    q.push(a);
    q.push(b);
    expect(q.shift()).toBe(a);
    q.push(c);
    q.unshift(a);
    expect(q.size).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([a, b, c]);
    q.unshift(b); // on an empty queue too
    expect(q.shift()).toBe(b);
  });
});

describe('WorkerLifecycle', () => {
  function walk(...steps: WorkerState[]): boolean[] {
    const l = new WorkerLifecycle('w', () => {});
    return steps.map((s) => l.transition(s));
  }
  it('allows recycling and tainting through the table only', () => {
    expect(walk('ready', 'draining', 'stopping', 'stopped')).toEqual([true, true, true, true]);
    expect(walk('ready', 'tainted', 'crashed')).toEqual([true, true, true]);
    expect(walk('ready', 'draining', 'tainted', 'crashed')).toEqual([true, true, true, true]);
    expect(walk('ready', 'draining', 'ready')).toEqual([true, true, false]);
    expect(walk('ready', 'tainted', 'ready')).toEqual([true, true, false]);
    expect(walk('ready', 'tainted', 'stopping')).toEqual([true, true, false]);
    expect(walk('draining')).toEqual([false]);
    expect(walk('ready', 'stopping', 'stopped', 'ready')).toEqual([true, true, true, false]);
  });
});
