// The retry rule (src/pool/crash-barrier.ts): which calls a dead worker may hand to another.
import { testCall } from './test-call.js';
import { describe, expect, it } from 'vitest';
import { Call } from '../../src/call/call.js';
import { mayRetry } from '../../src/pool/crash-barrier.js';
import { ChunkStream } from '../../src/call/chunk-stream.js';

function call(opts: { idempotent?: boolean; timeoutMs?: number; stream?: boolean } = {}): Call {
  return testCall({
    timeoutMs: opts.timeoutMs ?? 10_000,
    stream: opts.stream ? new ChunkStream(8) : undefined,
    idempotent: opts.idempotent,
  });
}

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
