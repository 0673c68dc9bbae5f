// The dashboard's pieces without workers: the history sampler, the error ring, worker lines, access rules,
// Server-Sent Events both ways, the viewer's merge, the options, and `snakepit top`'s screen.
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, PythonValueError } from '../../src/index.js';
import { Access, isLoopback } from '../../src/dashboard/access.js';
import { resolveDashboardOptions } from '../../src/dashboard/dashboard.js';
import type {
  DashboardSnapshot,
  DashboardUpdate,
  ErrorEntry,
  HistoryPoint,
} from '../../src/dashboard/dashboard-types.js';
import { PoolHistory } from '../../src/dashboard/pool-history.js';
import { MAX_TRACEBACK_CHARS, RecentErrors } from '../../src/dashboard/recent-errors.js';
import { formatEvent, type SseEvent, SseParser } from '../../src/dashboard/sse.js';
import { parseDashboardUrl } from '../../src/dashboard/top-client.js';
import { printable, renderTop } from '../../src/dashboard/top-view.js';
import { applyUpdate } from '../../src/dashboard/viewer-state.js';
import { WorkerLineage } from '../../src/dashboard/worker-lineage.js';
import { fakePoolStats as stats } from '../fake-pool-stats.js';
import type { SnakepitEvents } from '../../src/telemetry/event-bus.js';
import { LogHistogram } from '../../src/telemetry/histogram.js';

describe('PoolHistory', () => {
  it('turns counters into per-second rates and the latency of each interval into percentiles', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(10, stats(), (into) => (h.copyCounts(into), true), 0);
    for (let i = 0; i < 99; i++) h.record(1);
    h.record(100);
    const p = history.sample(2000, stats({ requests: 100, errors: 4, queued: 3, inFlight: 2 }));
    expect(p).toMatchObject({ t: 2000, calls: 50, errors: 2, queued: 3, inFlight: 2 });
    expect(p.p50! / 1).toBeGreaterThanOrEqual(1);
    expect(p.p50!).toBeLessThan(1.1);
    expect(p.p99!).toBeLessThan(1.1); // the 99th of 100 values is still 1 ms
    // Nothing ended in the next interval: no percentiles, zero rates.
    const quiet = history.sample(3000, stats({ requests: 100, errors: 4 }));
    expect(quiet).toMatchObject({ calls: 0, errors: 0, p50: null, p99: null });
  });

  it('keeps `capacity` points, and the window histogram forgets what fell out', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(2, stats(), (into) => (h.copyCounts(into), true), 0);
    h.record(10);
    history.sample(1000, stats({ requests: 1 }));
    expect(history.latency()).toMatchObject({ count: 1 });
    h.record(0.05);
    history.sample(2000, stats({ requests: 2 }));
    expect(history.latency().count).toBe(2);
    history.sample(3000, stats({ requests: 2 })); // the 10 ms call's interval falls out
    expect(history.points.map((p) => p.t)).toEqual([2000, 3000]);
    const w = history.latency();
    expect(w.count).toBe(1);
    expect(w.p99).toBeLessThan(0.06);
    // One bar per doubling of microseconds, covering the value.
    expect(w.bars).toEqual([{ fromMs: 0.032, toMs: 0.064, count: 1 }]);
  });

  it('bars run contiguously from the lowest to the highest doubling with values', () => {
    const h = new LogHistogram();
    const history = new PoolHistory(5, stats(), (into) => (h.copyCounts(into), true), 0);
    h.record(0.001);
    h.record(3);
    history.sample(1000, stats());
    const { bars } = history.latency();
    expect(bars[0]).toMatchObject({ fromMs: 0, toMs: 0.002 }); // the first bar also holds everything below 1 µs
    expect(bars.at(-1)!.toMs).toBe(4.096);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(2);
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.fromMs).toBe(bars[i - 1]!.toMs);
  });

  it('without call telemetry: rates still, no latency', () => {
    const history = new PoolHistory(5, stats(), () => false, 0);
    expect(history.sample(500, stats({ requests: 10 }))).toMatchObject({ calls: 20, p50: null });
    expect(history.latency()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, bars: [] });
  });
});

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

