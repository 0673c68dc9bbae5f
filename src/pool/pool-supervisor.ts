/**
 * PoolSupervisor: a pool's workers as a population — creating them (local, remote or Snakepit style), starting
 * them, noticing when they end, and keeping `size` of them alive.
 *
 *   worker ends ─► onWorkerExit ─┬─ at an endpoint: its link kind reconnects in the background (not a restart)
 *                                └─ local:  replenish ─► (RestartPolicy delay) ─► replaceRound ─┬─ ready
 *                                                                                              └─ failed ─► back off;
 *         after restart.maxAttempts in a row: pool:degraded, and it keeps trying every maxBackoffMs (or at once
 *         on `resume()`); the first round that starts a worker again: pool:recovered
 *
 * Workers start in batches of `startupBatchSize` (the next batch when one is ready), at start and in
 * replacement rounds, so a large pool does not import its adapter everywhere at once.
 *
 * It is separate from `Pool` so that the pool reads as the queue and its one `#pump`, and this file as the
 * supervision around it: the restart policy, the recycler's and the link kinds' hooks (link-registry.ts), the
 * worker events. It reaches the pool only through `SupervisorHost` (pump, the calls' counters, the queue's crash-retry and
 * fail-all), never through the pool's fields.
 */
import { emptyTransferStats, type TransferStats } from '../shm/shm-link.js';
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { PoolClosedError, WorkerCrashedError, WorkerStartError } from '../errors/errors.js';
import { MemoryWatch } from '../limits/memory-watch.js';
import type { EventMessage, HostCallMessage } from '../protocol/messages.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { Logger } from '../util/logger.js';
import type { EarlyWorker } from '../worker/early-worker.js';
import type { LinkKind, PoolLinks } from '../worker/link-kind.js';
import { type TemplateStats, WorkerTemplate } from '../worker/template.js';
import { describeExit, type WorkerExit, WorkerHandle, type WorkerHooks } from '../worker/worker-handle.js';
import { spawnLocalWorker } from '../worker/worker-spawn.js';
import type { Call } from '../call/call.js';
import { openLinks } from './link-registry.js';
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
  /** The first worker's process, spawned before the pool existed (worker/early-worker.ts), for `startAll`. */
  readonly early?: EarlyWorker | undefined;
  /** The link kinds to use instead of every registered one (link-registry.ts): tests pass fakes. */
  readonly linkKinds?: readonly LinkKind[] | undefined;
  /** A worker became ready (its `tools` are known): the pool gives its configured tools their own metrics. */
  workerReady(worker: WorkerHandle): void;
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
  /** Calls the worker had not begun (withdrawn, or unstarted at its death), in dispatch order: run them elsewhere. */
  returnCalls(worker: WorkerHandle, calls: Call[], reason: 'withdrawn' | 'not_begun'): void;
  /** Recycling: `old` stops taking calls, `next` replaces it; hold the calls of `old`'s sessions. */
  beginHandOff(old: WorkerHandle, next: WorkerHandle): void;
  /** Recycling: `old` is idle; move its sessions to its replacement. Resolves when done (never rejects). */
  handOff(old: WorkerHandle): Promise<void>;
  /** A worker left the pool (after its calls were settled or returned). */
  workerExited(worker: WorkerHandle): void;
  /** No worker can serve: fail every queued call with `error` rather than let them wait out their timeouts. */
  failQueued(error: Error): void;
}

/** The supervisor's part of `PoolStats`. */
export interface SupervisionStats {
  restarts: number;
  heartbeatsMissed: number;
  recycles: number;
  degraded: boolean;
  /** Epoch ms when the pool became degraded. */
  degradedSince: number | undefined;
  /** Worker starts that failed in a row. */
  restartFailures: number;
  /** When the next replacement round starts, while one is scheduled. */
  nextRestartInMs: number | undefined;
  /** The last worker start failure, if any. */
  lastStartError: string | undefined;
  /** The pool's template, if it has one. */
  template: TemplateStats | undefined;
  /** How large binary values travelled: shared memory or inline (docs/DATA.md). */
  transfer: TransferStats;
}

