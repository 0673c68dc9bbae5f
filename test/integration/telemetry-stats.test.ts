// Stats and Prometheus metrics agree with a counted workload: N results, M Python errors, K timeouts; the
// exposition text is valid (a strict parser), and it is the same whether prom-client or snakepit renders it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CallTimeoutError, PythonValueError } from '../../src/index.js';
import { LogHistogram } from '../../src/telemetry/histogram.js';
import { collectMetrics, METRIC_DEFS, renderExposition } from '../../src/telemetry/metrics.js';
import { loadPromClient, renderWithPromClient } from '../../src/telemetry/prometheus.js';
import { eventually, start } from '../helpers.js';
import { parsePrometheusText } from '../prom-text.js';
import { fakePoolStats } from '../fake-pool-stats.js';

const ADAPTER = 'snakepit_fixtures.observable:ObservableAdapter';
const N = 40;
const M = 7;
const K = 3;
const STREAM = 25;

describe('stats and metrics against a counted workload', () => {
  it(`${N} results, ${M} errors, ${K} timeouts, one stream of ${STREAM}`, async () => {
    const pit = await start({ adapter: ADAPTER, size: 2, name: 'counted' });
    const outcomes = { stop: 0, python: 0, timeout: 0 };
    pit.on('call:stop', () => outcomes.stop++);
    pit.on('call:exception', (e) => outcomes[e.kind as 'python' | 'timeout']++);
    try {
      await Promise.all(Array.from({ length: N }, (_, i) => pit.execute('add', { a: i, b: 1 })));
      const errors = await Promise.allSettled(Array.from({ length: M }, () => pit.execute('fail', {})));
      expect(errors.every((r) => r.status === 'rejected' && r.reason instanceof PythonValueError)).toBe(true);
      for (let i = 0; i < K; i++) {
        // one at a time, each on a free worker, so every timeout is a call that reached Python
        await eventually(() => pit.stats('counted').inFlight === 0, 10_000, 'a free worker');
        const err = await pit.execute('sleep', { seconds: 10 }, { timeoutMs: 150 }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(CallTimeoutError);
      }
      let chunks = 0;
      for await (const _ of pit.executeStream('count', { n: STREAM })) chunks++;
      expect(chunks).toBe(STREAM);
      // The timed-out calls' cancellations are answered by the worker (and counted as requests) shortly after.
      await eventually(() => pit.stats('counted').inFlight === 0, 10_000, 'the cancels to be answered');

      const calls = N + M + K + 1;
      const stats = pit.stats('counted');
      expect(stats).toMatchObject({
        pool: 'counted',
        workers: 2,
        available: 2,
        busy: 0,
        queued: 0,
        inFlight: 0,
        requests: calls,
        errors: M + K,
        timeouts: K,
        saturations: 0,
        restarts: 0,
        recycles: 0,
        retries: 0,
        degraded: false,
        streamChunks: STREAM,
      });
      expect(stats.latencyMs.count).toBe(calls);
      expect(stats.queueWaitMs.count).toBe(calls);
      const { p50, p90, p95, p99, max, mean } = stats.latencyMs;
      expect(0 < p50 && p50 <= p90 && p90 <= p95 && p95 <= p99 && p99 <= max).toBe(true);
      expect(max).toBeGreaterThanOrEqual(150); // the timeouts waited 150 ms
      expect(mean).toBeGreaterThan(0);
      expect(outcomes).toEqual({ stop: N + 1, python: M, timeout: K });
      expect(pit.workers('counted').reduce((n, w) => n + w.served, 0)).toBe(calls);

      const text = await pit.metrics();
      const prom = parsePrometheusText(text);
      for (const name of prom.types.keys()) expect(name.startsWith('snakepit_')).toBe(true);
      const pool = { pool: 'counted' };
      expect(prom.value('snakepit_requests_total', pool)).toBe(calls);
      expect(prom.value('snakepit_errors_total', pool)).toBe(M + K);
      expect(prom.value('snakepit_timeouts_total', pool)).toBe(K);
      expect(prom.value('snakepit_saturations_total', pool)).toBe(0);
      expect(prom.value('snakepit_stream_chunks_total', pool)).toBe(STREAM);
      expect(prom.value('snakepit_workers', pool)).toBe(2);
      expect(prom.value('snakepit_workers_available', pool)).toBe(2);
      expect(prom.value('snakepit_queue_depth', pool)).toBe(0);
      expect(prom.value('snakepit_call_duration_seconds_count', pool)).toBe(calls);
      expect(prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '+Inf' })).toBe(calls);
      expect(prom.value('snakepit_call_duration_seconds_sum', pool)).toBeCloseTo((mean * calls) / 1000, 2);
      // at least the K timeouts took longer than 0.131072 s; at most N+M+1 calls were faster
      const below = prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '0.131072' })!;
      expect(below).toBeLessThanOrEqual(calls - K);
      expect(prom.value('snakepit_queue_wait_seconds_count', pool)).toBe(calls);
      expect(prom.value('snakepit_sessions_active')).toBe(0);
      for (const w of pit.workers('counted')) {
        expect(prom.value('snakepit_worker_requests_total', { pool: 'counted', worker: w.id })).toBe(
          w.served,
        );
        expect(prom.value('snakepit_worker_rss_bytes', { pool: 'counted', worker: w.id })).toBeGreaterThan(
          1e6,
        );
      }
    } finally {
      await pit.close();
    }
  }, 60_000);
});

