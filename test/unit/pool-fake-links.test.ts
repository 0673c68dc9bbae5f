/**
 * Pool, PoolSupervisor and WorkerHandle driven through fake links (test/fake-link.ts): their real code, no Python,
 * milliseconds per test. Queueing, picking, pipelining, nested admission, recycling and crash paths.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import type { SnakepitConfig } from '../../src/config/config-types.js';
import { CallTimeoutError, PoolClosedError, WorkerCrashedError } from '../../src/errors/errors.js';
import type { SessionRouter } from '../../src/pool/picker.js';
import { Pool } from '../../src/pool/pool.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { silentLogger } from '../../src/util/logger.js';
import { fakeLinks, fakePoolConfig, type FakeWorker, type FakeWorkerBehaviour } from '../fake-link.js';
import { eventually } from '../helpers.js';
import { testCall } from './test-call.js';

const pools: Pool[] = [];

async function fakePool(
  config: Partial<SnakepitConfig> = {},
  behaviour?: (n: number) => FakeWorkerBehaviour,
  sessions?: SessionRouter,
): Promise<{ pool: Pool; workers: FakeWorker[]; events: EventBus }> {
  const { kind, workers } = fakeLinks(behaviour);
  const events = new EventBus(() => {});
  const pool = new Pool(fakePoolConfig(config), {
    logger: silentLogger,
    events,
    runId: 'run',
    onHostCall: () => {},
    linkKinds: [kind],
    ...(sessions ? { sessions } : {}),
  });
  pools.push(pool);
  await pool.start();
  return { pool, workers, events };
}

function submit(pool: Pool, tool = 't', extra: Partial<Parameters<typeof testCall>[0]> = {}): Call {
  const call = testCall({ pool: pool.name, tool, owner: pool, ...extra });
  pool.submit(call);
  return call;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Session affinity as the SessionStore gives it, for one pool: session → the worker that served it last. */
