/**
 * What the dashboard serves: the JSON of `GET /api/snapshot` and of the Server-Sent Events on `/api/events`
 * (docs/DASHBOARD.md). The page (static/app.js), `snakepit top` and anyone else reading the endpoint see these
 * shapes; `version` changes if a field changes meaning.
 *
 *   /api/events:  event: snapshot  (a DashboardSnapshot, once per connection)
 *                 event: update    (a DashboardUpdate, every interval)
 */
import type { PoolStats, WorkerInfo } from '../pool/pool-stats.js';
import type { SessionStoreStats } from '../session/session-store.js';

export const SNAPSHOT_VERSION = 1;

/** The host process serving the dashboard. */
export interface HostView {
  pid: number;
  runId: string;
  hostname: string;
  node: string;
  /** Resident memory of the host process, MiB. */
  rssMb: number;
  uptimeMs: number;
}

/** One sample of a pool, every `intervalMs`. Rates are per second over the interval just ended. */
export interface HistoryPoint {
  /** Epoch milliseconds. */
  t: number;
  /** Calls answered by a worker per second (results and Python errors). */
  calls: number;
  /** Calls that ended in an error of any kind, per second. */
  errors: number;
  /** Calls waiting for a worker, at the sample. */
  queued: number;
  /** Calls in flight on workers, at the sample. */
  inFlight: number;
  /** Latency percentiles (ms, queue wait included) of the calls that ended in the interval; null when none did. */
  p50: number | null;
  p99: number | null;
}

/** One bar of the latency histogram: values in [fromMs, toMs). */
export interface HistogramBar {
  fromMs: number;
  toMs: number;
  count: number;
}

/** Latency of the calls that ended within the history window (empty when call telemetry is off). */
export interface LatencyWindow {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  /** One bar per doubling (a power of two of microseconds), from the lowest to the highest bar with values. */
  bars: HistogramBar[];
}

export interface WorkerView extends WorkerInfo {
  /** Replacements after a death in this worker's line (the workers it took over from), seen by the dashboard. */
  restarts: number;
  /** Replacements on purpose (ttl, maxRequests, maxRssMb, recycleWorker) in this worker's line. */
  recycles: number;
}

export interface PoolView {
  name: string;
  /** The pool's `stats().state` (`running` shown as `ready`): `degraded` while its workers keep failing to start. */
  state: string;
  stats: PoolStats;
  workers: WorkerView[];
  latency: LatencyWindow;
}

export interface SessionView {
  id: string;
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  calls: number;
  inFlight: number;
  /** The worker that served the session last, by pool. */
  workers: Record<string, string>;
}

export interface SessionsView {
  stats: SessionStoreStats;
  /** The newest sessions (at most `limit`), newest first. */
  newest: SessionView[];
  limit: number;
}

/** A call that ended in an error, from the `call:exception` event. */
export interface ErrorEntry {
  /** Increasing number of the error, from 1. */
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  pool: string;
  tool: string;
  worker: string | undefined;
  session: string | undefined;
  correlationId: string;
  /** The error's class, e.g. `PythonValueError`. */
  errorName: string;
  errorCode: string | undefined;
  /** `python`, `timeout`, `abort`, `crash` or `error`. */
  kind: string;
  message: string;
  /** For Python errors: the exception type and the worker's traceback (cut to its last characters when huge). */
  pythonType: string | undefined;
  traceback: string | undefined;
  durationMs: number;
}

/** What `GET /api/snapshot` returns and `event: snapshot` carries. */
export interface DashboardSnapshot {
  version: number;
  /** Epoch milliseconds. */
  at: number;
  intervalMs: number;
  historyMs: number;
  host: HostView;
  pools: Array<PoolView & { history: HistoryPoint[] }>;
  sessions: SessionsView;
  /** The recent errors, newest first. */
  errors: ErrorEntry[];
}

/** What `event: update` carries every interval: the state now, the newest sample, the errors since the last update. */
export interface DashboardUpdate {
  version: number;
  at: number;
  host: HostView;
  pools: Array<PoolView & { point: HistoryPoint }>;
  sessions: SessionsView;
  /** Errors that happened since the previous update, newest first. */
  errors: ErrorEntry[];
}