export class PoolSupervisor {
  readonly #host: SupervisorHost;
  /** Every worker of the pool, in any state; replaced (not mutated) when one leaves. */
  #workers: WorkerHandle[] = [];
  #nextWorkerNo = 1;
  /** The first worker's early process until its handle takes it (`#newWorker`), or `startAll` ends. */
  #early: EarlyWorker | undefined;
  /** Counters every worker of the pool adds to (they outlive the workers). */
  readonly #transfer = emptyTransferStats();
  readonly #restarts: RestartPolicy;
  readonly #recycler: Recycler;
  /** `limits.memoryMb`: the sampler for memory the worker's own rlimit cannot refuse. */
  readonly #memoryWatch: MemoryWatch | undefined;
  /** The links of every kind the config uses (link-registry.ts): remote workers beside the local ones, etc. */
  readonly #links: Required<PoolLinks>;
  /** Cancels the scheduled replacement round (a timer, or an immediate when it runs at once). */
  #cancelRound: (() => void) | undefined;
  /** A replacement round is scheduled or starting: at most one at a time. */
  #replacing = false;
  /** Set while the pool is degraded: replacements failed restart.maxAttempts times in a row (or at start). */
  #degraded: { error: WorkerStartError; since: number } | undefined;
  /** The last start failure, for stats and doctor. */
  #lastStartError: string | undefined;
  /** When the scheduled replacement round runs (performance.now()). */
  #nextRoundAt: number | undefined;
  /** `resume()` callers waiting for the round it started. */
  #resumeWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  /** `resume()` was called while a round was under way: run another one right after it. */
  #roundAgain = false;
  #restartCount = 0;
  #heartbeatsMissed = 0;
  /** The pool's template, which forks its local workers (`template` config), if it has one. */
  readonly #template: WorkerTemplate | undefined;
  /** Dying workers the restart policy has counted already (`onDying`, before their exit status). */
  readonly #deathCounted = new WeakSet<WorkerHandle>();
  /** Workers whose template could not fork them: started again cold, not counted as failed starts. */
  readonly #forkFailed = new WeakSet<WorkerHandle>();
  /** Python tracebacks of start failures already logged: each once per pool, not once per worker. */
  readonly #loggedTracebacks = new Set<string>();