describe('per-tool metrics', () => {
  it("label the pool's configured tools only: the adapter's and the libraries' listed functions", async () => {
    const pit = await start({
      adapter: ADAPTER,
      size: 1,
      name: 'tools',
      libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }],
    });
    try {
      for (let i = 0; i < 3; i++) await pit.execute('add', { a: i, b: 1 });
      for (let i = 0; i < 2; i++) await pit.execute('fail', {}).catch(() => undefined);
      expect(await pit.execute('python.math.sqrt', { _args: [16] })).toBe(4);
      // Names a caller makes up get no series, however many: the label's values stay bounded.
      for (const name of ['nope', 'x'.repeat(5000), 'python.math.floor']) {
        await pit.execute(name, {}).catch(() => undefined);
      }
      const prom = parsePrometheusText(await pit.metrics());
      const tool = (name: string): Record<string, string> => ({ pool: 'tools', tool: name });
      expect(prom.value('snakepit_tool_calls_total', tool('add'))).toBe(3);
      expect(prom.value('snakepit_tool_errors_total', tool('add'))).toBe(0);
      expect(prom.value('snakepit_tool_calls_total', tool('fail'))).toBe(2);
      expect(prom.value('snakepit_tool_errors_total', tool('fail'))).toBe(2);
      expect(prom.value('snakepit_tool_calls_total', tool('python.math.sqrt'))).toBe(1);
      expect(prom.value('snakepit_tool_call_duration_seconds_count', tool('add'))).toBe(3);
      expect(prom.value('snakepit_tool_call_duration_seconds_bucket', { ...tool('add'), le: '+Inf' })).toBe(
        3,
      );
      const labelled = new Set(
        prom.samples.filter((x) => x.name === 'snakepit_tool_calls_total').map((x) => x.labels['tool']),
      );
      expect(labelled.has('nope')).toBe(false);
      expect(labelled.has('python.math.floor')).toBe(false);
      expect([...labelled].every((n) => n!.length < 100)).toBe(true);
      // The pool's totals still count them (the 5000-character name is refused before it reaches the pool).
      expect(prom.value('snakepit_errors_total', { pool: 'tools' })).toBe(4);
    } finally {
      await pit.close();
    }
  });
});

