// `pit` has Node's EventEmitter interface: events.once / events.on work on it against real workers, once
// listeners run once, prepend orders, removal takes the latest registration, and a throwing listener is logged
// without touching the pool. The typed chunk parameter of executeStream is checked by the compiler here too.
import { EventEmitter, on, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SnakepitEvents } from '../../src/index.js';
import { recordingLogger, start } from '../helpers.js';

describe('pit as an EventEmitter', () => {
  it('events.once and events.on work on it; listeners are typed by event name', async () => {
    const pit = await start({ size: 1 });
    try {
      const stopped = once(pit, 'call:stop');
      expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
      const [stop] = (await stopped) as [SnakepitEvents['call:stop']];
      expect(stop.tool).toBe('add');
      // events.once listened for 'error' too, and removed both listeners when it resolved.
      expect(pit.listenerCount('call:stop')).toBe(0);
      expect(pit.eventNames()).toEqual([]);

      const ac = new AbortController();
      const seen: string[] = [];
      const iterate = (async () => {
        try {
          for await (const [e] of on(pit, 'call:stop', { signal: ac.signal }) as AsyncIterable<
            [SnakepitEvents['call:stop']]
          >) {
            seen.push(e.tool);
            if (seen.length === 3) ac.abort();
          }
        } catch (err) {
          if ((err as Error).name !== 'AbortError') throw err;
        }
      })();
      for (const tool of ['add', 'echo', 'add'])
        await pit.execute(tool, tool === 'add' ? { a: 1, b: 1 } : {});
      await iterate;
      expect(seen).toEqual(['add', 'echo', 'add']);
      expect(pit.listenerCount('call:stop')).toBe(0);

      // Typed chunks: the iterator yields the caller's chunk type.
      const chunks: number[] = [];
      for await (const chunk of pit.executeStream<{ i: number }>('count', { n: 3 })) chunks.push(chunk.i);
      expect(chunks).toEqual([0, 1, 2]);
    } finally {
      await pit.close();
    }
  });

  it('once, prepend, off and chaining behave as on an EventEmitter; a throwing listener is logged, not thrown', async () => {
    const logger = recordingLogger();
    const pit = await start({ size: 1, logger });
    const reference = new EventEmitter();
    try {
      const order: string[] = [];
      const a = (): void => void order.push('a');
      const b = (): void => void order.push('b');
      const c = (): void => void order.push('c');
      const boom = (): void => {
        throw new Error('listener bug');
      };
      // The same registrations on snakepit and on Node's EventEmitter give the same order and counts.
      for (const target of [pit, reference] as const) {
        const t = target as unknown as EventEmitter;
        expect(t.on('call:start', a).once('call:start', b).prependListener('call:start', c)).toBe(t);
        t.on('call:start', a).prependOnceListener('call:start', b);
        t.off('call:start', a); // the latest registration of a
      }
      expect(pit.listeners('call:start')).toEqual(reference.listeners('call:start'));
      expect(pit.rawListeners('call:start').length).toBe(reference.rawListeners('call:start').length);
      expect(pit.getMaxListeners()).toBe(10);
      pit.on('call:start', boom);

      await pit.execute('add', { a: 1, b: 1 });
      await pit.execute('add', { a: 2, b: 2 });
      const fromPit = order.splice(0);
      reference.emit('call:start');
      reference.emit('call:start');
      expect(fromPit).toEqual(order);
      expect(fromPit).toEqual(['b', 'c', 'a', 'b', 'c', 'a']);
      // The throwing listener ran on both calls; both calls answered, and the errors were logged.
      expect(logger.lines.filter((l) => l.level === 'error' && /listener/.test(l.msg)).length).toBe(2);

      pit.removeAllListeners('call:start');
      expect(pit.listenerCount('call:start')).toBe(0);
      expect(await pit.execute('add', { a: 3, b: 3 })).toBe(6);
    } finally {
      await pit.close();
    }
  });
});
