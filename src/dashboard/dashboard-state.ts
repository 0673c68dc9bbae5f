/**
 * DashboardState: what the dashboard knows about a Snakepit, kept up to date every interval — the pools' history
 * (PoolHistory), the recent errors (RecentErrors), the workers' lines (WorkerLineage) — and the JSON it serves:
 * a full snapshot, and an update per interval for the connected viewers.
 *
 * It listens to a few events (`call:exception`, worker exits, restarts and recycles) and reads `stats()`,
 * `workers()` and the sessions once per interval; it stops all of that on `close()`.
 */
import { hostname } from 'node:os';
import type { PoolStats, WorkerInfo } from '../pool/pool-stats.js';
import type { DashboardSource } from './dashboard-source.js';
import {
  type DashboardSnapshot,
  type DashboardUpdate,
  type HostView,
  type PoolView,
  type SessionsView,
  SNAPSHOT_VERSION,
  type WorkerView,
} from './dashboard-types.js';
import { PoolHistory } from './pool-history.js';
import { RecentErrors } from './recent-errors.js';
import { WorkerLineage } from './worker-lineage.js';

export interface DashboardStateOptions {
  intervalMs: number;
  historyMs: number;
  /** Recent errors kept. */
  maxErrors: number;
  /** Sessions listed (the newest). */
  maxSessions: number;
}

export class DashboardState {
  readonly #source: DashboardSource;
  readonly #options: DashboardStateOptions;
  readonly #histories = new Map<string, PoolHistory>();
  readonly #errors: RecentErrors;
  readonly #lineage = new WorkerLineage();
  readonly #unsubscribe: Array<() => void>;
  readonly #listeners = new Set<(update: DashboardUpdate) => void>();
  readonly #hostname = hostname();
  #timer: NodeJS.Timeout | undefined;
  #errorsSent = 0;

  constructor(source: DashboardSource, options: DashboardStateOptions) {
    this.#source = source;
    this.#options = options;
    this.#errors = new RecentErrors(options.maxErrors);
    this.#unsubscribe = [
      source.on('call:exception', (e) => this.#errors.record(e)),
      source.on('worker:exited', (e) => this.#lineage.exited(e)),
      source.on('worker:restarted', (e) => this.#lineage.restarted(e)),
      source.on('worker:recycled', (e) => this.#lineage.recycled(e)),
    ];
    const now = Date.now();
    for (const [name, stats] of Object.entries(source.stats())) this.#history(name, stats, now);
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        source.logError(`dashboard: sampling the pools failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }, options.intervalMs);
    this.#timer.unref();
  }

  /** Called with every update (each interval); returns a function that removes the listener. */
  onUpdate(listener: (update: DashboardUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Everything now, history included. */
  snapshot(): DashboardSnapshot {
    const stats = this.#source.stats();
    const workers = this.#source.workers();
    const now = Date.now();
    return {
      version: SNAPSHOT_VERSION,
      at: now,
      intervalMs: this.#options.intervalMs,
      historyMs: this.#options.historyMs,
      host: this.#host(),
      pools: Object.entries(stats).map(([name, s]) => ({
        ...this.#poolView(name, s, workers, now),
        history: [...this.#history(name, s, now).points],
      })),
      sessions: this.#sessions(),
      errors: this.#errors.since(0),
    };
  }

  /** Sample every pool and tell the listeners (run every interval; public for tests). */
  tick(): DashboardUpdate {
    const stats = this.#source.stats();
    const workers = this.#source.workers();
    const now = Date.now();
    const pools = Object.entries(stats).map(([name, s]) => {
      const point = this.#history(name, s, now).sample(now, s);
      return { ...this.#poolView(name, s, workers, now), point };
    });
    const update: DashboardUpdate = {
      version: SNAPSHOT_VERSION,
      at: now,
      host: this.#host(),
      pools,
      sessions: this.#sessions(),
      errors: this.#errors.since(this.#errorsSent),
    };
    this.#errorsSent = this.#errors.lastSeq;
    for (const listener of this.#listeners) listener(update);
    return update;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const off of this.#unsubscribe) off();
    this.#listeners.clear();
  }

  #history(name: string, stats: PoolStats, now: number): PoolHistory {
    let h = this.#histories.get(name);
    if (!h) {
      const capacity = Math.max(1, Math.ceil(this.#options.historyMs / this.#options.intervalMs));
      const read = (into: Float64Array): boolean => this.#source.latencyCounts(name, into);
      this.#histories.set(name, (h = new PoolHistory(capacity, stats, read, now)));
    }
    return h;
  }

  #poolView(name: string, stats: PoolStats, workers: WorkerInfo[], now: number): PoolView {
    return {
      name,
      state: poolState(stats),
      stats,
      workers: workers.filter((w) => w.pool === name).map((w) => this.#workerView(w)),
      latency: this.#history(name, stats, now).latency(),
    };
  }

  #workerView(w: WorkerInfo): WorkerView {
    const line = this.#lineage.of(w.id);
    return {
      ...w,
      restarts: line.restarts,
      recycles: line.recycles,
    };
  }

  #sessions(): SessionsView {
    const store = this.#source.sessions;
    const limit = this.#options.maxSessions;
    // Ids come in creation order: the newest are at the end.
    const ids = store.list().slice(-limit).reverse();
    const newest = [];
    for (const id of ids) {
      const s = store.get(id);
      if (!s) continue;
      newest.push({
        id: s.id,
        createdAt: s.createdAt,
        lastAccessedAt: s.lastAccessedAt,
        expiresAt: s.expiresAt,
        calls: s.calls,
        inFlight: s.inFlight,
        workers: s.workers,
      });
    }
    return { stats: store.stats(), newest, limit };
  }

  #host(): HostView {
    return {
      pid: process.pid,
      runId: this.#source.runId,
      hostname: this.#hostname,
      node: process.version,
      rssMb: Math.round((process.memoryUsage.rss() / 1024 / 1024) * 10) / 10,
      uptimeMs: Math.round(process.uptime() * 1000),
    };
  }
}

/** A pool's state: what the pool reports (`running` shown as `ready`), else ready or degraded. */
function poolState(stats: PoolStats): string {
  const reported = (stats as { state?: unknown }).state;
  if (typeof reported === 'string') return reported === 'running' ? 'ready' : reported;
  return stats.degraded ? 'degraded' : 'ready';
}