  constructor(host: SupervisorHost) {
    this.#host = host;
    this.#early = host.early;
    const { name, config, logger, events, runId } = host;
    this.#restarts = new RestartPolicy(config.restart);
    this.#recycler = new Recycler({
      name,
      config,
      logger,
      events,
      workers: () => this.#workers,
      startExtraWorker: (replacing) => this.#addWorker(replacing?.endpoint),
      onDraining: (old, next) => {
        this.#host.beginHandOff(old, next);
        this.#replenish();
      },
      handOff: (old) => this.#host.handOff(old),
      isRunning: () => this.#host.isRunning(),
    });
    this.#template = config.template.enabled
      ? new WorkerTemplate({
          config,
          runId,
          logger,
          onProcess: (pid) => {
            if (pid === undefined) host.registry?.remove(`${name}~template`);
            else host.registry?.add(`${name}~template`, name, pid);
          },
        })
      : undefined;
    const { memoryMb } = config.limits;
    this.#memoryWatch =
      memoryMb === undefined
        ? undefined
        : new MemoryWatch({ name, logger, memoryMb, workers: () => this.#workers });
    this.#links = openLinks(
      {
        name,
        config,
        logger,
        runId,
        workers: () => this.#workers,
        startRemoteWorker: (endpoint) => this.#addWorker(endpoint),
        isRunning: () => this.#host.isRunning() || this.#host.isStarting(),
      },
      host.linkKinds,
    );
  }

  /** The pool's workers (any state). */
  get workers(): readonly WorkerHandle[] {
    return this.#workers;
  }

  find(id: string): WorkerHandle | undefined {
    return this.#workers.find((w) => w.id === id);
  }

  /**
   * Start `size` local workers, in batches, and the link kinds' remote workers beside them. `allOrNothing`: stop at the first
   * batch with a failure. Returns the first failure, if any.
   */
  async startAll(allOrNothing: boolean): Promise<Error | undefined> {
    this.#memoryWatch?.start();
    const remote = this.#links.start().then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    // The template first: its workers' fork requests wait in its channel while it imports, and it forks them as
    // soon as it is ready. If it cannot serve, they start cold (template.ts).
    if (this.#template && this.#host.config.size > 0) void this.#template.start();
    let local: Error | undefined;
    try {
      local = await this.#startInBatches(this.#host.config.size, allOrNothing);
    } finally {
      this.#abandonEarly(); // the first batch did not run (the pool closed first): not left running
    }
    return local ?? (await remote);
  }

  /**
   * Start `count` new local workers, `startupBatchSize` at a time. Resolves with the first failure (after the
   * batch it happened in; with `stopAtFailure`, later batches are not started).
   */
  async #startInBatches(count: number, stopAtFailure: boolean): Promise<Error | undefined> {
    const { startupBatchSize, startupBatchDelayMs } = this.#host.config;
    let failure: Error | undefined;
    for (let started = 0; started < count; started += startupBatchSize) {
      if (started > 0 && startupBatchDelayMs > 0)
        await new Promise((r) => setTimeout(r, startupBatchDelayMs));
      if (!this.#host.isRunning() && !this.#host.isStarting()) break;
      const batch = Array.from({ length: Math.min(startupBatchSize, count - started) }, () =>
        this.#newWorker(),
      );
      const results = await Promise.allSettled(batch.map((w) => this.#startWorker(w)));
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          if (this.#host.isRunning()) {
            this.#host.events.emit('worker:restarted', {
              pool: this.#host.name,
              worker: r.value.id,
              pid: r.value.pid,
            });
          }
        } else {
          failure ??= r.reason as Error;
          this.#lastStartError = (r.reason as Error).message;
          if (this.#host.isRunning()) {
            this.#host.logger.error(
              { pool: this.#host.name, worker: batch[i]!.id },
              `replacement failed to start: ${(r.reason as Error).message}`,
            );
          }
        }
      });
      if (failure && stopAtFailure) break;
      if (this.#host.isRunning()) this.#host.pump(); // what started serves while the next batch starts
    }
    return failure;
  }

  /**
   * `startPolicy: "available"`: the pool runs with the workers that started; it is degraded, and refills with
   * back-off like after a crash.
   */
  startedDegraded(failure: Error): void {
    this.#restarts.startFailed();
    this.#degrade(failure);
    this.#replenish();
  }

  /** The pool is running: begin the recycler's periodic checks. */
  startRecycling(): void {
    this.#recycler.start();
  }

  /** Why no call can be served: the pool is degraded and no worker is ready or starting. */
  unavailable(): WorkerStartError | undefined {
    if (this.#degraded && !this.#workers.some((w) => w.willServe)) {
      return this.#degraded.error;
    }
    return undefined;
  }

  /**
   * Try to bring a degraded (or short-handed) pool back to size now, with the back-off reset. Resolves when the
   * round started every missing worker; rejects with the round's failure (the pool keeps trying with back-off).
   */
  resume(): Promise<void> {
    if (this.#missing() <= 0 && !this.#replacing) return Promise.resolve();
    this.#restarts.reset();
    const done = new Promise<void>((resolve, reject) => this.#resumeWaiters.push({ resolve, reject }));
    if (this.#replacing && this.#nextRoundAt === undefined) {
      this.#roundAgain = true; // the round under way began before this call: the caller gets a fresh one
    } else {
      this.#cancelRound?.();
      this.#replacing = false;
      this.#nextRoundAt = undefined;
      this.#replenish();
    }
    return done;
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
      degraded: this.#degraded !== undefined,
      degradedSince: this.#degraded?.since,
      restartFailures: this.#restarts.failures,
      nextRestartInMs:
        this.#nextRoundAt === undefined
          ? undefined
          : Math.max(0, Math.round(this.#nextRoundAt - performance.now())),
      lastStartError: this.#lastStartError,
      template: this.#template && {
        state: this.#template.state,
        pid: this.#template.pid,
        forks: this.#template.forks,
        reason: this.#template.reason,
      },
      transfer: { ...this.#transfer },
    };
  }

  /** The pool is closing: no more recycling, replacing or reconnecting. */
  stopSupervising(): void {
    this.#recycler.stop();
    this.#cancelRound?.();
    this.#nextRoundAt = undefined;
    this.#links.stop();
    const closed = new PoolClosedError(`pool "${this.#host.name}" is closing`);
    for (const w of this.#resumeWaiters.splice(0)) w.reject(closed);
  }

  /** Stop every worker (`graceMs` between the shutdown frame, SIGTERM and SIGKILL) and forget them. */
  async stopWorkers(graceMs: number | undefined): Promise<void> {
    this.#abandonEarly();
    const workers = [...this.#workers];
    await Promise.all(workers.map((w) => w.stop(graceMs)));
    await this.#template?.close(graceMs ?? this.#host.config.killGraceMs);
    await this.#links.close();
    this.#memoryWatch?.stop();
    this.#workers = [];
  }

  // ── workers ──────────────────────────────────────────────────────────────────────────────────────────────

  /** A new worker: a local process, or (with `endpoint`) a remote one. */
  #newWorker(endpoint?: string): WorkerHandle {
    const { name, config, runId } = this.#host;
    const link = this.#links.linkFor(endpoint);
    const template = link ? undefined : this.#template;
    const id = `${name}-${endpoint === undefined ? '' : 'r'}${this.#nextWorkerNo++}`;
    // The early process is this worker's when it is the one it was spawned as: a cold local worker of that id.
    const early = this.#early?.id === id && !link && !template ? this.#early : undefined;
    if (early) this.#early = undefined;
    else this.#abandonEarly();
    const worker: WorkerHandle = new WorkerHandle({
      id,
      config,
      runId,
      ...(early ? { early } : {}),
      ...(link ? { link } : {}),
      ...(link && endpoint !== undefined ? { endpoint } : {}),
      ...(template
        ? {
            spawnLocal: (spec) => template.spawn(spec, spawnLocalWorker, () => this.#forkFailed.add(worker)),
          }
        : {}),
      hooks: this.#workerHooks(),
      transfer: this.#transfer,
    });
    this.#workers.push(worker);
    return worker;
  }

  #abandonEarly(): void {
    this.#early?.abandon();
    this.#early = undefined;
  }

  /** A worker outside the replacement rounds (a recycler's replacement, a remote endpoint's): start it, then pump. */
  async #addWorker(endpoint: string | undefined): Promise<WorkerHandle> {
    const worker = await this.#startWorker(this.#newWorker(endpoint));
    this.#host.pump();
    return worker;
  }

  #workerHooks(): WorkerHooks {
    const host = this.#host;
    return {
      logger: host.logger,
      onSlotFree: (w) => {
        this.#recycler.onSlotFree(w);
        this.#links.onSlotFree(w);
        host.pump();
      },
      onExit: (w, exit) => this.#onWorkerExit(w, exit),
      onDying: (w, facts) => this.#onWorkerDying(w, facts),
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
        if (call.internal) return;
        host.callDone(w, call, error);
        this.#recycler.afterCall(w);
      },
      onCallCrashed: (w, call, error) => host.retryCrashed(w, call, error),
      onCallsReturned: (w, calls, why) => host.returnCalls(w, calls, why),
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

  /**
   * A local worker that was serving is dying: count it for the restart policy and start its replacement now, not
   * after its exit status arrives (a forked worker's comes from its template: one more process wake-up on the way).
   * It no longer counts as one of the pool's workers (`willServe`), so the round replaces it.
   */
  #onWorkerDying(worker: WorkerHandle, facts: { callsInFlight: number; uptimeMs: number }): void {
    if (worker.endpoint !== undefined || !this.#host.isRunning()) return;
    this.#restarts.workerDied(facts);
    this.#deathCounted.add(worker);
    this.#replenish(true);
  }

  #onWorkerExit(worker: WorkerHandle, exit: WorkerExit): void {
    const host = this.#host;
    this.#workers = this.#workers.filter((w) => w !== worker);
    host.registry?.remove(worker.id);
    this.#recycler.onExit(worker);
    host.workerExited(worker);
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
      // A remote worker: its endpoint is retried in the background (its link kind: RemoteFleet for gRPC), not counted as a restart.
      if (host.isRunning() && exit.crashed && exit.kind !== 'start_failed') {
        host.logger.warn(
          { pool: host.name, worker: worker.id, endpoint: worker.endpoint },
          `remote worker ${worker.id} ended (${exit.kind}: ${describeExit(exit.exit)}); reconnecting to ${worker.endpoint}`,
        );
      }
      this.#links.onExit(worker);
      host.pump();
      return;
    }
    if (host.isRunning() && exit.crashed && exit.kind !== 'start_failed') {
      if (!this.#deathCounted.has(worker)) this.#restarts.workerDied(exit);
      host.logger.warn(
        { pool: host.name, worker: worker.id },
        `worker ${worker.id} died (${exit.kind}: ${describeExit(exit.exit)}${exit.reason ? `: ${exit.reason}` : ''}); ` +
          'starting a replacement',
      );
    }
    this.#replenish();
    host.pump();
  }

  /**
   * Spawn (or fork) a worker, recorded in the process registry, and run its handshake. Resolves with the worker
   * that started: another one, started cold, when the template could not fork this one.
   */
  async #startWorker(worker: WorkerHandle): Promise<WorkerHandle> {
    try {
      await this.#startOne(worker);
      return worker;
    } catch (err) {
      if (!this.#forkFailed.has(worker) || !(this.#host.isRunning() || this.#host.isStarting())) throw err;
      const cold = this.#newWorker(); // the template is not ready now: this one starts cold
      await this.#startOne(cold);
      return cold;
    }
  }

  #startOne(worker: WorkerHandle): Promise<void> {
    const host = this.#host;
    const started = worker.start();
    // A forked worker's pid is known once the template answered: it is recorded when ready (until then, the
    // run's marker in its environment is what a sweep finds it by).
    const spawnedPid = worker.pid;
    if (spawnedPid !== undefined) host.registry?.add(worker.id, host.name, spawnedPid);
    host.events.emit('worker:spawned', { pool: host.name, worker: worker.id, pid: spawnedPid });
    return started.then(
      () => {
        if (spawnedPid === undefined) host.registry?.add(worker.id, host.name, worker.pid);
        host.workerReady(worker);
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
   * Bring the pool back to `size` workers: one replacement round at a time, after the restart policy's delay. A
   * round that fails to start counts against `restart.maxAttempts`; past that, the pool is degraded and keeps
   * trying, every `maxBackoffMs` at most. `now`: a round due at once starts in this call, not on the next turn.
   */
  #replenish(now = false): void {
    if (!this.#host.isRunning() || this.#replacing) return;
    if (this.#missing() <= 0) return this.#settleResume(undefined);
    this.#replacing = true;
    const delay = this.#restarts.delayMs();
    this.#nextRoundAt = performance.now() + delay;
    const run = (): void => {
      this.#cancelRound = undefined;
      void this.#replaceRound();
    };
    if (delay === 0 && now) {
      // A worker is dying (onDying): its replacement is claimed or asked for before anything else of this turn
      // (the dead worker's exit, whose handling takes a few ms, may be due in the same turn).
      run();
    } else if (delay === 0) {
      // At once: in this turn of the event loop, not behind a timer's minimum of 1 ms and whatever else is due.
      const immediate = setImmediate(run).unref();
      this.#cancelRound = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(run, delay);
      timer.unref();
      this.#cancelRound = () => clearTimeout(timer);
    }
  }

  async #replaceRound(): Promise<void> {
    const host = this.#host;
    this.#nextRoundAt = undefined;
    const missing = this.#missing();
    if (!host.isRunning() || missing <= 0) {
      this.#replacing = false;
      if (missing <= 0) this.#settleResume(undefined);
      return;
    }
    this.#restartCount += missing;
    const failure = await this.#startInBatches(missing, true);
    this.#replacing = false;
    if (!host.isRunning()) return;
    if (failure !== undefined) this.#replacementFailed(failure);
    else if (this.#missing() <= 0) this.#recovered();
    host.pump();
    if (this.#roundAgain) {
      this.#roundAgain = false;
      this.#restarts.reset();
    } else this.#settleResume(failure);
    this.#replenish();
  }

  #replacementFailed(err: Error): void {
    this.#restarts.startFailed();
    if (this.#restarts.degraded) this.#degrade(err);
    // With no worker able to serve, queued calls would only wait for their timeouts: fail them now.
    if (!this.#workers.some((w) => w.state === 'ready')) {
      const cause = err instanceof WorkerStartError ? err : undefined;
      this.#host.failQueued(this.#degraded?.error ?? cause ?? new PoolClosedError(String(err)));
    }
  }

  /** Report the pool degraded (once per episode); the error says what failed and that it keeps trying. */
  #degrade(err: Error): void {
    const host = this.#host;
    const ready = this.#workers.filter((w) => w.state === 'ready').length;
    const cause = err instanceof WorkerStartError ? err : undefined;
    const error = new WorkerStartError(
      `pool "${host.name}" is degraded: ${this.#restarts.failures} worker start(s) failed in a row; ` +
        `${ready} of ${host.config.size} workers are running. It keeps trying every ` +
        `${host.config.restart.maxBackoffMs} ms at most (pit.resume("${host.name}") tries now). Last failure: ` +
        err.message,
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
    const first = this.#degraded === undefined;
    this.#degraded = { error, since: this.#degraded?.since ?? Date.now() };
    if (!first) return;
    host.logger.error({ pool: host.name }, error.message);
    host.events.emit('pool:degraded', { pool: host.name, workers: ready, error });
  }

  /**
   * Every worker is back: a degraded pool has recovered. (The failure count is reset by a worker that then
   * stays up — RestartPolicy.workerDied — so a worker that starts and dies at once keeps backing off.)
   */
  #recovered(): void {
    const degraded = this.#degraded;
    if (!degraded) return;
    this.#degraded = undefined;
    const host = this.#host;
    const workers = this.#workers.filter((w) => w.state === 'ready').length;
    host.logger.info({ pool: host.name }, `pool "${host.name}" recovered: ${workers} workers running`);
    host.events.emit('pool:recovered', { pool: host.name, workers, degradedMs: Date.now() - degraded.since });
  }

  #settleResume(failure: Error | undefined): void {
    for (const w of this.#resumeWaiters.splice(0)) {
      if (failure) w.reject(failure);
      else w.resolve();
    }
  }

  /**
   * Local workers short of `size`: ready ones and those starting count; a start that failed (its process still on
   * its way out), draining, tainted and stopping ones do not.
   */
  #missing(): number {
    const live = this.#workers.filter((w) => w.endpoint === undefined && w.willServe).length;
    return this.#host.config.size - live;
  }
}
