// RestartPolicy (src/pool/restart-policy.ts): back-off, cap, degraded.
import { describe, expect, it } from 'vitest';
import { RestartPolicy, STABLE_AFTER_MS } from '../../src/pool/restart-policy.js';
import type { WorkerExit } from '../../src/worker/worker-handle.js';

describe('RestartPolicy', () => {
  const exit = (uptimeMs: number, callsInFlight = 0): WorkerExit => ({
    crashed: true,
    exit: { code: 1, signal: null },
    reason: undefined,
    kind: 'error_exit',
    uptimeMs,
    callsInFlight,
  });

  it('replaces at once, then backs off exponentially up to the cap; degraded after maxAttempts, still trying', () => {
    const p = new RestartPolicy({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 350 });
    const delays = [p.delayMs()];
    for (let i = 0; i < 5; i++) {
      expect(p.degraded).toBe(false);
      p.startFailed();
      delays.push(p.delayMs());
    }
    expect(delays).toEqual([0, 100, 200, 350, 350, 350]);
    expect(p.degraded).toBe(true);
    p.startFailed();
    expect(p.delayMs()).toBe(350); // capped, never a give-up
    p.reset(); // resume(): at once again
    expect([p.degraded, p.delayMs()]).toEqual([false, 0]);
  });

  it('counts a worker that dies on its own right after its start; a healthy death resets the count', () => {
    const p = new RestartPolicy({ maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 1000 });
    p.workerDied(exit(50));
    p.workerDied(exit(50));
    expect(p.failures).toBe(2);
    p.workerDied(exit(STABLE_AFTER_MS)); // it had been up a while
    expect(p.failures).toBe(0);
    p.startFailed();
    p.workerDied(exit(10, 1)); // a call killed it: not the worker's fault
    expect(p.failures).toBe(0);
  });
});
