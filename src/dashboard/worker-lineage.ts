/**
 * WorkerLineage: how many times a worker's line was restarted or recycled. A worker id names one process, so a
 * replacement has a new id; its line carries on the counts of the worker it took over from.
 *
 * - recycle: `worker:recycled` names both the old worker and its replacement, so the line is exact;
 * - restart: the pool brings itself back to size after exits, and `worker:restarted` names only the new worker,
 *   so a replacement takes over from the oldest worker that exited without being recycled and was not yet
 *   replaced (exact in number per pool; which line is a best guess when several died at once).
 *
 * Counts start when the dashboard starts.
 */
import type { SnakepitEvents } from '../telemetry/event-bus.js';

interface Line {
  restarts: number;
  recycles: number;
}

const NONE: Line = { restarts: 0, recycles: 0 };

export class WorkerLineage {
  readonly #lines = new Map<string, Line>();
  /** Per pool: workers that exited and wait for a replacement, oldest first. */
  readonly #exited = new Map<string, Array<{ worker: string; line: Line }>>();
  /** Workers that were recycled: their exit is not a death. */
  readonly #recycled = new Set<string>();

  of(worker: string): Line {
    return this.#lines.get(worker) ?? NONE;
  }

  exited(e: SnakepitEvents['worker:exited']): void {
    const line = this.#lines.get(e.worker) ?? NONE;
    this.#lines.delete(e.worker);
    if (this.#recycled.delete(e.worker)) return;
    let waiting = this.#exited.get(e.pool);
    if (!waiting) this.#exited.set(e.pool, (waiting = []));
    waiting.push({ worker: e.worker, line });
    // A pool that stopped replacing (degraded, closing) must not grow this without bound.
    if (waiting.length > 1000) waiting.shift();
  }

  restarted(e: SnakepitEvents['worker:restarted']): void {
    const from = this.#exited.get(e.pool)?.shift()?.line ?? NONE;
    this.#lines.set(e.worker, { restarts: from.restarts + 1, recycles: from.recycles });
  }

  recycled(e: SnakepitEvents['worker:recycled']): void {
    const from = this.#lines.get(e.worker) ?? NONE;
    this.#recycled.add(e.worker);
    this.#lines.set(e.replacement, { restarts: from.restarts, recycles: from.recycles + 1 });
  }
}
