// SessionStore (src/session/session-store.ts), on a fake clock.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentsError } from '../../src/errors/errors.js';
import { SessionStore, type SessionEndReason } from '../../src/session/session-store.js';

describe('SessionStore', () => {
  function store(ttlMs = 1000) {
    let now = 1_000_000;
    const ended: Array<[string, SessionEndReason, Record<string, string[]>]> = [];
    const s = new SessionStore({
      ttlMs,
      cleanupIntervalMs: 1 << 30,
      now: () => now,
      onEnd: (id, servedBy, reason) =>
        ended.push([id, reason, Object.fromEntries([...servedBy].map(([p, w]) => [p, [...w]]))]),
    });
    return { s, ended, advance: (ms: number) => (now += ms) };
  }

  it('creates sessions on first use, routes by the last worker, and tells every worker that served one', () => {
    const { s, ended } = store();
    s.callStarted('a');
    expect(s.workerFor('a', 'pool')).toBeUndefined();
    s.bound('a', 'pool', 'w1');
    s.callEnded('a');
    s.callStarted('a');
    s.bound('a', 'pool', 'w2'); // prefer affinity moved it
    s.callEnded('a');
    expect(s.workerFor('a', 'pool')).toBe('w2');
    expect(s.get('a')).toMatchObject({ calls: 2, inFlight: 0, workers: { pool: 'w2' } });
    expect(s.delete('a')).toBe(true);
    expect(ended).toEqual([['a', 'deleted', { pool: ['w1', 'w2'] }]]);
    expect(s.stats()).toEqual({ active: 0, created: 1, deleted: 1, expired: 0 });
  });

  it('expires idle sessions after their TTL, never one with a call in flight', () => {
    const { s, ended, advance } = store(1000);
    s.callStarted('busy');
    s.create('idle');
    s.create('long', { ttlMs: 10_000 });
    advance(1001);
    expect(s.sweep()).toBe(1);
    expect(ended.map(([id, reason]) => `${id}:${reason}`)).toEqual(['idle:expired']);
    s.callEnded('busy');
    advance(500);
    s.touch('long');
    expect(s.sweep()).toBe(0);
    advance(1001);
    expect(s.sweep()).toBe(1);
    expect(s.list()).toEqual(['long']);
    expect(s.get('long')!.expiresAt - s.get('long')!.lastAccessedAt).toBe(10_000);
  });

  it('refuses bad ids and options with InvalidArgumentsError', () => {
    const { s } = store();
    expect(() => s.create('x'.repeat(257))).toThrow(InvalidArgumentsError);
    expect(() => s.create('ok', { ttlMs: -1 })).toThrow(/ttlMs must be a positive number/);
    expect(() => s.create('ok2', { metadata: [] as unknown as Record<string, unknown> })).toThrow(/metadata/);
    expect(() => s.callStarted(42 as unknown as string)).toThrow(/session id must be a non-empty string/);
    expect(s.list()).toEqual([]);
  });
});
