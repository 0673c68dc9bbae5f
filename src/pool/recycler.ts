/**
 * Recycler: replaces workers by age (`ttlMs`), calls served (`maxRequests`), resident memory (`maxRssMb`) or on
 * request (`pit.recycleWorker(id)`), without failing a call.
 *
 *   old: ready ─────────────────────────────► draining ──(load 0)──► stopping ──► stopped
 *   new:        starting ──────────► ready ─┘   (the pool counts the new worker from its spawn, so it never
 *                                                replaces the old one twice)
 *
 * The old worker keeps taking calls until its replacement is ready; then it takes none, finishes what it holds,
 * hands its sessions' Python state to the replacement (session-handoff.ts) and stops gracefully. If the replacement fails to start, the old worker simply stays, and automatic recycling
 * backs off before trying again. Automatic recycles run one at a time per pool, so a pool whose workers all reach
 * their age together renews them one by one.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import type { EventBus, RecycleReason } from '../telemetry/event-bus.js';
import type { Logger } from '../util/logger.js';
import { readRssBytes } from '../util/proc.js';
import type { WorkerHandle } from '../worker/worker-handle.js';

const MIB = 1024 * 1024;
const RETRY_AFTER_FAILURE_MS = 5_000;

/** What the recycler needs of its pool. */
export interface RecyclerHost {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly logger: Logger;
  readonly events: EventBus;
  /** The pool's workers (any state). */
  workers(): readonly WorkerHandle[];
  /** Spawn one more worker like `replacing` (the pool counts it as live); resolves when it is ready. */
  startExtraWorker(replacing?: WorkerHandle): Promise<WorkerHandle>;
  /** A worker stopped taking calls (draining), `replacement` serves instead: the pool checks it still has enough. */
  onDraining(worker: WorkerHandle, replacement: WorkerHandle): void;
  /** The draining worker is idle: move its sessions to the replacement before it stops (never rejects). */
  handOff(worker: WorkerHandle): Promise<void>;
  isRunning(): boolean;
}

interface Recycling {
  worker: WorkerHandle;
  reason: RecycleReason;
  rssMb: number | undefined;
  replacement: WorkerHandle | undefined;
  stopping: boolean;
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

export class Recycler {
  readonly #host: RecyclerHost;
  readonly #active = new Map<WorkerHandle, Recycling>();
  #timer: NodeJS.Timeout | undefined;
  #pausedUntil = 0;
  /** Workers replaced so far. */
  recycled = 0;

  constructor(host: RecyclerHost) {
    this.#host = host;
  }

  /** Begin the periodic age and memory checks (if either is configured). */
  start(): void {
    const { ttlMs, maxRssMb, checkIntervalMs } = this.#host.config.recycle;
    if (ttlMs === undefined && maxRssMb === undefined) return;
    if (maxRssMb !== undefined && process.platform !== 'linux') {
      this.#host.logger.warn(
        { pool: this.#host.name },
        `recycle.maxRssMb needs /proc (Linux); on ${process.platform} workers are not recycled by memory`,
      );
    }
    this.#timer = setInterval(() => this.#check(), checkIntervalMs);
    this.#timer.unref();
  }

  /** The pool is closing: no more recycling; pending ones settle when their workers stop. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A call finished on `worker`. */
  afterCall(worker: WorkerHandle): void {
    const max = this.#host.config.recycle.maxRequests;
    if (max !== undefined && worker.served >= max) this.#auto(worker, 'max_requests', undefined);
  }

  /** A slot freed on `worker`: a draining worker with nothing left stops now. */
  onSlotFree(worker: WorkerHandle): void {
    const r = this.#active.get(worker);
    if (r && worker.state === 'draining' && worker.load === 0) this.#stopOld(r);
  }