describe('WorkerLineage', () => {
  const exited = (worker: string, pool = 'p') =>
    ({ pool, worker, crashed: true }) as SnakepitEvents['worker:exited'];
  it('a recycled worker passes its line to its replacement; its own exit is no death', () => {
    const l = new WorkerLineage();
    l.recycled({ pool: 'p', worker: 'p-1', replacement: 'p-3' } as SnakepitEvents['worker:recycled']);
    l.exited({ ...exited('p-1'), crashed: false });
    l.recycled({ pool: 'p', worker: 'p-3', replacement: 'p-4' } as SnakepitEvents['worker:recycled']);
    l.exited(exited('p-3'));
    expect(l.of('p-4')).toEqual({ restarts: 0, recycles: 2 });
    // No restart takes over p-1's or p-3's line: they were recycled.
    l.restarted({ pool: 'p', worker: 'p-5', pid: 1 });
    expect(l.of('p-5')).toEqual({ restarts: 1, recycles: 0 });
  });

  it('replacements take over the oldest exits of their own pool, one each', () => {
    const l = new WorkerLineage();
    l.recycled({ pool: 'p', worker: 'p-1', replacement: 'p-2' } as SnakepitEvents['worker:recycled']);
    l.exited(exited('p-1'));
    l.exited(exited('p-2'));
    l.exited(exited('q-1', 'q'));
    l.restarted({ pool: 'q', worker: 'q-2', pid: 1 });
    l.restarted({ pool: 'p', worker: 'p-3', pid: 1 });
    l.exited(exited('p-3'));
    l.restarted({ pool: 'p', worker: 'p-4', pid: 1 });
    expect(l.of('q-2')).toEqual({ restarts: 1, recycles: 0 });
    expect(l.of('p-4')).toEqual({ restarts: 2, recycles: 1 });
    expect(l.of('p-2')).toEqual({ restarts: 0, recycles: 0 }); // gone: forgotten
  });
});

function request(headers: Record<string, string>, localPort = 7433): IncomingMessage {
  return { headers, socket: { localPort } } as unknown as IncomingMessage;
}

describe('Access', () => {
  const TOKEN = 'a-token-of-24-characters';
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(h)).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.1',
      'example.com',
      '128.0.0.1',
      'localhost.evil.com',
    ]) {
      expect(isLoopback(h)).toBe(false);
    }
  });

  it('on loopback, refuses a request addressed to another host name (DNS rebinding)', () => {
    const a = new Access('127.0.0.1', undefined);
    const url = new URL('http://x/');
    for (const host of ['127.0.0.1:7433', 'localhost:7433', '[::1]:7433', 'LOCALHOST:7433']) {
      expect(a.check(request({ host }), url)).toEqual({ ok: true });
    }
    for (const host of ['evil.example:7433', '127.0.0.1:80', 'localhost', '', '127.0.0.1:7433.evil']) {
      expect(a.check(request({ host }), url)).toMatchObject({ ok: false, status: 421 });
    }
  });

  it('with a token: bearer, cookie or query; anything else is 401', () => {
    const a = new Access('0.0.0.0', TOKEN);
    const none = new URL('http://x/');
    const at9000 = (headers: Record<string, string>) => request(headers, 9000);
    const cookie = Access.cookieName(9000);
    expect(cookie).toBe('snakepit_dashboard_9000');
    expect(a.check(at9000({ host: 'anything:9000' }), none)).toMatchObject({ ok: false, status: 401 });
    expect(a.check(at9000({ authorization: `Bearer ${TOKEN}` }), none)).toEqual({ ok: true });
    expect(a.check(at9000({ authorization: `Bearer ${TOKEN}x` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ authorization: `Basic ${TOKEN}` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ cookie: `other=1; ${cookie}=${TOKEN}` }), none)).toEqual({ ok: true });
    expect(a.check(at9000({ cookie: `${cookie}=wrong` }), none)).toMatchObject({ status: 401 });
    expect(a.check(at9000({ cookie: `${cookie}=%E0%A4%A` }), none)).toMatchObject({ status: 401 });
    // Another dashboard's cookie (another port) does not count.
    expect(a.check(at9000({ cookie: `snakepit_dashboard_9001=${TOKEN}` }), none)).toMatchObject({
      status: 401,
    });
    const withQuery = a.check(at9000({}), new URL(`http://x/?token=${TOKEN}`));
    expect(withQuery).toMatchObject({ ok: true });
    expect((withQuery as { cookie: string }).cookie).toBe(
      `snakepit_dashboard_9000=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`,
    );
    expect(a.check(at9000({}), new URL('http://x/?token='))).toMatchObject({ status: 401 });
  });

  it('a token on loopback is required too, after the host check', () => {
    const a = new Access('127.0.0.1', TOKEN);
    expect(a.check(request({ host: '127.0.0.1:1234' }, 1234), new URL('http://x/'))).toMatchObject({
      status: 401,
    });
    expect(
      a.check(request({ host: 'evil:1234', authorization: `Bearer ${TOKEN}` }, 1234), new URL('http://x/')),
    ).toMatchObject({ status: 421 });
  });
});

