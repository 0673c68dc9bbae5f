// The pieces of telemetry without workers: the histogram, the event bus and diagnostics_channel, the call
// observer (no payload built for nobody), missed heartbeats, and the telemetry config.
import { testCall } from './test-call.js';
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { Call, type CallRunner } from '../../src/call/call.js';
import { CallTelemetry } from '../../src/telemetry/call-telemetry.js';
import { channelName, EventBus } from '../../src/telemetry/event-bus.js';
import { LogHistogram } from '../../src/telemetry/histogram.js';
import { Heartbeat } from '../../src/worker/heartbeat.js';
import { CallTimeoutError } from '../../src/errors/errors.js';

describe('LogHistogram', () => {
  it('percentiles are within one bucket (9 %) of the exact value', () => {
    const h = new LogHistogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 10_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const ms = 0.02 * Math.exp((x / 2 ** 31) * 9); // 20 µs … 160 ms, log-uniform
      values.push(ms);
      h.record(ms);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const got = h.percentile(q);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got / exact).toBeLessThan(1.091);
    }
    expect(h.count).toBe(10_000);
    expect(h.max).toBe(values.at(-1));
    expect(h.percentile(1)).toBe(h.max);
    expect(h.sum).toBeCloseTo(
      values.reduce((a, b) => a + b, 0),
      6,
    );
  });

  it('counts below powers of two of microseconds exactly, and keeps the extremes', () => {
    const h = new LogHistogram();
    for (const ms of [0, 0.0009, 0.001, 0.0639, 0.064, 0.0641, 1e12]) h.record(ms);
    expect(h.countBelowPow2Us(0)).toBe(0);
    expect(h.countBelowPow2Us(1)).toBe(3); // 0, 0.9 µs and 1 µs are below 2 µs
    expect(h.countBelowPow2Us(6)).toBe(4); // 63.9 µs < 64 µs ≤ 64 µs
    expect(h.countBelowPow2Us(40)).toBe(6);
    expect(h.countBelowPow2Us(41)).toBe(7); // the last bucket holds everything beyond
    expect(h.summary()).toMatchObject({ count: 7, max: 1e12 });
    expect(new LogHistogram().summary()).toEqual({
      count: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      max: 0,
    });
  });
});

describe('EventBus', () => {
  it('publishes on pit.on listeners and diagnostics_channel alike, and says when anyone listens', () => {
    const bus = new EventBus(() => {});
    expect(bus.wants('session:created')).toBe(false);
    const onChannel: unknown[] = [];
    const sub = (m: unknown): number => onChannel.push(m);
    diagnosticsChannel.subscribe(channelName('session:created'), sub);
    try {
      expect(bus.wants('session:created')).toBe(true);
      expect(bus.hasListeners('session:created')).toBe(false);
      const onBus: unknown[] = [];
      const off = bus.on('session:created', (p) => onBus.push(p));
      const payload = { session: 's' };
      bus.emit('session:created', payload);
      expect(onChannel).toEqual([payload]);
      expect(onBus[0]).toBe(payload);
      off();
    } finally {
      diagnosticsChannel.unsubscribe(channelName('session:created'), sub);
    }
    expect(bus.wants('session:created')).toBe(false);
  });

  it('a listener that throws is reported, and the others still run', () => {
    const errors: string[] = [];
    const bus = new EventBus((event) => errors.push(event));
    const seen: string[] = [];
    bus.on('session:created', () => {
      throw new Error('boom');
    });
    bus.on('session:created', (p) => seen.push(p.session));
    bus.emit('session:created', { session: 'x' });
    expect(errors).toEqual(['session:created']);
    expect(seen).toEqual(['x']);
  });
});

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

describe('telemetry config', () => {
  const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
  it('defaults, switches, and bad values named', () => {
    expect(resolveConfig({ adapter: ADAPTER }).telemetry).toEqual({ calls: true, tracing: 'auto' });
    expect(resolveConfig({ adapter: ADAPTER, telemetry: false }).telemetry).toEqual({
      calls: false,
      tracing: false,
    });
    expect(resolveConfig({ adapter: ADAPTER, telemetry: { tracing: false } }).telemetry).toEqual({
      calls: true,
      tracing: false,
    });
    for (const [telemetry, key] of [
      ['yes', 'telemetry'],
      [{ traces: true }, 'telemetry.traces'],
      [{ calls: 1 }, 'telemetry.calls'],
      [{ tracing: 'always' }, 'telemetry.tracing'],
      [{ calls: false, tracing: true }, 'telemetry.tracing'],
    ] as const) {
      expect(() => resolveConfig({ adapter: ADAPTER, telemetry: telemetry as never })).toThrow(ConfigError);
      expect(() => resolveConfig({ adapter: ADAPTER, telemetry: telemetry as never })).toThrow(key);
    }
  });
});
