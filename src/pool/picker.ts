/**
 * Which worker gets the next call. Functions of (call, workers) with no side effects, so they are testable with
 * fake workers: `pickWorker` (what the pool calls) handles affinity and falls back to `pickLeastLoaded`.
 *
 * Least-loaded first. When every worker is at `workerConcurrency`, a call may still be *pipelined* into a busy
 * worker — written now, run by Python right after what it holds — but only behind calls to tools the host had
 * measured as fast (< FAST_TOOL_MS) when it dispatched them (a worker counts the others: `pipelineBlockers`), and
 * never into a worker marked stalled (stall-watch.ts: it has answered nothing for a while), so a short call never
 * waits behind a long one. Pipelining saves a round trip per call under load; it is what lets 2 workers serve tens
 * of thousands of calls per second.
 */

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
  /** Busy without answering for a while: nothing is pipelined into it. */
  readonly stalled?: boolean;
  /** Calls in flight nothing may be pipelined behind: streams, cancelled calls, tools not measured as fast. */
  readonly pipelineBlockers: number;
}

export interface PickLimits {
  workerConcurrency: number;
  pipelineDepth: number;
}

export function pickLeastLoaded<W extends PickableWorker>(
  workers: readonly W[],
  limits: PickLimits,
): W | undefined {
  let best: W | undefined;
  for (const w of workers) {
    if (w.state === 'ready' && w.load < limits.workerConcurrency && (!best || w.load < best.load)) best = w;
  }
  if (best || limits.pipelineDepth <= limits.workerConcurrency) return best;
  for (const w of workers) {
    if (w.state !== 'ready' || w.load >= limits.pipelineDepth || (best && w.load >= best.load)) continue;
    if (pipelinable(w)) best = w;
  }
  return best;
}

/** Whether `worker` can take one more call now (a free slot, or pipelining behind fast calls). */
export function hasRoom(worker: PickableWorker, limits: PickLimits): boolean {
  if (worker.state !== 'ready') return false;
  if (worker.load < limits.workerConcurrency) return true;
  return (
    limits.pipelineDepth > limits.workerConcurrency &&
    worker.load < limits.pipelineDepth &&
    pipelinable(worker)
  );
}

/**
 * Where a call must or would rather run: its session's worker, or the worker holding the object it addresses.
 * `strict`: only there (the Python state is there); otherwise there when it has room, else anywhere.
 * `failFast` (with `strict`): when that worker has no room, refuse rather than wait.
 */
export interface AffinityTarget {
  workerId: string;
  strict: boolean;
  failFast?: boolean;
}

/** How the pool learns and records where a session's calls go (the SessionStore implements it). */
export interface SessionRouter {
  /** The worker that served the session in `pool` last, if any. */
  workerFor(sessionId: string, pool: string): string | undefined;
  /** A call of the session was dispatched to `workerId` (or its state moved there). */
  bound(sessionId: string, pool: string, workerId: string): void;
  /** The session's worker in `pool` is gone: route its next call anywhere. */
  unbind(sessionId: string, pool: string): void;
  /** The sessions whose worker in `pool` is `workerId`. */
  sessionsOn(pool: string, workerId: string): string[];
}

/**
 * The picker's answer (a tagged result, as grpc-js pickers give):
 * - `worker`: dispatch the call to this worker now;
 * - `wait`: the call must run on this worker, which has no room: park it there, and look at the calls behind it;
 * - `busy`: no worker can take the call now: leave it queued;
 * - `lost`: the call must run on a worker that is gone (exited, recycled): fail it with SessionLostError;
 * - `refused`: the call must run on this worker, which has no room, and may not wait (`failFast`).
 */
export type PickResult<W> =
  | { kind: 'worker'; worker: W }
  | { kind: 'wait'; worker: W }
  | { kind: 'busy' }
  | { kind: 'lost'; workerId: string }
  | { kind: 'refused'; worker: W };

const BUSY = { kind: 'busy' } as const;

/**
 * `nestedOn`: for a call made by a host tool, the workers running one of its ancestors (tools/tool-scope.ts).
 * Each such worker's slot is held by a call waiting for this one, and its Python side runs calls that arrive while
 * a tool waits for the host, so the call may go there even at capacity: otherwise the chain would deadlock.
 */
export function pickWorker<W extends PickableWorker & { readonly id: string }>(
  target: AffinityTarget | undefined,
  workers: readonly W[],
  limits: PickLimits,
  nestedOn?: ReadonlySet<string>,
): PickResult<W> {
  if (target !== undefined) {
    const bound = workers.find((w) => w.id === target.workerId);
    if (bound && bound.state === 'ready') {
      if (hasRoom(bound, limits) || nestedOn?.has(bound.id)) return { kind: 'worker', worker: bound };
      if (target.strict) return { kind: target.failFast ? 'refused' : 'wait', worker: bound };
    } else if (target.strict) {
      return { kind: 'lost', workerId: target.workerId };
    }
  }
  const worker = pickLeastLoaded(workers, limits);
  if (worker) return { kind: 'worker', worker };
  if (nestedOn) {
    const holder = workers.find((w) => w.state === 'ready' && nestedOn.has(w.id));
    if (holder) return { kind: 'worker', worker: holder };
  }
  return BUSY;
}

/** Whether a call may wait inside this busy worker: it is not stalled, and holds only fast calls. */
function pipelinable(worker: PickableWorker): boolean {
  return !worker.stalled && worker.pipelineBlockers === 0;
}