describe('dashboard options', () => {
  it('defaults: loopback, port 7433, no token, 1 s interval, 5 min of history', () => {
    expect(resolveDashboardOptions(undefined)).toEqual({
      port: 7433,
      host: '127.0.0.1',
      token: undefined,
      intervalMs: 1000,
      historyMs: 300_000,
    });
  });

  it('off loopback without a token: one is generated', () => {
    const a = resolveDashboardOptions({ host: '0.0.0.0' });
    const b = resolveDashboardOptions({ host: '0.0.0.0' });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.token).not.toBe(b.token);
    expect(resolveDashboardOptions({ host: '::', token: 'x'.repeat(16) }).token).toBe('x'.repeat(16));
  });

  it('refuses bad options, naming them', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ port: -1 }, /dashboard\.port: must be an integer from 0 to 65535/],
      [{ port: '80' }, /dashboard\.port/],
      [{ host: '' }, /dashboard\.host/],
      [
        { token: 'short' },
        /dashboard\.token: must be a string of at least 16 characters .* got 5 characters/,
      ],
      [{ token: 12 }, /dashboard\.token/],
      [{ intervalMs: 10 }, /dashboard\.intervalMs/],
      [{ intervalMs: 1000, historyMs: 500 }, /dashboard\.historyMs/],
      [{ prot: 1 }, /dashboard\.prot: is not a known option/],
      ['x', /dashboard: options must be an object/],
    ];
    for (const [options, message] of bad) {
      expect(() => resolveDashboardOptions(options)).toThrow(ConfigError);
      expect(() => resolveDashboardOptions(options)).toThrow(message);
    }
  });
});

describe('Server-Sent Events', () => {
  it('what formatEvent writes, SseParser reads back, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            event: fc.constantFrom('snapshot', 'update', 'message'),
            data: fc.string({ unit: 'grapheme', maxLength: 200 }),
            id: fc.option(fc.nat(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.nat({ max: 50 }), { maxLength: 20 }),
        (events, cuts) => {
          const text = events.map((e) => formatEvent(e.event, e.data, e.id)).join('');
          const got: SseEvent[] = [];
          const parser = new SseParser((e) => got.push(e));
          let at = 0;
          for (const cut of cuts) {
            parser.push(text.slice(at, at + cut));
            at += cut;
          }
          parser.push(text.slice(at));
          // Line breaks inside data come back as \n (SSE's own rule); an event's id carries on to the next.
          let lastId: string | undefined;
          const expected = events.map((e) => {
            if (e.id !== undefined) lastId = String(e.id);
            return { event: e.event, data: e.data.replace(/\r\n|\r/g, '\n'), id: lastId };
          });
          expect(got).toEqual(expected);
        },
      ),
    );
  });

  it('ignores comments and unknown fields; refuses an event larger than its limit', () => {
    const got: SseEvent[] = [];
    const parser = new SseParser((e) => got.push(e), 100);
    parser.push(': hello\nretry: 2000\nfoo: bar\n\ndata:x\n\n');
    expect(got).toEqual([{ event: 'message', data: 'x', id: undefined }]);
    expect(() => parser.push(`data: ${'y'.repeat(200)}`)).toThrow(/more than 100 characters/);
  });
});

function point(t: number, over: Partial<HistoryPoint> = {}): HistoryPoint {
  return { t, calls: 1, errors: 0, queued: 0, inFlight: 0, p50: 1, p99: 2, ...over };
}

function errorEntry(seq: number, over: Partial<ErrorEntry> = {}): ErrorEntry {
  return {
    seq,
    at: 1_700_000_000_000 + seq,
    pool: 'default',
    tool: 'boom',
    worker: 'default-1',
    session: undefined,
    correlationId: `c-${seq}`,
    errorName: 'PythonValueError',
    errorCode: 'SNAKEPIT_PYTHON_VALUE_ERROR',
    kind: 'python',
    message: `ValueError: bad ${seq}`,
    pythonType: 'ValueError',
    traceback: `Traceback (most recent call last):\n  File "a.py", line 1, in boom\nValueError: bad ${seq}`,
    durationMs: 1,
    ...over,
  };
}

