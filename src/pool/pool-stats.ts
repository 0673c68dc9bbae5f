/**
 * A pool's snapshots: `PoolStats` (`pit.stats()`, the metrics) and `WorkerInfo` (`pit.workers()`).
 *
 * Separate from `Pool` because they are read-only views built from several owners — the pool's call counters,
 * its supervisor's restart and recycle counts, each worker's state, the call telemetry and /proc — and they grow
 * a field whenever a capability lands, which should not touch the queue and pump.
 */
import type { ResolvedPoolConfig, WorkerProfile } from '../config/config-types.js';

import { type CallStats, type CallTelemetry, callStats } from '../telemetry/call-telemetry.js';
import { readRssBytes } from '../util/proc.js';
import type { TemplateStats } from '../worker/template.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { SupervisionStats } from './pool-supervisor.js';
import type { TransferStats } from '../shm/shm-link.js';

export interface PoolStats extends CallStats {
  pool: string;
  /**
   * `running`; `degraded` while worker starts keep failing (`restart.maxAttempts` in a row, or at start with
   * `startPolicy: "available"`): it keeps trying with back-off; `starting`, `closing`, `closed` around its life.
   */
  state: 'starting' | 'running' | 'degraded' | 'closing' | 'closed';
  /** Local workers the pool keeps (its `size`). */
  size: number;
  /** Workers that are ready or starting (a start that failed no longer counts). */
  workers: number;
  /** Ready workers with no call in flight. */
  available: number;
  /** Ready workers with at least one call in flight. */
  busy: number;
  /** Calls waiting for a worker. */
  queued: number;
  /** Calls in flight on workers. */
  inFlight: number;
  /** Calls answered by a worker (results and Python errors). */
  requests: number;
  /** Calls that ended in an error of any kind. */
  errors: number;
  /** Calls that hit their timeout (call or queue). */
  timeouts: number;
  /** Calls refused because the queue was full. */
  saturations: number;
  /** Workers replaced after they died. */
  restarts: number;
  /** Workers replaced on purpose (ttl, maxRequests, maxRssMb, recycleWorker). */
  recycles: number;
  /** Idempotent calls queued again after their worker died. */
  retries: number;
  /**
   * Calls a worker gave back before they began — withdrawn from a worker stuck in a long call, or still unstarted
   * when their worker died — and ran elsewhere (each also a `call:returned` event).
   */
  returned: number;
  /** True while the pool is degraded (see `state`). */
  degraded: boolean;
  /** Epoch ms when it became degraded; undefined when it is not. */
  degradedSince: number | undefined;
  /** Worker starts that failed in a row (reset by a worker that stays up, or `pit.resume`). */
  restartFailures: number;
  /** When the next attempt to start missing workers runs, while one is scheduled. */
  nextRestartInMs: number | undefined;
  /** The last worker start failure (a WorkerStartError's message), if any. */
  lastStartError: string | undefined;
  /**
   * The pool's template (docs/WORKERS.md, "Fast start"): `ready` (workers fork from it), `starting`, `failed` (they
   * start cold until it is back), `unsafe` (never used: `reason` says why), or undefined when the pool has none.
   */
  template?: TemplateStats;
  /** Heartbeat pings a worker left unanswered for an interval (each also a `heartbeat:missed` event). */
  heartbeatsMissed: number;
  /**
   * Large binary values (from `sharedMemory.minBytes` on) and how they travelled: in shared memory, or inline in
   * frames (remote workers, the JSON codec, `sharedMemory: false`, or no segment free). docs/DATA.md.
   */
  transfer: TransferStats;
}

export interface WorkerInfo {
  id: string;
  pool: string;
  pid: number | undefined;
  state: string;
  load: number;
  served: number;
  codec: string | undefined;
  /** How the worker runs calls: `process` (one sync call at a time) or `thread` (docs/PROFILES.md). */
  profile: WorkerProfile;
  /** The worker's Python version (from its handshake). */
  python: string | undefined;
  /** Its Python is a free-threaded build running without the GIL (3.13t and later). */
  freeThreaded: boolean;
  /** The interpreter the worker runs. */
  pythonExecutable: string;
  /** Why that interpreter was chosen, e.g. `./.venv`, `SNAKEPIT_PYTHON`, `python3 on PATH`. */
  pythonSource: string;
  uptimeMs: number;
  lastError: string | undefined;
  /** Resident memory in MiB, read from /proc now (Linux; undefined elsewhere). */
  rssMb: number | undefined;
  /** Remote workers (transport `grpc`): the endpoint, `host:port`. */
  endpoint?: string;
  /** Large values to and from this worker travel in shared memory (a local worker with msgpack). */
  sharedMemory: boolean;
}

/** What the pool itself counts about its calls. */
export interface CallCounters {
  requests: number;
  errors: number;
  timeouts: number;
  saturations: number;
  retries: number;
  returned: number;
}

/** Everything `poolStats` reads. */
export interface PoolStatsSource {
  name: string;
  state: 'new' | 'starting' | 'running' | 'closing' | 'closed';
  size: number;
  workers: readonly WorkerHandle[];
  /** Calls waiting: the queue and the calls parked on one worker. */
  queued: number;
  calls: CallCounters;
  supervision: SupervisionStats;
  telemetry: CallTelemetry | undefined;
}

export function poolStats(source: PoolStatsSource): PoolStats {
  let available = 0;
  let busy = 0;
  let inFlight = 0;
  for (const w of source.workers) {
    inFlight += w.load;
    if (w.state !== 'ready') continue;
    if (w.load === 0) available++;
    else busy++;
  }
  const { calls, supervision } = source;
  const state =
    source.state === 'new'
      ? 'starting'
      : source.state === 'running' && supervision.degraded
        ? 'degraded'
        : source.state;
  return {
    pool: source.name,
    state,
    size: source.size,
    workers: source.workers.filter((w) => w.willServe).length,
    available,
    busy,
    queued: source.queued,
    inFlight,
    // The order of the keys is the order `stats()` always had.
    requests: calls.requests,
    errors: calls.errors,
    timeouts: calls.timeouts,
    saturations: calls.saturations,
    restarts: supervision.restarts,
    retries: calls.retries,
    returned: calls.returned,
    heartbeatsMissed: supervision.heartbeatsMissed,
    recycles: supervision.recycles,
    degraded: supervision.degraded,
    degradedSince: supervision.degradedSince,
    restartFailures: supervision.restartFailures,
    nextRestartInMs: supervision.nextRestartInMs,
    lastStartError: supervision.lastStartError,
    ...(supervision.template ? { template: supervision.template } : {}),
    transfer: supervision.transfer,
    ...callStats(source.telemetry),
  };
}

export function workerInfo(w: WorkerHandle, config: ResolvedPoolConfig): WorkerInfo {
  return {
    id: w.id,
    pool: config.name,
    pid: w.pid,
    state: w.state,
    load: w.load,
    served: w.served,
    codec: w.codec,
    profile: config.profile,
    python: w.hello?.python,
    freeThreaded: w.hello?.free_threaded === true && w.hello.gil === false,
    pythonExecutable: config.python.executable,
    pythonSource: config.python.source,
    uptimeMs: Date.now() - w.spawnedAt,
    lastError: w.lastError,
    rssMb: rssMb(w.pid),
    sharedMemory: w.sharedMemory,
    ...(w.endpoint !== undefined ? { endpoint: w.endpoint } : {}),
  };
}

function rssMb(pid: number | undefined): number | undefined {
  const bytes = pid === undefined ? undefined : readRssBytes(pid);
  return bytes === undefined ? undefined : Math.round((bytes / 1024 / 1024) * 10) / 10;
}
