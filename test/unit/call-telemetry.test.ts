// CallTelemetry (src/telemetry/call-telemetry.ts): the calls' observer builds no payload for nobody.
import { testCall } from './test-call.js';
import { describe, expect, it, vi } from 'vitest';
import { Call, type CallRunner } from '../../src/call/call.js';
import { CallTelemetry } from '../../src/telemetry/call-telemetry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { CallTimeoutError } from '../../src/errors/errors.js';

describe('CallTelemetry', () => {
  const runner: CallRunner = { id: 'w-1', cancel: () => {}, credit: () => {} };
  const call = (observer: CallTelemetry, correlationId?: string): Call =>
    testCall({ correlationId, observer });

  it('with nobody listening, builds and emits nothing, and still records the histograms', () => {
    const bus = new EventBus(() => {});
    const emit = vi.spyOn(bus, 'emit');
    const t = new CallTelemetry('p', bus, undefined, 'run1');
    for (let i = 0; i < 100; i++) {
      const c = call(t);
      c.markRunning(runner);
      if (i % 2) c.succeed(i);
      else c.fail(new CallTimeoutError('t', 1));
    }
    expect(emit).not.toHaveBeenCalled();
    expect(t.latency.count).toBe(100);
    expect(t.queueWait.count).toBe(100);
  });

  it('emits start, then exactly one of stop and exception, with the correlation id', () => {
    const bus = new EventBus(() => {});
    const seen: Array<[string, Record<string, unknown>]> = [];
    for (const name of ['call:start', 'call:stop', 'call:exception'] as const)
      bus.on(name, (p) => seen.push([name, p as unknown as Record<string, unknown>]));
    const t = new CallTelemetry('p', bus, undefined, 'run1');
    const ok = call(t, 'req-1');
    ok.markRunning(runner);
    ok.succeed(1);
    const timedOut = call(t);
    timedOut.fail(new CallTimeoutError('t', 1)); // never left the queue
    expect(seen.map(([n]) => n)).toEqual(['call:start', 'call:stop', 'call:exception']);
    expect(seen[1]![1]).toMatchObject({ correlationId: 'req-1', worker: 'w-1', attempt: 1, chunks: 0 });
    expect(seen[2]![1]).toMatchObject({
      correlationId: `run1-${timedOut.id}`,
      worker: undefined,
      kind: 'timeout',
      errorCode: 'SNAKEPIT_CALL_TIMEOUT',
    });
    expect(t.latency.count).toBe(1); // only calls that reached a worker
  });
});
