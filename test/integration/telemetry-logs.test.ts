// Worker output as logs: print() and logging lines arrive tagged with the worker that wrote them, as `log`
// events and on the configured logger; Python logging records keep their level and carry the call's
// correlation id, on the host and in Python.
import { describe, expect, it, vi } from 'vitest';
import type { SnakepitEvents } from '../../src/index.js';
import { consoleLogger } from '../../src/util/logger.js';
import { eventually, recordingLogger, start } from '../helpers.js';

const ADAPTER = 'snakepit_fixtures.observable:ObservableAdapter';
type LogEvent = SnakepitEvents['log'];
interface Said {
  worker: string;
  correlation_id: string;
  record_cid: string;
}

describe('worker logs', () => {
  it('print() and logging lines arrive tagged with the right worker and call', async () => {
    const logger = recordingLogger();
    const pit = await start({ adapter: ADAPTER, size: 2, logger, pipelineDepth: 1 });
    const events: LogEvent[] = [];
    pit.on('log', (e) => events.push(e));
    try {
      // 8 calls spread over both workers (each sleeps a little, so both are busy); half carry an id of ours.
      const calls = Array.from({ length: 8 }, (_, i) => {
        const correlationId = i % 2 === 0 ? `req-${i}` : undefined;
        return pit
          .execute<Said>('say', { text: `t${i}`, pause: 0.05 }, correlationId ? { correlationId } : {})
          .then((said) => ({ i, correlationId, said }));
      });
      const results = await Promise.all(calls);
      expect(new Set(results.map((r) => r.said.worker)).size).toBe(2); // both workers spoke
      const ids = pit.workers().map((w) => w.id);
      // stdout and stderr come through their own pipes: they may arrive after the result
      await eventually(
        () => events.filter((e) => / text=t\d$/.test(e.line)).length === 8 * 6,
        5000,
        'all lines',
      );

      for (const { i, correlationId, said } of results) {
        // Python sees the caller's id, or the default one the host uses too
        if (correlationId) expect(said.correlation_id).toBe(correlationId);
        else expect(said.correlation_id).toMatch(new RegExp(`^${pit.runId}-\\d+$`));
        expect(said.record_cid).toBe(said.correlation_id); // logging records made in the call carry it

        const mine = events.filter((e) => e.line.endsWith(` text=t${i}`));
        const kinds = mine.map((e) => `${e.stream}/${e.level}/${e.line.split(' ')[0]}`).sort();
        expect(kinds).toEqual([
          'logging/error/critical',
          'logging/error/error',
          'logging/info/info',
          'logging/warn/warning',
          'stderr/warn/stderr',
          'stdout/info/stdout',
        ]);
        for (const e of mine) {
          expect(ids).toContain(e.worker);
          expect(e.worker).toBe(said.worker);
          expect(e.line).toContain(`worker=${e.worker} `);
          expect(e.pool).toBe('default');
          if (e.stream === 'logging') {
            expect(e).toMatchObject({ logger: 'fixture.observable', correlationId: said.correlation_id });
            expect(typeof e.callId).toBe('number');
          } else {
            expect(e).toMatchObject({ logger: undefined, callId: undefined, correlationId: undefined });
          }
        }
        // the configured logger got the same lines, with the same tags
        const logged = logger.lines.filter((l) => l.msg.endsWith(` text=t${i}`));
        expect(logged).toHaveLength(6);
        for (const l of logged) {
          expect(l.fields).toMatchObject({ pool: 'default', worker: said.worker });
          if (l.fields['stream'] === 'logging') expect(l.fields['correlationId']).toBe(said.correlation_id);
        }
      }
      // debug records are below the worker's INFO root level: not forwarded at all
      expect(events.some((e) => e.line.startsWith('debug '))).toBe(false);
    } finally {
      await pit.close();
    }
  });

  it('the console logger filters by level and shows the correlation id', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const log = consoleLogger('warn');
      log.info({ worker: 'default-1' }, 'hidden');
      log.warn({ worker: 'default-1', correlationId: 'req-7' }, 'shown');
      expect(out).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalledWith('[snakepit default-1 req-7] shown');
    } finally {
      out.mockRestore();
      warn.mockRestore();
    }
  });

  it('a bad correlationId is refused before anything is sent', async () => {
    const pit = await start({ adapter: ADAPTER, size: 1 });
    try {
      await expect(pit.execute('add', { a: 1, b: 2 }, { correlationId: '' })).rejects.toThrow(
        /correlationId/,
      );
      await expect(pit.execute('add', { a: 1, b: 2 }, { correlationId: 'x'.repeat(257) })).rejects.toThrow(
        /256/,
      );
      await expect(
        pit.execute('add', { a: 1, b: 2 }, { correlationId: 7 as unknown as string }),
      ).rejects.toThrow(/correlationId/);
      expect(pit.stats().default!.requests).toBe(0);
    } finally {
      await pit.close();
    }
  });
});