function snapshot(over: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    version: 1,
    at: 10_000,
    intervalMs: 1000,
    historyMs: 3000,
    host: { pid: 1, runId: 'r', hostname: 'h', node: 'v20', rssMb: 50, uptimeMs: 1000 },
    pools: [
      {
        name: 'default',
        state: 'ready',
        stats: stats({ requests: 5 }),
        workers: [
          {
            id: 'default-1',
            sharedMemory: true,
            pool: 'default',
            pid: 42,
            state: 'ready',
            load: 0,
            served: 5,
            codec: 'msgpack',
            python: '3.11',
            pythonExecutable: 'python3',
            pythonSource: 'PATH',
            uptimeMs: 65_000,
            lastError: undefined,
            rssMb: 14.5,
            profile: 'process',
            freeThreaded: false,
            restarts: 1,
            recycles: 2,
          },
        ],
        latency: { count: 0, p50: 0, p90: 0, p99: 0, bars: [] },
        history: [point(8000), point(9000), point(10_000)],
      },
    ],
    sessions: { stats: { active: 0, created: 0, deleted: 0, expired: 0 }, newest: [], limit: 50 },
    errors: [errorEntry(2), errorEntry(1)],
    ...over,
  };
}

describe('viewer state', () => {
  it('appends each update’s point, drops points older than the history, and puts new errors first', () => {
    const s = snapshot();
    const { history: _h, ...pool } = s.pools[0]!;
    const update: DashboardUpdate = {
      version: 1,
      at: 11_000,
      host: s.host,
      pools: [{ ...pool, point: point(11_000, { calls: 7 }) }],
      sessions: s.sessions,
      errors: [errorEntry(3)],
    };
    const next = applyUpdate(s, update);
    expect(next.pools[0]!.history.map((p) => p.t)).toEqual([9000, 10_000, 11_000]);
    expect(next.errors.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(next.at).toBe(11_000);
  });
});

describe('snakepit top screen', () => {
  it('shows pools, workers with their lines, and the newest traceback, within the terminal', () => {
    const lines = renderTop(snapshot(), {
      columns: 100,
      rows: 40,
      source: 'http://x/',
      status: 'live',
      footer: true,
    });
    const text = lines.map((l) => l.text).join('\n');
    expect(text).toMatch(/pool default \[ready\]/);
    expect(text).toMatch(/default-1\s+ready\s+42\s+process\s+0\s+14\.5\s+1m05s\s+5\s+1\s+2/);
    expect(text).toContain('ValueError: bad 2');
    expect(text).toContain('File "a.py", line 1, in boom');
    expect(lines.at(-1)!.text).toBe('q quit');
    for (const l of lines) expect(Array.from(l.text).length).toBeLessThanOrEqual(100);
  });

  it('fits a small terminal: cut lines, errors dropped first', () => {
    const lines = renderTop(snapshot(), {
      columns: 30,
      rows: 12,
      source: 'http://x/',
      status: 'live',
      footer: true,
    });
    expect(lines.length).toBeLessThanOrEqual(12);
    for (const l of lines) expect(Array.from(l.text).length).toBeLessThanOrEqual(30);
    expect(lines.at(-1)!.text).toBe('q quit');
  });

  it('nothing a worker sent can reach the terminal as a control sequence', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ maxLength: 50 }),
        (message, tool) => {
          const s = snapshot({
            errors: [errorEntry(1, { message, tool, traceback: message, errorName: tool })],
          });
          const text = renderTop(s, { columns: 200, rows: 60, source: 'x', status: 'live' })
            .map((l) => l.text)
            .join('');
          // eslint-disable-next-line no-control-regex
          expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
          expect(printable(message)).not.toContain('\u001b');
        },
      ),
    );
  });
});

describe('snakepit top address', () => {
  it('takes the token from the address unless one is given, and normalises the base', () => {
    expect(parseDashboardUrl('http://127.0.0.1:9/?token=abc', undefined)).toMatchObject({ token: 'abc' });
    expect(parseDashboardUrl('http://127.0.0.1:9/?token=abc', 'given').token).toBe('given');
    expect(parseDashboardUrl('127.0.0.1:9', undefined).base.href).toBe('http://127.0.0.1:9/');
    expect(parseDashboardUrl('http://h:9/sub', undefined).base.href).toBe('http://h:9/sub/');
    expect(() => parseDashboardUrl('ftp://h/', undefined)).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseDashboardUrl('http://[', undefined)).toThrow(/not a dashboard address/);
  });
});
