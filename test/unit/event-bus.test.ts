// EventBus (src/telemetry/event-bus.ts): listeners and diagnostics_channel.
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { channelName, EventBus } from '../../src/telemetry/event-bus.js';

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
