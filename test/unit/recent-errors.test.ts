// RecentErrors (src/dashboard/recent-errors.ts): the dashboard's ring of recent call errors.
import { describe, expect, it } from 'vitest';
import { PythonValueError } from '../../src/index.js';
import { MAX_TRACEBACK_CHARS, RecentErrors } from '../../src/dashboard/recent-errors.js';
import type { SnakepitEvents } from '../../src/telemetry/event-bus.js';

function exceptionEvent(error: Error, over: Partial<SnakepitEvents['call:exception']> = {}) {
  return {
    callId: 1,
    correlationId: 'run-1',
    pool: 'default',
    tool: 'boom',
    worker: 'default-1',
    session: undefined,
    stream: false,
    queueWaitMs: 0,
    attempt: 1,
    durationMs: 1.23456,
    chunks: 0,
    error,
    errorName: error.name,
    errorCode: (error as { code?: string }).code,
    kind: 'python' as const,
    ...over,
  };
}

describe('RecentErrors', () => {
  it('keeps the last N with their tracebacks, newest first, and what came after a number', () => {
    const ring = new RecentErrors(3);
    for (let i = 1; i <= 5; i++) {
      const err = new PythonValueError({
        pythonType: 'ValueError',
        message: `bad ${i}`,
        traceback: `Traceback (most recent call last):\nValueError: bad ${i}`,
      });
      ring.record(exceptionEvent(err), 1000 + i);
    }
    const all = ring.since();
    expect(all.map((e) => e.seq)).toEqual([5, 4, 3]);
    expect(all[0]).toMatchObject({
      pool: 'default',
      tool: 'boom',
      errorName: 'PythonValueError',
      pythonType: 'ValueError',
      message: 'ValueError: bad 5',
      at: 1005,
      durationMs: 1.235,
    });
    expect(all[0]!.traceback).toContain('ValueError: bad 5');
    expect(ring.since(4).map((e) => e.seq)).toEqual([5]);
    expect(ring.lastSeq).toBe(5);
  });

  it('cuts what a worker sent when it is huge: the traceback keeps its end, where the exception is', () => {
    const ring = new RecentErrors(1);
    const traceback = `${'  File "x.py", line 1\n'.repeat(100_000)}ValueError: the end`;
    const err = new PythonValueError({ pythonType: 'ValueError', message: 'm'.repeat(1_000_000), traceback });
    ring.record(exceptionEvent(err));
    const [e] = ring.since();
    expect(e!.traceback!.length).toBeLessThan(MAX_TRACEBACK_CHARS + 100);
    expect(e!.traceback!.endsWith('ValueError: the end')).toBe(true);
    expect(e!.traceback!.startsWith('… (')).toBe(true);
    expect(e!.message.length).toBeLessThan(2100);
  });

  it('a non-Python error has no traceback', () => {
    const ring = new RecentErrors(1);
    ring.record(exceptionEvent(new Error('timed out'), { kind: 'timeout' }));
    expect(ring.since()[0]).toMatchObject({ kind: 'timeout', traceback: undefined, pythonType: undefined });
  });
});
