// Call (src/call/call.ts): one call from submission to settlement, against a quiet owner.
import { quietOwner } from './test-call.js';
import { describe, expect, it } from 'vitest';
import { Call } from '../../src/call/call.js';
import { CallTimeoutError } from '../../src/errors/errors.js';

const owner = quietOwner;

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
