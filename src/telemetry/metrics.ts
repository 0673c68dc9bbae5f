/**
 * Metrics: the pools' stats as Prometheus metric families (all named `snakepit_*`), read at scrape time — nothing
 * is recorded per call beyond what `pit.stats()` already keeps — and the text exposition format (0.0.4) to render
 * them without any dependency. `prometheus.ts` hands the same families to prom-client when it is installed.
 *
 * docs/TELEMETRY.md lists every metric; `METRIC_DEFS` below is the source of that list.
 */
import type { PoolStats, WorkerInfo } from '../pool/pool-stats.js';
import type { SessionStoreStats } from '../session/session-store.js';
import type { ToolMetrics } from './call-telemetry.js';
import type { LogHistogram } from './histogram.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSample {
  /** The sample's full name (a histogram's `_bucket`, `_sum`, `_count`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

/** One pool, as the metrics see it. */
export interface PoolMetricsSource {
  stats: PoolStats;
  latency: LogHistogram;
  queueWait: LogHistogram;
  chunks: number;
  workers: WorkerInfo[];
  /** Per-tool figures of the pool's configured tools (absent: none). */
  tools?: ReadonlyMap<string, ToolMetrics>;
}

export interface MetricsSource {
  pools: PoolMetricsSource[];
  sessions: SessionStoreStats;
}

/** The content type of the text exposition format `pit.metrics()` returns. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Histogram `le` bounds: powers of two of microseconds, 32 µs … 67 s (exact against LogHistogram's buckets). */
const LE_POW2_US = Array.from({ length: 22 }, (_, i) => i + 5);

type PoolValue = (p: PoolMetricsSource) => number;
type WorkerValue = (w: WorkerInfo) => number | undefined;

interface Def {
  name: string;
  help: string;
  type: MetricType;
  pool?: PoolValue;
  worker?: WorkerValue;
  histogram?: (p: PoolMetricsSource) => LogHistogram;
  tool?: (t: ToolMetrics) => number;
  toolHistogram?: (t: ToolMetrics) => LogHistogram;
  sessions?: (s: SessionStoreStats) => number;
}

