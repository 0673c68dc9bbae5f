/**
 * PoolSupervisor: a pool's workers as a population — creating them (local, remote or Snakepit style), starting
 * them, noticing when they end, and keeping `size` of them alive.
 *
 *   worker ends ─► onWorkerExit ─┬─ remote: RemoteFleet reconnects in the background (not a restart)
 *                                └─ local:  replenish ─► (RestartPolicy delay) ─► replaceRound ─┬─ ready
 *                                                                                              └─ failed ─► back off;
 *                                           after restart.maxAttempts: pool:degraded, stop trying
 *
 * It is separate from `Pool` so that the pool reads as the queue and its one `#pump`, and this file as the
 * supervision around it: the restart policy, the recycler's and the remote fleet's hooks, the worker events. It
 * reaches the pool only through `SupervisorHost` (pump, the calls' counters, the queue's crash-retry and
 * fail-all), never through the pool's fields.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { PoolClosedError, WorkerCrashedError, WorkerStartError } from '../errors/errors.js';
import { MemoryWatch } from '../limits/memory-watch.js';
import type { EventMessage, HostCallMessage } from '../protocol/messages.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { Logger } from '../util/logger.js';
import { RemoteFleet } from '../worker/remote-fleet.js';
import { snakepitLink } from '../worker/snakepit-link.js';
import { describeExit, type WorkerExit, WorkerHandle, type WorkerHooks } from '../worker/worker-handle.js';
import type { Call } from './call.js';
import { Recycler } from './recycler.js';
import { RestartPolicy } from './restart-policy.js';

/** Where live worker processes are recorded (the process registry), so a later start can sweep orphans. */
export interface WorkerRegistry {
  add(workerId: string, pool: string, pid: number | undefined): void;
  remove(workerId: string): void;
}

/** What the supervisor needs of its pool. */
export interface SupervisorHost {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly runId: string;
  readonly registry: WorkerRegistry | undefined;
  onHostCall(worker: WorkerHandle, message: HostCallMessage): void;
  /** The pool is running (not new, starting, closing or closed). */
  isRunning(): boolean;
  /** The pool is starting its first workers. */
  isStarting(): boolean;
  /** Move queued calls to workers (a worker became ready, freed a slot or left). */
  pump(): void;
  /** A call left a worker: its terminal frame arrived, or the worker died under it and it was failed. */
  callDone(worker: WorkerHandle, call: Call, error: Error | undefined): void;
  /** The worker died with `call` in flight: true when the pool took the call back to run it elsewhere. */
  retryCrashed(worker: WorkerHandle, call: Call, error: WorkerCrashedError): boolean;
  /** No worker can serve: fail every queued call with `error` rather than let them wait out their timeouts. */
  failQueued(error: Error): void;
}

/** The supervisor's part of `PoolStats`. */
export interface SupervisionStats {
  restarts: number;
  heartbeatsMissed: number;
  recycles: number;
  degraded: boolean;
}

export class PoolSupervisor {
  readonly #host: SupervisorHost;
  /** Every worker of the pool, in any state; replaced (not mutated) when one leaves. */
  #workers: WorkerHandle[] = [];
  #nextWorkerNo = 1;
  readonly #restarts: RestartPolicy;
  readonly #recycler: Recycler;
  /** `limits.memoryMb`: the sampler for memory the worker's own rlimit cannot refuse. */
  readonly #memoryWatch: MemoryWatch | undefined;
  /** Remote workers (transport `grpc`), beside the `size` local ones. */
  readonly #fleet: RemoteFleet | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  /** A replacement round is scheduled or starting: at most one at a time. */
  #replacing = false;
  /** Set when the pool gave up replacing workers (restart.maxAttempts). */
  #gaveUp: WorkerStartError | undefined;
  #restartCount = 0;
  #heartbeatsMissed = 0;
  /** Python tracebacks of start failures already logged: each once per pool, not once per worker. */
  readonly #loggedTracebacks = new Set<string>();

