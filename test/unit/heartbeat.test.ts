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

describe('Heartbeat: missed beats', () => {
  it('reports each unanswered ping, counts them in a row, and marks the fatal one', () => {
    let now = 0;
    const missed: Array<[number, number, boolean]> = [];
    const silent: number[] = [];
    const hb = new Heartbeat({
      intervalMs: 100,
      timeoutMs: 400,
      now: () => now,
      ping: () => {},
      onSilent: (ms) => silent.push(ms),
      onMissed: (ms, n, fatal) => missed.push([ms, n, fatal]),
    });
    hb.start();
    hb.stop();
    const beat = (answer: boolean): void => {
      now += 100;
      hb.tick();
      if (answer) {
        now += 1;
        hb.heard();
        now -= 1;
      }
    };
    beat(true); // first ping, answered
    beat(true);
    expect(missed).toEqual([]);
    beat(false); // ping 3 goes unanswered…
    beat(false); // …noticed here: 1 missed
    beat(true); // 2 missed (ping 4 unanswered), then the worker answers ping 5
    beat(true); // answered: the count starts over
    expect(missed).toEqual([
      [199, 1, false],
      [299, 2, false],
    ]);
    beat(false);
    beat(false);
    beat(false);
    beat(false);
    beat(false);
    expect(missed.slice(2).map(([, n, fatal]) => [n, fatal])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(silent).toHaveLength(1);
  });
});
