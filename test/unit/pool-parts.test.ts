// The pure pieces of the pool, against fakes: queue, picker, chunk stream.
import { quietOwner, testCall } from './test-call.js';
import { describe, expect, it, vi } from 'vitest';
import { Call } from '../../src/call/call.js';
import { ChunkStream } from '../../src/call/chunk-stream.js';
import { pickLeastLoaded, ToolTimings, type PickableWorker } from '../../src/pool/picker.js';
import { StallWatch, STALL_CHECK_MS } from '../../src/pool/stall-watch.js';
import { TaskQueue } from '../../src/pool/task-queue.js';
import { CallTimeoutError } from '../../src/errors/errors.js';

const owner = quietOwner;
function call(tool = 't', timeoutMs = 10_000): Call {
  return testCall({ tool, timeoutMs });
}

class FakeWorker implements PickableWorker {
  calls: Call[] = [];
  stalled = false;
  /** As the pool decides at dispatch: a call blocks pipelining unless its tool is measured fast. */
  timings = new ToolTimings();
  get pipelineBlockers(): number {
    return this.calls.filter((c) => c.cancelled || c.stream || !this.timings.isFast(c.tool)).length;
  }
  constructor(
    readonly name: string,
    public state = 'ready',
  ) {}
  get load(): number {
    return this.calls.length;
  }
  inFlight(): Iterable<Call> {
    return this.calls;
  }
}

/** The workers, judging their calls with `timings`. */
function timed(workers: FakeWorker[], timings: ToolTimings): FakeWorker[] {
  for (const w of workers) w.timings = timings;
  return workers;
}

describe('TaskQueue', () => {
  it('is FIFO and skips calls settled while queued', () => {
    const q = new TaskQueue();
    const [a, b, c] = [call(), call(), call()];
    q.push(a);
    q.push(b);
    q.push(c);
    b.fail(new Error('gone'));
    q.forget();
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(c);
    expect(q.shift()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('drains only live calls', () => {
    const q = new TaskQueue();
    const [a, b] = [call(), call()];
    q.push(a);
    q.push(b);
    a.fail(new Error('gone'));
    q.forget();
    expect(q.drain()).toEqual([b]);
    expect(q.size).toBe(0);
  });
});

describe('pickLeastLoaded', () => {
  const limits = { workerConcurrency: 1, pipelineDepth: 4 };

  it('picks an idle ready worker, never a starting one', () => {
    const w1 = new FakeWorker('w1', 'starting');
    const w2 = new FakeWorker('w2');
    expect(pickLeastLoaded(timed([w1, w2], new ToolTimings()), limits)).toBe(w2);
  });

  it('does not pipeline behind a tool it has not measured as fast', () => {
    const w = new FakeWorker('w');
    w.calls.push(call('slow'));
    const timings = new ToolTimings();
    expect(pickLeastLoaded(timed([w], timings), limits)).toBeUndefined();
    for (let i = 0; i < 5; i++) timings.record('slow', 50);
    expect(pickLeastLoaded(timed([w], timings), limits)).toBeUndefined();
  });

  it('pipelines behind fast calls up to the depth, least loaded first', () => {
    const timings = new ToolTimings();
    for (let i = 0; i < 5; i++) timings.record('fast', 0.05);
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    a.calls.push(call('fast'), call('fast'));
    b.calls.push(call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBe(b);
    b.calls.push(call('fast'), call('fast'), call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBe(a);
    a.calls.push(call('fast'), call('fast'));
    expect(pickLeastLoaded(timed([a, b], timings), limits)).toBeUndefined();
  });

  it('does not pipeline when depth equals concurrency', () => {
    const timings = new ToolTimings();
    for (let i = 0; i < 5; i++) timings.record('fast', 0.05);
    const w = new FakeWorker('w');
    w.calls.push(call('fast'));
    expect(pickLeastLoaded(timed([w], timings), { workerConcurrency: 1, pipelineDepth: 1 })).toBeUndefined();
  });
});

describe('ChunkStream', () => {
  it('delivers buffered chunks, then the error', async () => {
    const s = new ChunkStream(4);
    s.push(1);
    s.push(2);
    s.fail(new Error('boom'));
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const c of s) got.push(c);
      })(),
    ).rejects.toThrow('boom');
    expect(got).toEqual([1, 2]);
  });

  it('grants credit as the consumer pulls, half a window at a time', async () => {
    const s = new ChunkStream(4);
    const grants: number[] = [];
    s.attach({ grant: (n) => grants.push(n), stop: () => {} });
    for (let i = 0; i < 4; i++) s.push(i);
    for (let i = 0; i < 4; i++) await s.next();
    expect(grants).toEqual([2, 2]);
  });

  it('return() stops the producer once', async () => {
    const s = new ChunkStream(4);
    let stops = 0;
    s.attach({ grant: () => {}, stop: () => stops++ });
    s.push(1);
    await s.return();
    await s.return();
    expect(stops).toBe(1);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });
});

describe('Call', () => {
  it('times out once, clears its timer, and tells its owner', async () => {
    const abandoned: string[] = [];
    const c = new Call({
      id: 99,
      pool: 'p',
      tool: 't',
      args: {},
      sessionId: undefined,
      timeoutMs: 10,
      queueTimeoutMs: undefined,
      signal: undefined,
      stream: undefined,
      owner: { abandon: (_c, r) => abandoned.push(r) },
    });
    await expect(c.promise).rejects.toBeInstanceOf(CallTimeoutError);
    c.succeed('late');
    expect(abandoned).toEqual(['timeout']);
  });

  it('rejects at once with an already-aborted signal', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('why'));
    const c = new Call({
      id: 100,
      pool: 'p',
      tool: 't',
      args: {},
      sessionId: undefined,
      timeoutMs: 1000,
      queueTimeoutMs: undefined,
      signal: ctrl.signal,
      stream: undefined,
      owner,
    });
    await expect(c.promise).rejects.toMatchObject({ code: 'SNAKEPIT_ABORTED' });
    expect(c.settled).toBe(true);
  });
});

