/**
 * call/deadlines.ts: one timer per distinct timeout, entries expire in order, a cancelled one never fires, and a
 * FIFO of mostly settled calls is compacted (a settled call is not kept until its deadline).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/call/deadlines.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Deadlines', () => {
  it('fires each live deadline once, in order, with one timer per distinct timeout', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const d = new Deadlines();
    const fired: number[] = [];
    const handles = Array.from({ length: 100 }, (_, i) => d.add(20, () => fired.push(i)));
    d.add(5, () => fired.push(-1));
    expect(timers).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 100; i += 2) handles[i]!.cancel();
    await sleep(60);
    expect(fired).toEqual([-1, ...Array.from({ length: 50 }, (_, i) => 2 * i + 1)]);
    expect(d.size).toBe(0);
  });

  it('never fires before the timeout has passed', async () => {
    const d = new Deadlines();
    const t0 = performance.now();
    const at = await new Promise<number>((resolve) => d.add(15, () => resolve(performance.now())));
    expect(at - t0).toBeGreaterThanOrEqual(15);
  });

  it('waits out the rest when the timer fires before the deadline by the real clock', () => {
    // Node fires timers from the loop's cached clock, which lags performance.now(): here the clock says 14.2 ms when
    // the 15 ms timer fires.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let clock = 0;
      vi.spyOn(performance, 'now').mockImplementation(() => clock);
      const d = new Deadlines();
      let fired = 0;
      d.add(15, () => fired++);
      clock = 14.2;
      vi.advanceTimersByTime(15);
      expect(fired).toBe(0);
      clock = 15;
      vi.advanceTimersByTime(1);
      expect(fired).toBe(1);
      expect(d.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('still fires on fake timers whose clock never moves', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      vi.spyOn(performance, 'now').mockReturnValue(0);
      const d = new Deadlines();
      let fired = 0;
      d.add(15, () => fired++);
      vi.advanceTimersByTime(100);
      expect(fired).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops its timer when every deadline was cancelled', () => {
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    const d = new Deadlines();
    const a = d.add(1000, () => {});
    const b = d.add(1000, () => {});
    a.cancel();
    b.cancel();
    b.cancel(); // twice is harmless
    expect(cleared).toHaveBeenCalledTimes(1);
    expect(d.size).toBe(0);
  });

  it('compacts a FIFO whose entries mostly settled, keeping the live ones in order', async () => {
    const d = new Deadlines();
    const fired: number[] = [];
    const handles = Array.from({ length: 2000 }, (_, i) => d.add(30, () => fired.push(i)));
    for (let i = 0; i < 2000; i++) if (i % 100 !== 7) handles[i]!.cancel();
    await sleep(80);
    expect(fired).toEqual(Array.from({ length: 20 }, (_, i) => i * 100 + 7));
  });

  it('lets a firing deadline add and cancel others', async () => {
    const d = new Deadlines();
    const fired: string[] = [];
    const handles: Array<{ cancel(): void }> = [];
    d.add(5, () => {
      fired.push('a');
      handles[0]!.cancel();
      d.add(5, () => fired.push('c'));
    });
    handles.push(d.add(5, () => fired.push('b')));
    await sleep(50);
    expect(fired).toEqual(['a', 'c']);
  });
});
