/**
 * Telemetry: what the facade holds for observability — the event bus, the logger that publishes worker lines as
 * `log` events, one CallTelemetry per pool (histograms, call events, spans) and the metrics exporter.
 *
 *   Snakepit ── Telemetry ─┬─ EventBus ─────────── pit.on / diagnostics_channel "snakepit:*"
 *                          ├─ tapLogger ────────── `log` events, then the configured logger
 *                          ├─ CallTelemetry × pool ◄── Call (created / started / settled)
 *                          │      └─ CallTracer ─── OpenTelemetry spans (@opentelemetry/api, when registered)
 *                          └─ metrics() ────────── Prometheus text (prom-client when installed)
 */
import type { PoolStats, WorkerInfo } from '../pool/pool-stats.js';
import type { SessionStoreStats } from '../session/session-store.js';
import type { Logger } from '../util/logger.js';
import { CallTelemetry } from './call-telemetry.js';
import { EventBus } from './event-bus.js';
import { LogHistogram } from './histogram.js';
import { tapLogger } from './log-tap.js';
import { collectMetrics, type MetricFamily, renderExposition } from './metrics.js';
import {
  loadPromClient,
  type PromRegistry,
  registerFamilies,
  renderWithPromClient,
  requirePromClient,
} from './prometheus.js';
import type { CallTracer } from './tracing.js';

/** The histogram of a pool with no call telemetry. */
const NO_CALLS = new LogHistogram();

/** What the metrics read, at scrape time. */
export interface TelemetrySources {
  pools(): Array<{ stats: PoolStats; workers: WorkerInfo[] }>;
  sessions(): SessionStoreStats;
}

export interface TelemetryOptions {
  runId: string;
  logger: Logger;
  /** Per-call telemetry (histograms, call events, spans); false leaves only lifecycle events and counters. */
  calls: boolean;
  tracer?: CallTracer | undefined;
}

export class Telemetry {
  readonly events: EventBus;
  /** The configured logger, with worker lines also published as `log` events. */
  readonly logger: Logger;
  readonly #options: TelemetryOptions;
  readonly #pools = new Map<string, CallTelemetry>();

  constructor(options: TelemetryOptions) {
    this.#options = options;
    this.events = new EventBus((event, err) =>
      options.logger.error({}, `listener for "${event}" threw: ${(err as Error)?.stack ?? String(err)}`),
    );
    this.logger = tapLogger(options.logger, this.events);
  }

  /** Trace calls with `tracer` from now on (every pool's call telemetry, present and future). */
  useTracer(tracer: CallTracer | undefined): void {
    this.#options.tracer = tracer;
    for (const t of this.#pools.values()) t.useTracer(tracer);
  }

  /** The call telemetry of pool `name` (created on first use), or undefined when call telemetry is off. */
  forPool(name: string): CallTelemetry | undefined {
    if (!this.#options.calls) return undefined;
    let t = this.#pools.get(name);
    if (!t)
      this.#pools.set(
        name,
        (t = new CallTelemetry(name, this.events, this.#options.tracer, this.#options.runId)),
      );
    return t;
  }

  /** Every metric family, read now. */
  collect(sources: TelemetrySources): MetricFamily[] {
    return collectMetrics({
      pools: sources.pools().map(({ stats, workers }) => {
        const t = this.#pools.get(stats.pool);
        return {
          stats,
          workers,
          latency: t?.latency ?? NO_CALLS,
          queueWait: t?.queueWait ?? NO_CALLS,
          chunks: t?.chunks ?? 0,
          ...(t ? { tools: t.tools } : {}),
        };
      }),
      sessions: sources.sessions(),
    });
  }

  /** Prometheus exposition text: rendered by prom-client when installed, else by snakepit itself. */
  async metrics(sources: TelemetrySources): Promise<string> {
    const prom = await loadPromClient();
    const families = this.collect(sources);
    return prom ? renderWithPromClient(prom, families) : renderExposition(families);
  }

  /** Register the metrics in a prom-client registry (default: prom-client's global one). */
  async registerMetrics(sources: TelemetrySources, registry?: PromRegistry): Promise<() => void> {
    const prom = await requirePromClient();
    return registerFamilies(registry ?? prom.register, () => this.collect(sources));
  }
}