describe('StallWatch', () => {
  class Busy {
    served = 0;
    stalled = false;
    asked = 0;
    state = 'ready';
    constructor(public load: number) {}
  }
  const idle = (w: Busy): boolean => w.load === 0;

  it('marks a worker stalled when it answers nothing between two checks while another is idle, and asks for its waiting calls', () => {
    vi.useFakeTimers();
    try {
      const stuck = new Busy(3);
      const other = new Busy(2);
      const watch = new StallWatch(
        () => [stuck, other],
        idle,
        (w) => w.asked++,
      );
      watch.dispatched(stuck);
      vi.advanceTimersByTime(STALL_CHECK_MS); // first look: both busy
      vi.advanceTimersByTime(STALL_CHECK_MS); // no answer from either, but no one could take their calls
      expect([stuck.stalled, other.stalled]).toEqual([false, false]);
      other.served++;
      other.load = 0; // the other worker is done: now the stuck one's calls are better off there
      vi.advanceTimersByTime(STALL_CHECK_MS);
      expect([stuck.stalled, other.stalled]).toEqual([true, false]);
      expect([stuck.asked, other.asked]).toEqual([1, 0]);
      vi.advanceTimersByTime(STALL_CHECK_MS); // still stalled, still holding calls: asked again (new calls only)
      expect(stuck.asked).toBe(2);
      stuck.load = 0;
      vi.advanceTimersByTime(STALL_CHECK_MS);
      expect(vi.getTimerCount()).toBe(0); // every worker idle: the watch sleeps
      watch.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not start for a worker holding a single call', () => {
    vi.useFakeTimers();
    try {
      const watch = new StallWatch<Busy>(
        () => [],
        idle,
        () => {},
      );
      watch.dispatched(new Busy(1));
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the picker never pipelines into a stalled worker', () => {
    const timings = new ToolTimings();
    for (let i = 0; i < 5; i++) timings.record('fast', 0.05);
    const w = new FakeWorker('w');
    w.calls.push(call('fast'));
    const limits = { workerConcurrency: 1, pipelineDepth: 4 };
    expect(pickLeastLoaded(timed([w], timings), limits)).toBe(w);
    w.stalled = true;
    expect(pickLeastLoaded(timed([w], timings), limits)).toBeUndefined();
  });
});
