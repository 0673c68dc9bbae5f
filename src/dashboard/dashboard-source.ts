/**
 * What the dashboard reads from a Snakepit: the public snapshots (`stats`, `workers`, `sessions`, events,
 * metrics) plus one thing the public API does not give, the latency histogram's bucket counts, so that latency
 * per interval is a diff of two copies and costs a call nothing.
 */
import type { PoolStats, WorkerInfo } from '../pool/pool-stats.js';
import type { Sessions } from '../session/session-store.js';
import type { Listener, SnakepitEventName } from '../telemetry/event-bus.js';

export interface DashboardSource {
  runId: string;
  stats(): Record<string, PoolStats>;
  workers(): WorkerInfo[];
  sessions: Sessions;
  on<E extends SnakepitEventName>(event: E, listener: Listener<E>): () => void;
  /** Prometheus text of every pool (`pit.metrics()`). */
  metrics(): Promise<string>;
  /**
   * Copy pool `pool`'s latency bucket counts into `into` (length HISTOGRAM_BUCKETS); false when the pool keeps
   * no latency histogram (call telemetry off).
   */
  latencyCounts(pool: string, into: Float64Array): boolean;
  /** Report a fault of the dashboard itself (to the host's logger): it must never throw into the host. */
  logError(message: string): void;
}
