// Heartbeat (src/worker/heartbeat.ts), on a fake clock.
import { describe, expect, it } from 'vitest';
import { Heartbeat } from '../../src/worker/heartbeat.js';

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
