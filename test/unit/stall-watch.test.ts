// StallWatch (src/pool/stall-watch.ts), on a fake clock.
import { call, FakeWorker, timed } from './fake-pickable.js';
import { describe, expect, it, vi } from 'vitest';
import { pickLeastLoaded, ToolTimings } from '../../src/pool/picker.js';
import { StallWatch, STALL_CHECK_MS } from '../../src/pool/stall-watch.js';

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