  /** `worker` exited (stopped, or died while being recycled). */
  onExit(worker: WorkerHandle): void {
    const r = this.#active.get(worker);
    if (!r) return;
    this.#active.delete(worker);
    if (r.replacement) {
      this.recycled++;
      this.#host.events.emit('worker:recycled', {
        pool: this.#host.name,
        worker: worker.id,
        replacement: r.replacement.id,
        reason: r.reason,
        uptimeMs: worker.readyAt === undefined ? 0 : Date.now() - worker.readyAt,
        served: worker.served,
        rssMb: r.rssMb,
      });
    }
    r.resolve();
  }

  /**
   * Replace `worker` now. Resolves when the old worker has stopped (its replacement was ready before).
   * @throws WorkerStartError when the replacement cannot start (the old worker then keeps serving)
   */
  recycle(worker: WorkerHandle, reason: RecycleReason, rssMb?: number): Promise<void> {
    const existing = this.#active.get(worker);
    if (existing) return existing.promise;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const r: Recycling = {
      worker,
      reason,
      rssMb,
      replacement: undefined,
      stopping: false,
      promise,
      resolve,
      reject,
    };
    this.#active.set(worker, r);
    this.#host.logger.info(
      { pool: this.#host.name, worker: worker.id },
      `recycling worker ${worker.id} (${reason}${rssMb !== undefined ? `, ${rssMb} MiB resident` : ''}, ` +
        `${worker.served} calls served): starting its replacement`,
    );
    void this.#run(r);
    return promise;
  }

  async #run(r: Recycling): Promise<void> {
    try {
      r.replacement = await this.#host.startExtraWorker(r.worker);
    } catch (err) {
      this.#active.delete(r.worker);
      r.reject(err as Error);
      if (!this.#host.isRunning()) return; // the pool is closing: the replacement was stopped, nothing to report
      this.#pausedUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
      this.#host.logger.error(
        { pool: this.#host.name, worker: r.worker.id },
        `cannot recycle worker ${r.worker.id}: its replacement failed to start (${(err as Error).message}); ` +
          'it keeps serving',
      );
      return;
    }
    if (r.worker.state === 'ready' && r.worker.drain()) {
      this.#host.onDraining(r.worker, r.replacement);
      if (r.worker.load === 0) this.#stopOld(r);
    } else if (r.worker.state === 'draining') {
      if (r.worker.load === 0) this.#stopOld(r);
    }
    // Any other state: the old worker is already dying or gone; onExit settles.
    if (!this.#active.has(r.worker)) return;
    if (r.worker.state === 'stopped' || r.worker.state === 'crashed') this.onExit(r.worker);
  }

  #stopOld(r: Recycling): void {
    if (r.stopping) return;
    r.stopping = true;
    // Its sessions move to the replacement first; then it stops, and its exit reaches onExit through the pool.
    void this.#host.handOff(r.worker).then(() => r.worker.stop());
  }

  #auto(worker: WorkerHandle, reason: RecycleReason, rssMb: number | undefined): void {
    if (this.#active.size > 0 || worker.state !== 'ready' || !this.#host.isRunning()) return;
    if (Date.now() < this.#pausedUntil) return;
    this.recycle(worker, reason, rssMb).catch(() => {
      /* logged in #run */
    });
  }

  #check(): void {
    if (!this.#host.isRunning() || this.#active.size > 0) return;
    const { ttlMs, maxRssMb } = this.#host.config.recycle;
    const now = Date.now();
    for (const worker of this.#host.workers()) {
      if (worker.state !== 'ready') continue;
      if (ttlMs !== undefined && worker.readyAt !== undefined && now - worker.readyAt >= ttlMs) {
        return this.#auto(worker, 'ttl', undefined);
      }
      if (maxRssMb !== undefined && worker.pid !== undefined) {
        const rss = readRssBytes(worker.pid);
        if (rss !== undefined && rss > maxRssMb * MIB)
          return this.#auto(worker, 'max_rss', Math.round(rss / MIB));
      }
    }
  }
}
