/**
 * A `Call` for unit tests of the pool's parts: every field defaulted, ids unique, and its rejection observed (a
 * test that cares awaits `promise` itself), so a test states only what it is about.
 */
import { Call, type CallInit, type CallOwner } from '../../src/call/call.js';

/** An owner that does nothing when a call is abandoned. */
export const quietOwner: CallOwner = { abandon: () => {} };

let nextId = 1;

export function testCall(init: Partial<CallInit> = {}): Call {
  const c = new Call({
    id: nextId++,
    pool: 'p',
    tool: 't',
    args: {},
    sessionId: undefined,
    timeoutMs: 10_000,
    queueTimeoutMs: undefined,
    signal: undefined,
    stream: undefined,
    owner: quietOwner,
    ...init,
  });
  c.promise.catch(() => {});
  return c;
}