describe('the exposition text', () => {
  const sample = (rssMb?: number): Parameters<typeof collectMetrics>[0] => {
    const latency = new LogHistogram();
    const queueWait = new LogHistogram();
    for (const ms of [0.0005, 0.05, 0.2, 1, 3.3, 40, 900, 70_000]) latency.record(ms);
    queueWait.record(0.01);
    const stats = fakePoolStats({
      pool: 'a"b\\c\nd', // every character that needs escaping in a label value
      requests: 8,
      errors: 1,
      heartbeatsMissed: 2,
      latencyMs: latency.summary(),
      queueWaitMs: queueWait.summary(),
    });
    const worker = {
      id: 'w-1',
      pool: stats.pool,
      pid: 1,
      state: 'ready',
      load: 0,
      served: 8,
      codec: 'msgpack',
      profile: 'process' as const,
      python: '3.11',
      freeThreaded: false,
      pythonExecutable: 'python3',
      pythonSource: 'test',
      uptimeMs: 1500,
      lastError: undefined,
      rssMb,
      sharedMemory: true,
    };
    const tools = new Map([['add', { calls: 3, errors: 1, latency }]]);
    return {
      pools: [{ stats, latency, queueWait, chunks: 0, workers: [worker], tools }],
      sessions: { active: 1, created: 2, deleted: 1, expired: 0 },
    };
  };

  it('is valid, escapes label values, and buckets are exact', () => {
    const prom = parsePrometheusText(renderExposition(collectMetrics(sample())));
    const pool = { pool: 'a"b\\c\nd' };
    expect(prom.value('snakepit_heartbeats_missed_total', pool)).toBe(2);
    expect(prom.value('snakepit_call_duration_seconds_count', pool)).toBe(8);
    // 0.5 µs, 50 µs below 64 µs; 200 µs below 256 µs; 70 s only in +Inf
    expect(prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '0.000064' })).toBe(2);
    expect(prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '0.000256' })).toBe(3);
    expect(prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '67.108864' })).toBe(7);
    expect(prom.value('snakepit_call_duration_seconds_bucket', { ...pool, le: '+Inf' })).toBe(8);
    expect(prom.value('snakepit_sessions_created_total')).toBe(2);
    // no RSS known: no sample, rather than a made-up one
    expect(prom.samples.some((s) => s.name === 'snakepit_worker_rss_bytes')).toBe(false);
  });

  it('the parser rejects what Prometheus would', () => {
    const bad = [
      'snakepit_x 1\n', // no TYPE
      '# TYPE snakepit_x counter\nsnakepit_x -1\n', // negative counter
      '# TYPE snakepit_x gauge\nsnakepit_x{a="1} 1\n', // unterminated label
      '# TYPE snakepit_x gauge\nsnakepit_x 1', // no final newline
      '# TYPE snakepit_h histogram\nsnakepit_h_bucket{le="1"} 2\nsnakepit_h_bucket{le="+Inf"} 1\nsnakepit_h_sum 1\nsnakepit_h_count 1\n',
      '# TYPE snakepit_h histogram\nsnakepit_h_bucket{le="1"} 1\nsnakepit_h_sum 1\nsnakepit_h_count 1\n', // no +Inf
      '# TYPE snakepit_x gauge\nsnakepit_x 1\nsnakepit_x 2\n', // duplicate series
    ];
    for (const text of bad) expect(() => parsePrometheusText(text), text).toThrow();
  });

  it('prom-client renders the same samples as snakepit does', async () => {
    const prom = await loadPromClient();
    expect(prom, 'prom-client is a devDependency').toBeDefined();
    const families = collectMetrics(sample());
    const ours = parsePrometheusText(renderExposition(families));
    const theirs = parsePrometheusText(await renderWithPromClient(prom!, families));
    expect(theirs.samples).toEqual(ours.samples);
    expect([...theirs.types]).toEqual([...ours.types]);
  });

  it('docs/TELEMETRY.md lists every metric, with its type and labels', () => {
    const doc = readFileSync(new URL('../../docs/TELEMETRY.md', import.meta.url), 'utf8');
    const rows = new Map<string, { type: string; labels: string[] }>();
    for (const m of doc.matchAll(/^\| `(snakepit_\w+)` \| (\w+) \| ([^|]*) \|/gm)) {
      rows.set(m[1]!, { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((x) => x[1]!) });
    }
    const families = collectMetrics(sample(12.5));
    expect([...rows.keys()]).toEqual(METRIC_DEFS.map((d) => d.name));
    for (const f of families) {
      expect(rows.get(f.name)!.type, f.name).toBe(f.type);
      const labels = new Set(f.samples.flatMap((s) => Object.keys(s.labels)).filter((l) => l !== 'le'));
      expect([...labels].sort(), f.name).toEqual([...rows.get(f.name)!.labels].sort());
    }
  });
});