  constructor(host: SupervisorHost) {
    this.#host = host;
    const { name, config, logger, events, runId } = host;
    this.#restarts = new RestartPolicy(config.restart);
    this.#recycler = new Recycler({
      name,
      config,
      logger,
      events,
      workers: () => this.#workers,
      startExtraWorker: (replacing) => this.#addWorker(replacing?.endpoint),
      onDraining: () => this.#replenish(),
      isRunning: () => this.#host.isRunning(),
    });
    const { memoryMb } = config.limits;
    this.#memoryWatch =
      memoryMb === undefined
        ? undefined
        : new MemoryWatch({ name, logger, memoryMb, workers: () => this.#workers });
    this.#fleet = config.grpc
      ? new RemoteFleet({
          name,
          config,
          logger,
          runId,
          workers: () => this.#workers,
          startRemoteWorker: (endpoint) => this.#addWorker(endpoint),
          isRunning: () => this.#host.isRunning() || this.#host.isStarting(),
        })
      : undefined;
  }

  /** The pool's workers (any state). */
  get workers(): readonly WorkerHandle[] {
    return this.#workers;
  }

  find(id: string): WorkerHandle | undefined {
    return this.#workers.find((w) => w.id === id);
  }

  /** Start `size` local workers and the remote fleet at once; the first failure, if any. */
  async startAll(): Promise<PromiseRejectedResult | undefined> {
    const workers = Array.from({ length: this.#host.config.size }, () => this.#newWorker());
    this.#memoryWatch?.start();
    const results = await Promise.allSettled([
      ...workers.map((w) => this.#startWorker(w)),
      ...(this.#fleet ? [this.#fleet.start()] : []),
    ]);
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  }

  /** The pool is running: begin the recycler's periodic checks. */
  startRecycling(): void {
    this.#recycler.start();
  }

  /** Why no call can be served: the pool gave up replacing workers and none is ready or starting. */
  unavailable(): WorkerStartError | undefined {
    if (this.#gaveUp && !this.#workers.some((w) => w.state === 'ready' || w.state === 'starting')) {
      return this.#gaveUp;
    }
    return undefined;
  }

  /** Replace one worker on request (`pit.recycleWorker`). */
  recycle(worker: WorkerHandle): Promise<void> {
    return this.#recycler.recycle(worker, 'manual');
  }

  stats(): SupervisionStats {
    return {
      restarts: this.#restartCount,
      heartbeatsMissed: this.#heartbeatsMissed,
      recycles: this.#recycler.recycled,
      degraded: this.#gaveUp !== undefined,
    };
  }

  /** The pool is closing: no more recycling, replacing or reconnecting. */
  stopSupervising(): void {
    this.#recycler.stop();
    clearTimeout(this.#restartTimer);
    this.#fleet?.stop();
  }

  /** Stop every worker (`graceMs` between the shutdown frame, SIGTERM and SIGKILL) and forget them. */
  async stopWorkers(graceMs: number | undefined): Promise<void> {
    const workers = [...this.#workers];
    await Promise.all(workers.map((w) => w.stop(graceMs)));
    this.#fleet?.close();
    this.#memoryWatch?.stop();
    this.#workers = [];
  }

  // ── workers ──────────────────────────────────────────────────────────────────────────────────────────────

  /** A new worker: a local process, or (with `endpoint`) a remote one. */
  #newWorker(endpoint?: string): WorkerHandle {
    const { name, config, runId } = this.#host;
    const worker = new WorkerHandle({
      id: `${name}-${endpoint === undefined ? '' : 'r'}${this.#nextWorkerNo++}`,
      config,
      runId,
      ...(endpoint !== undefined && this.#fleet ? { endpoint, link: this.#fleet.linkFor(endpoint) } : {}),
      ...(endpoint === undefined && config.snakepit ? { link: snakepitLink(config, runId) } : {}),
      hooks: this.#workerHooks(),
    });
    this.#workers.push(worker);
    return worker;
  }

  /** A worker outside the replacement rounds (a recycler's replacement, a remote endpoint's): start it, then pump. */
  async #addWorker(endpoint: string | undefined): Promise<WorkerHandle> {
    const worker = this.#newWorker(endpoint);
    await this.#startWorker(worker);
    this.#host.pump();
    return worker;
  }

  #workerHooks(): WorkerHooks {
    const host = this.#host;
    return {
      logger: host.logger,
      onSlotFree: (w) => {
        this.#recycler.onSlotFree(w);
        this.#fleet?.onSlotFree(w);
        host.pump();
      },
      onExit: (w, exit) => this.#onWorkerExit(w, exit),
      onHostCall: (w, message) => host.onHostCall(w, message),
      onEvent: (w, message: EventMessage) =>
        host.events.emit('python:event', {
          pool: host.name,
          worker: w.id,
          name: message.name,
          measurements: message.measurements ?? {},
          metadata: message.metadata ?? {},
          correlationId: message.correlation_id ?? undefined,
        }),
      onCallDone: (w, call, error) => {
        host.callDone(w, call, error);
        this.#recycler.afterCall(w);
      },
      onCallCrashed: (w, call, error) => host.retryCrashed(w, call, error),
      onHeartbeatMissed: (w, silentMs, missed, fatal) => {
        this.#heartbeatsMissed++;
        host.events.emit('heartbeat:missed', {
          pool: host.name,
          worker: w.id,
          pid: w.pid,
          silentMs,
          missed,
          timeoutMs: host.config.heartbeat?.timeoutMs ?? 0,
          fatal,
        });
      },
    };
  }

  #onWorkerExit(worker: WorkerHandle, exit: WorkerExit): void {
    const host = this.#host;
    this.#workers = this.#workers.filter((w) => w !== worker);
    host.registry?.remove(worker.id);
    this.#recycler.onExit(worker);
    host.events.emit('worker:exited', {
      pool: host.name,
      worker: worker.id,
      pid: worker.pid,
      crashed: exit.crashed,
      code: exit.exit.code,
      signal: exit.exit.signal,
      reason: exit.reason,
      kind: exit.kind,
      uptimeMs: exit.uptimeMs,
      callsInFlight: exit.callsInFlight,
    });
    if (worker.endpoint !== undefined) {
      // A remote worker: its endpoint is retried in the background (RemoteFleet), not counted as a restart.
      if (host.isRunning() && exit.crashed && exit.kind !== 'start_failed') {
        host.logger.warn(
          { pool: host.name, worker: worker.id, endpoint: worker.endpoint },
          `remote worker ${worker.id} ended (${exit.kind}: ${describeExit(exit.exit)}); reconnecting to ${worker.endpoint}`,
        );
      }
      this.#fleet?.onExit(worker);
      host.pump();
      return;
    }
    if (host.isRunning() && exit.crashed && exit.kind !== 'start_failed') {
      this.#restarts.workerDied(exit);
      host.logger.warn(
        { pool: host.name, worker: worker.id },
        `worker ${worker.id} died (${exit.kind}: ${describeExit(exit.exit)}${exit.reason ? `: ${exit.reason}` : ''}); ` +
          'starting a replacement',
      );
    }
    this.#replenish();
    host.pump();
  }

  /** Spawn a worker (recorded in the process registry) and run its handshake. */
  #startWorker(worker: WorkerHandle): Promise<void> {
    const host = this.#host;
    const started = worker.start();
    host.registry?.add(worker.id, host.name, worker.pid);
    host.events.emit('worker:spawned', { pool: host.name, worker: worker.id, pid: worker.pid });
    return started.then(
      () => {
        host.events.emit('worker:ready', {
          pool: host.name,
          worker: worker.id,
          pid: worker.pid,
          startupMs: Date.now() - worker.spawnedAt,
          python: worker.hello?.python,
          codec: worker.codec,
        });
      },
      (err: unknown) => {
        this.#logStartTraceback(err);
        throw err;
      },
    );
  }

  /** An adapter that fails to import fails every worker the same way: its traceback is logged the first time. */
  #logStartTraceback(err: unknown): void {
    if (!(err instanceof WorkerStartError) || !err.traceback) return;
    if (this.#loggedTracebacks.has(err.traceback) || this.#loggedTracebacks.size >= 16) return;
    this.#loggedTracebacks.add(err.traceback);
    this.#host.logger.error(
      { pool: this.#host.name, worker: err.workerId },
      `${err.message}\n${err.traceback}`,
    );
  }

  // ── replacing ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Bring the pool back to `size` workers: one replacement round at a time, after the restart policy's delay.
   * A round that fails to start counts against `restart.maxAttempts`; when they are spent the pool reports
   * itself degraded and stops trying.
   */
  #replenish(): void {
    if (!this.#host.isRunning() || this.#replacing || this.#gaveUp) return;
    if (this.#missing() <= 0) return;
    this.#replacing = true;
    this.#restartTimer = setTimeout(() => void this.#replaceRound(), this.#restarts.delayMs());
    this.#restartTimer.unref();
  }

  async #replaceRound(): Promise<void> {
    const host = this.#host;
    const missing = this.#missing();
    if (!host.isRunning() || missing <= 0) {
      this.#replacing = false;
      return;
    }
    const workers = Array.from({ length: missing }, () => this.#newWorker());
    this.#restartCount += workers.length;
    const results = await Promise.allSettled(workers.map((w) => this.#startWorker(w)));
    this.#replacing = false;
    if (!host.isRunning()) return;
    let failure: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        host.events.emit('worker:restarted', {
          pool: host.name,
          worker: workers[i]!.id,
          pid: workers[i]!.pid,
        });
      } else {
        failure ??= r.reason;
        host.logger.error(
          { pool: host.name, worker: workers[i]!.id },
          `replacement failed to start: ${(r.reason as Error).message}`,
        );
      }
    });
    if (failure !== undefined) this.#replacementFailed(failure);
    host.pump();
    this.#replenish();
  }

  #replacementFailed(err: unknown): void {
    const host = this.#host;
    this.#restarts.startFailed();
    const ready = this.#workers.filter((w) => w.state === 'ready').length;
    const cause = err instanceof WorkerStartError ? err : undefined;
    if (this.#restarts.exhausted) {
      this.#gaveUp = new WorkerStartError(
        `pool "${host.name}" stopped replacing workers after ${this.#restarts.failures} failed attempts in a row ` +
          `(restart.maxAttempts); ${ready} of ${host.config.size} workers are running. Last failure: ` +
          `${(err as Error).message}`,
        {
          pool: host.name,
          workerId: cause?.workerId ?? '?',
          pythonType: cause?.pythonType,
          traceback: cause?.traceback,
          phase: cause?.phase,
          exitCode: cause?.exitCode,
          signal: cause?.signal,
          stderrTail: cause?.stderrTail,
        },
        { cause: err },
      );
      host.logger.error({ pool: host.name }, this.#gaveUp.message);
      host.events.emit('pool:degraded', { pool: host.name, workers: ready, error: this.#gaveUp });
    }
    // With no worker able to serve, queued calls would only wait for their timeouts: fail them now.
    if (!this.#workers.some((w) => w.state === 'ready')) {
      host.failQueued(this.#gaveUp ?? cause ?? new PoolClosedError(String(err)));
    }
  }

  /** Local workers short of `size`: those starting or ready count; draining, tainted and stopping ones do not. */
  #missing(): number {
    const live = this.#workers.filter(
      (w) => w.endpoint === undefined && (w.state === 'ready' || w.state === 'starting'),
    ).length;
    return this.#host.config.size - live;
  }
}