/** Every metric snakepit exports, in the order docs/TELEMETRY.md lists them. */
export const METRIC_DEFS: readonly Def[] = [
  {
    name: 'snakepit_workers',
    help: 'Workers that exist (starting or ready).',
    type: 'gauge',
    pool: (p) => p.stats.workers,
  },
  {
    name: 'snakepit_workers_available',
    help: 'Ready workers with no call in flight.',
    type: 'gauge',
    pool: (p) => p.stats.available,
  },
  {
    name: 'snakepit_workers_busy',
    help: 'Ready workers with at least one call in flight.',
    type: 'gauge',
    pool: (p) => p.stats.busy,
  },
  {
    name: 'snakepit_queue_depth',
    help: 'Calls waiting for a worker.',
    type: 'gauge',
    pool: (p) => p.stats.queued,
  },
  {
    name: 'snakepit_calls_in_flight',
    help: 'Calls in flight on workers.',
    type: 'gauge',
    pool: (p) => p.stats.inFlight,
  },
  {
    name: 'snakepit_pool_degraded',
    help: '1 while worker starts keep failing (the pool keeps trying with back-off).',
    type: 'gauge',
    pool: (p) => (p.stats.degraded ? 1 : 0),
  },
  {
    name: 'snakepit_requests_total',
    help: 'Calls answered by a worker (results and errors).',
    type: 'counter',
    pool: (p) => p.stats.requests,
  },
  {
    name: 'snakepit_errors_total',
    help: 'Calls that ended in an error of any kind.',
    type: 'counter',
    pool: (p) => p.stats.errors,
  },
  {
    name: 'snakepit_timeouts_total',
    help: 'Calls that hit their timeout (call or queue).',
    type: 'counter',
    pool: (p) => p.stats.timeouts,
  },
  {
    name: 'snakepit_saturations_total',
    help: 'Calls refused because the queue was full.',
    type: 'counter',
    pool: (p) => p.stats.saturations,
  },
  {
    name: 'snakepit_worker_restarts_total',
    help: 'Workers started to replace workers that died.',
    type: 'counter',
    pool: (p) => p.stats.restarts,
  },
  {
    name: 'snakepit_worker_recycles_total',
    help: 'Workers replaced on purpose (ttl, maxRequests, maxRssMb, recycleWorker).',
    type: 'counter',
    pool: (p) => p.stats.recycles,
  },
  {
    name: 'snakepit_call_retries_total',
    help: 'Idempotent calls queued again after their worker died.',
    type: 'counter',
    pool: (p) => p.stats.retries,
  },
  {
    name: 'snakepit_call_returns_total',
    help: 'Calls a worker gave back before they began (withdrawn, or unstarted when it died), run elsewhere.',
    type: 'counter',
    pool: (p) => p.stats.returned,
  },
  {
    name: 'snakepit_heartbeats_missed_total',
    help: 'Heartbeat pings a worker left unanswered for an interval.',
    type: 'counter',
    pool: (p) => p.stats.heartbeatsMissed,
  },
  {
    name: 'snakepit_stream_chunks_total',
    help: 'Chunks received by stream calls.',
    type: 'counter',
    pool: (p) => p.chunks,
  },
  {
    name: 'snakepit_call_duration_seconds',
    help: 'Submission to settlement of calls that reached a worker, queue wait included.',
    type: 'histogram',
    histogram: (p) => p.latency,
  },
  {
    name: 'snakepit_queue_wait_seconds',
    help: 'Submission to dispatch of each call dispatched.',
    type: 'histogram',
    histogram: (p) => p.queueWait,
  },
  {
    name: 'snakepit_tool_calls_total',
    help: "Calls of a configured tool that settled, whatever the outcome (tools beyond the pool's first 500 are not listed).",
    type: 'counter',
    tool: (t) => t.calls,
  },
  {
    name: 'snakepit_tool_errors_total',
    help: 'Calls of a configured tool that ended in an error of any kind.',
    type: 'counter',
    tool: (t) => t.errors,
  },
  {
    name: 'snakepit_tool_call_duration_seconds',
    help: 'Submission to settlement of calls of a configured tool that reached a worker, queue wait included.',
    type: 'histogram',
    toolHistogram: (t) => t.latency,
  },
  {
    name: 'snakepit_worker_load',
    help: 'Calls in flight on the worker.',
    type: 'gauge',
    worker: (w) => w.load,
  },
  {
    name: 'snakepit_worker_requests_total',
    help: 'Calls the worker answered.',
    type: 'counter',
    worker: (w) => w.served,
  },
  {
    name: 'snakepit_worker_rss_bytes',
    help: 'Resident memory of the worker process (Linux).',
    type: 'gauge',
    worker: (w) => (w.rssMb === undefined ? undefined : Math.round(w.rssMb * 1024 * 1024)),
  },
  {
    name: 'snakepit_worker_uptime_seconds',
    help: 'Seconds since the worker was spawned.',
    type: 'gauge',
    worker: (w) => w.uptimeMs / 1000,
  },
  {
    name: 'snakepit_sessions_active',
    help: 'Sessions that exist now.',
    type: 'gauge',
    sessions: (s) => s.active,
  },
  {
    name: 'snakepit_sessions_created_total',
    help: 'Sessions created.',
    type: 'counter',
    sessions: (s) => s.created,
  },
  {
    name: 'snakepit_sessions_expired_total',
    help: 'Sessions ended because they were idle longer than their TTL.',
    type: 'counter',
    sessions: (s) => s.expired,
  },
  {
    name: 'snakepit_sessions_deleted_total',
    help: 'Sessions ended by delete.',
    type: 'counter',
    sessions: (s) => s.deleted,
  },
];

/** The metric families, read now. */
export function collectMetrics(source: MetricsSource): MetricFamily[] {
  return METRIC_DEFS.map((def) => {
    const samples: MetricSample[] = [];
    if (def.pool) {
      for (const p of source.pools) {
        samples.push({ name: def.name, labels: { pool: p.stats.pool }, value: def.pool(p) });
      }
    } else if (def.worker) {
      for (const p of source.pools) {
        for (const w of p.workers) {
          const value = def.worker(w);
          if (value !== undefined)
            samples.push({ name: def.name, labels: { pool: w.pool, worker: w.id }, value });
        }
      }
    } else if (def.histogram) {
      for (const p of source.pools)
        histogramSamples(def.name, { pool: p.stats.pool }, def.histogram(p), samples);
    } else if (def.tool || def.toolHistogram) {
      for (const p of source.pools) {
        for (const [tool, t] of p.tools ?? []) {
          const labels = { pool: p.stats.pool, tool };
          if (def.tool) samples.push({ name: def.name, labels, value: def.tool(t) });
          else histogramSamples(def.name, labels, def.toolHistogram!(t), samples);
        }
      }
    } else if (def.sessions) {
      samples.push({ name: def.name, labels: {}, value: def.sessions(source.sessions) });
    }
    return { name: def.name, help: def.help, type: def.type, samples };
  });
}

function histogramSamples(
  name: string,
  labels: Record<string, string>,
  h: LogHistogram,
  out: MetricSample[],
): void {
  for (const k of LE_POW2_US) {
    out.push({
      name: `${name}_bucket`,
      labels: { ...labels, le: formatNumber(2 ** k / 1e6) },
      value: h.countBelowPow2Us(k),
    });
  }
  out.push({ name: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ name: `${name}_sum`, labels, value: h.sum / 1000 });
  out.push({ name: `${name}_count`, labels, value: h.count });
}

/** Render families in the Prometheus text exposition format 0.0.4. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${s.name}${labels ? `{${labels}}` : ''} ${formatNumber(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