function sessionMap(): SessionRouter {
  const last = new Map<string, string>();
  return {
    workerFor: (session) => last.get(session),
    bound: (session, _pool, worker) => void last.set(session, worker),
    unbind: (session) => void last.delete(session),
    sessionsOn: (_pool, worker) => [...last].filter(([, w]) => w === worker).map(([s]) => s),
  };
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

describe('Pool over fake links', () => {
  it('starts size workers and answers a call through one', async () => {
    const { pool, workers } = await fakePool({ size: 2 }, () => ({ echo: true }));
    expect(workers).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ workers: 2, available: 2 });
    await expect(submit(pool, 'hello', { args: { a: 1 } }).promise).resolves.toEqual({
      tool: 'hello',
      args: { a: 1 },
    });
    expect(pool.stats().requests).toBe(1);
  });

  it('queues calls past the workers’ capacity and dispatches each when a slot frees, in order', async () => {
    const { pool, workers } = await fakePool({ size: 1, workerConcurrency: 1 });
    const [a, b, c] = [submit(pool, 'a'), submit(pool, 'b'), submit(pool, 'c')];
    await tick();
    const w = workers[0]!;
    expect(w.pending.map((m) => m.tool)).toEqual(['a']);
    expect(pool.stats().queued).toBe(2);
    w.answer(w.pending[0]!.id, 1);
    await expect(a.promise).resolves.toBe(1);
    await eventually(() => w.pending.length === 1);
    expect(w.pending[0]!.tool).toBe('b');
    w.answer(w.pending[0]!.id, 2);
    await eventually(() => w.pending.length === 1);
    w.answer(w.pending[0]!.id, 3);
    await expect(Promise.all([b.promise, c.promise])).resolves.toEqual([2, 3]);
  });

  it('picks the least-loaded worker: two calls on two idle workers go one to each', async () => {
    const { pool, workers } = await fakePool({ size: 2, workerConcurrency: 2 });
    submit(pool);
    submit(pool);
    await tick();
    expect(workers.map((w) => w.pending.length)).toEqual([1, 1]);
  });

  it('pipelines up to workerConcurrency calls onto one worker before queueing', async () => {
    const { pool, workers } = await fakePool({ size: 1, workerConcurrency: 3 });
    for (let i = 0; i < 4; i++) submit(pool);
    await tick();
    expect(workers[0]!.pending).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ inFlight: 3, queued: 1 });
  });

  it('admits a nested call (made by a host tool) onto its ancestor’s worker past its capacity', async () => {
    const { pool, workers } = await fakePool({ size: 2, workerConcurrency: 1 });
    const outer = submit(pool, 'outer');
    submit(pool, 'busy');
    await tick();
    const holder = workers.find((w) => w.pending[0]?.tool === 'outer')!;
    const other = workers.find((w) => w !== holder)!;
    expect(other.pending.map((m) => m.tool)).toEqual(['busy']);
    // Both workers are full. A top-level call waits; a call from `outer`'s host tool cannot wait (outer waits for
    // it, holding its worker): it runs on the worker blocked in that host call, which serves it meanwhile.
    const top = submit(pool, 'top');
    const nested = submit(pool, 'inner', { parent: outer, depth: 1 });
    await tick();
    expect(holder.pending.map((m) => m.tool)).toEqual(['outer', 'inner']);
    expect(top.phase).toBe('queued');
    expect(nested.phase).toBe('running');
    holder.answer(holder.pending[1]!.id, 'inner done');
    await expect(nested.promise).resolves.toBe('inner done');
    holder.answer(holder.pending[0]!.id, 'outer done');
    await expect(outer.promise).resolves.toBe('outer done');
    await eventually(() => holder.pending.some((m) => m.tool === 'top'));
  });

  it('parks a session call on its busy worker (wait line) while calls behind it go to another worker', async () => {
    const { pool, workers } = await fakePool({ size: 2, workerConcurrency: 1 }, undefined, sessionMap());
    const first = submit(pool, 's1', { sessionId: 'S' });
    await tick();
    const home = workers.find((w) => w.pending[0]?.tool === 's1')!;
    const other = workers.find((w) => w !== home)!;
    // s2 must run where S lives, which is full: it waits in that worker's line, not at the head of the queue,
    // so the session-less call behind it is not held up.
    const second = submit(pool, 's2', { sessionId: 'S' });
    const free = submit(pool, 'free');
    await tick();
    expect(other.pending.map((m) => m.tool)).toEqual(['free']);
    expect(home.pending.map((m) => m.tool)).toEqual(['s1']);
    expect(second.phase).toBe('queued');
    home.answer(home.pending[0]!.id, 1);
    await expect(first.promise).resolves.toBe(1);
    await eventually(() => home.pending[0]?.tool === 's2', 2000, 's2 on its session’s worker');
    home.answer(home.pending[0]!.id, 2);
    other.answer(other.pending[0]!.id, 3);
    await expect(Promise.all([second.promise, free.promise])).resolves.toEqual([2, 3]);
  });

  it('a timed-out call sends cancel and keeps its slot until the worker answers it', async () => {
    const { pool, workers } = await fakePool({ size: 1, workerConcurrency: 1 });
    const slow = submit(pool, 'slow', { timeoutMs: 30 });
    const next = submit(pool, 'next');
    await expect(slow.promise).rejects.toBeInstanceOf(CallTimeoutError);
    const w = workers[0]!;
    await eventually(() => w.received.some((m) => m.type === 'cancel'), 2000, 'the cancel frame');
    // The worker may still be running it: nothing more is sent until its terminal frame arrives.
    await tick();
    expect(w.pending.map((m) => m.tool)).toEqual(['slow']);
    expect(next.phase).toBe('queued');
    w.fail(w.pending[0]!.id, 'CallCancelled', 'cancelled');
    await eventually(() => w.pending[0]?.tool === 'next', 2000, 'the queued call after the cancel');
    w.answer(w.pending[0]!.id, 'ok');
    await expect(next.promise).resolves.toBe('ok');
  });

  it('fails the calls in flight on a crash with WorkerCrashedError and starts a replacement', async () => {
    const { pool, workers, events } = await fakePool({ size: 1, workerConcurrency: 2 });
    const exits: string[] = [];
    events.on('worker:exited', (e) => exits.push(e.kind));
    const calls = [submit(pool), submit(pool)];
    await tick();
    workers[0]!.die();
    for (const c of calls) await expect(c.promise).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(exits).toEqual(['crash_signal']);
    await eventually(() => workers.length === 2 && pool.stats().available === 1, 2000, 'a replacement');
    workers[1]!.pending.length = 0;
    const after = submit(pool);
    await eventually(() => workers[1]!.pending.length === 1);
    workers[1]!.answer(workers[1]!.pending[0]!.id, 'ok');
    await expect(after.promise).resolves.toBe('ok');
  });

  it('runs an idempotent call again on another worker when its worker dies under it', async () => {
    const { pool, workers } = await fakePool({ size: 2, workerConcurrency: 1 });
    const call = submit(pool, 'again', { idempotent: true });
    await tick();
    const first = workers.find((w) => w.pending.length === 1)!;
    const second = workers.find((w) => w !== first)!;
    first.die();
    await eventually(() => second.pending.length === 1, 2000, 'the retry');
    second.answer(second.pending[0]!.id, 'second time');
    await expect(call.promise).resolves.toBe('second time');
    expect(pool.stats().retries).toBe(1);
  });

  it('recycles a worker after recycle.maxRequests: a new worker takes the next call', async () => {
    const { pool, workers, events } = await fakePool({ size: 1, recycle: { maxRequests: 2 } }, () => ({
      echo: true,
    }));
    const recycled: string[] = [];
    events.on('worker:recycled', (e) => recycled.push(e.reason));
    await submit(pool).promise;
    await submit(pool).promise;
    await eventually(() => recycled.length === 1, 2000, 'worker:recycled');
    expect(recycled).toEqual(['max_requests']);
    await eventually(
      () => workers.length === 2 && workers[0]!.exitInfo !== undefined,
      2000,
      'the old one stopped',
    );
    await expect(submit(pool).promise).resolves.toMatchObject({ tool: 't' });
    expect(workers[1]!.received.some((m) => m.type === 'call')).toBe(true);
  });

  it('refuses calls after close and stops its workers with a shutdown frame', async () => {
    const { pool, workers } = await fakePool({ size: 2 });
    await pool.close(1000);
    for (const w of workers) expect(w.received.some((m) => m.type === 'shutdown')).toBe(true);
    await expect(submit(pool).promise).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('fails start when a worker never becomes ready, and leaves no worker behind', async () => {
    const { kind, workers } = fakeLinks(() => ({ hang: true }));
    const pool = new Pool(fakePoolConfig({ size: 1, startupTimeoutMs: 200 }), {
      logger: silentLogger,
      events: new EventBus(() => {}),
      runId: 'run',
      onHostCall: () => {},
      linkKinds: [kind],
    });
    pools.push(pool);
    await expect(pool.start()).rejects.toThrow(/ready|start/i);
    expect(workers[0]!.exitInfo).toBeDefined();
  });
});
