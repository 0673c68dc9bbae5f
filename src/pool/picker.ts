/**
 * Which worker gets the next call. A function of (call, workers) with no side effects, so it is testable with
 * fake workers and swappable (affinity comes in as another picker).
 *
 * Least-loaded first. When every worker is at `workerConcurrency`, a call may still be *pipelined* into a busy
 * worker — written now, run by Python right after what it holds — but only behind calls to tools the host has
 * measured as fast (< FAST_TOOL_MS), so a short call never waits behind a long one. Pipelining saves a round
 * trip per call under load; it is what lets 2 workers serve tens of thousands of calls per second.
 */
import type { Call } from './call.js';

export const FAST_TOOL_MS = 2;
const EWMA_ALPHA = 0.2;
const MIN_SAMPLES = 3;

/** Host-side running average of each tool's duration (dispatch to terminal frame). */
export class ToolTimings {
  readonly #stats = new Map<string, { ewmaMs: number; samples: number }>();

  record(tool: string, ms: number): void {
    const s = this.#stats.get(tool);
    if (!s) this.#stats.set(tool, { ewmaMs: ms, samples: 1 });
    else {
      s.ewmaMs += EWMA_ALPHA * (ms - s.ewmaMs);
      s.samples++;
    }
  }

  isFast(tool: string): boolean {
    const s = this.#stats.get(tool);
    return s !== undefined && s.samples >= MIN_SAMPLES && s.ewmaMs < FAST_TOOL_MS;
  }
}

/** What the picker needs of a worker. */
export interface PickableWorker {
  readonly state: string;
  readonly load: number;
  inFlight(): Iterable<Call>;
}

export interface PickLimits {
  workerConcurrency: number;
  pipelineDepth: number;
}

export function pickLeastLoaded<W extends PickableWorker>(
  workers: readonly W[],
  limits: PickLimits,
  timings: ToolTimings,
): W | undefined {
  let best: W | undefined;
  for (const w of workers) {
    if (w.state === 'ready' && w.load < limits.workerConcurrency && (!best || w.load < best.load)) best = w;
  }
  if (best || limits.pipelineDepth <= limits.workerConcurrency) return best;
  for (const w of workers) {
    if (w.state !== 'ready' || w.load >= limits.pipelineDepth || (best && w.load >= best.load)) continue;
    if (holdsOnlyFastCalls(w, timings)) best = w;
  }
  return best;
}

function holdsOnlyFastCalls(worker: PickableWorker, timings: ToolTimings): boolean {
  for (const call of worker.inFlight()) {
    if (call.cancelled || call.stream || !timings.isFast(call.tool)) return false;
  }
  return true;
}
