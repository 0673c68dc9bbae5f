/**
 * Pool: one named group of workers running the same adapter, and the queue in front of them.
 *
 *   submit ─► [TaskQueue] ─► pump() ─► picker ─► WorkerHandle.dispatch ─► Python
 *                  ▲                                     │
 *                  └──────── slot free / worker ready ◄──┘
 *
 * `#pump` is the only code that moves calls from the queue to workers; every event (new call, answer, worker
 * ready, worker gone) just calls it. The queue is the one place a call can wait, so it is the one place
 * cancellation is cheap.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import {
  InvalidArgumentsError,
  PoolClosedError,
  PoolSaturatedError,
  SessionLostError,
  SnakepitError,
  WorkerStartError,
} from '../errors/errors.js';
import type {
  EventMessage,
  HostCallMessage,
  LibraryInfo,
  ReleaseMessage,
  SessionEndMessage,
  ToolSpec,
} from '../protocol/messages.js';
import type { CallTelemetry } from '../telemetry/call-telemetry.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { type CallStats, callStats } from '../telemetry/telemetry.js';
import type { Logger } from '../util/logger.js';
import { readRssBytes } from '../util/proc.js';
import { trace } from '../util/trace.js';
import { RemoteFleet } from '../worker/remote-fleet.js';
import { snakepitLink } from '../worker/snakepit-link.js';
import { describeExit, type WorkerExit, WorkerHandle } from '../worker/worker-handle.js';
import type { Call, CallOwner, CancelReason } from './call.js';
import { mayRetry } from './crash-barrier.js';
import { type AffinityTarget, hasRoom, pickWorker, type SessionRouter, ToolTimings } from './picker.js';
import { Recycler } from './recycler.js';
import { RestartPolicy } from './restart-policy.js';
import { TaskQueue } from './task-queue.js';
import { WaitLines } from './wait-lines.js';
import { ancestorWorkers } from '../tools/tool-scope.js';

/** Where live worker processes are recorded (the process registry), so a later start can sweep orphans. */
export interface WorkerRegistry {
  add(workerId: string, pool: string, pid: number | undefined): void;
  remove(workerId: string): void;
}

export interface PoolHooks {
  logger: Logger;
  events: EventBus;
  runId: string;
  onHostCall(worker: WorkerHandle, message: HostCallMessage): void;
  /** Session affinity: where a session's calls go (absent: sessions are not routed). */
  sessions?: SessionRouter;
  registry?: WorkerRegistry | undefined;
  /** The pool's call telemetry (latency histograms for `stats`), when on. */
  telemetry?: CallTelemetry | undefined;
}

export interface PoolStats extends CallStats {
  pool: string;
  /** Workers that exist (starting or ready). */
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
  /** True once replacements failed `restart.maxAttempts` times in a row and the pool stopped trying. */
  degraded: boolean;
  /** Heartbeat pings a worker left unanswered for an interval (each also a `heartbeat:missed` event). */
  heartbeatsMissed: number;
}

export interface WorkerInfo {
  id: string;
  pool: string;
  pid: number | undefined;
  state: string;
  load: number;
  served: number;
  codec: string | undefined;
  /** The worker's Python version (from its handshake). */
  python: string | undefined;
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
}

type PoolState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

export class Pool implements CallOwner {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly #hooks: PoolHooks;
  readonly #queue = new TaskQueue();
  /** Calls that must run on one busy worker (strict affinity), parked off the main queue. */
  readonly #lines = new WaitLines();
  readonly #timings = new ToolTimings();
  #workers: WorkerHandle[] = [];
  #state: PoolState = 'new';
  #pumping = false;
  #nextWorkerNo = 1;
  readonly #restarts: RestartPolicy;
  readonly #recycler: Recycler;
  /** Remote workers (transport `grpc`), beside the `size` local ones. */
  readonly #fleet: RemoteFleet | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  /** A replacement round is scheduled or starting: at most one at a time. */
  #replacing = false;
  /** Set when the pool gave up replacing workers (restart.maxAttempts). */
  #gaveUp: WorkerStartError | undefined;
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  #stats = {
    requests: 0,
    errors: 0,
    timeouts: 0,
    saturations: 0,
    restarts: 0,
    retries: 0,
    heartbeatsMissed: 0,
  };

  constructor(config: ResolvedPoolConfig, hooks: PoolHooks) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.#restarts = new RestartPolicy(config.restart);
    this.#recycler = new Recycler({
      name: config.name,
      config,
      logger: hooks.logger,
      events: hooks.events,
      workers: () => this.#workers,
      startExtraWorker: async (replacing) => {
        const worker = this.#newWorker(replacing?.endpoint);
        await this.#startWorker(worker);
        this.#pump();
        return worker;
      },
      onDraining: () => this.#replenish(),
      isRunning: () => this.#state === 'running',
    });
    this.#fleet = config.grpc
      ? new RemoteFleet({
          name: config.name,
          config,
          logger: hooks.logger,
          runId: hooks.runId,
          workers: () => this.#workers,
          startRemoteWorker: async (endpoint) => {
            const worker = this.#newWorker(endpoint);
            await this.#startWorker(worker);
            this.#pump();
            return worker;
          },
          isRunning: () => this.#state === 'running' || this.#state === 'starting',
        })
      : undefined;
  }

  /**
   * Start every worker at once; resolve when all are ready. If any fails, stop the rest and reject with its
   * error: no half-started pool, no leftover process.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`pool "${this.name}" was already started`);
    this.#state = 'starting';
    const startedAt = performance.now();
    const workers = Array.from({ length: this.config.size }, () => this.#newWorker());
    const results = await Promise.allSettled([
      ...workers.map((w) => this.#startWorker(w)),
      ...(this.#fleet ? [this.#fleet.start()] : []),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || this.#state !== 'starting') {
      await this.destroy();
      throw failed ? failed.reason : new PoolClosedError(`pool "${this.name}" was closed while starting`);
    }
    this.#state = 'running';
    this.#recycler.start();
    this.#hooks.events.emit('pool:ready', {
      pool: this.name,
      workers: this.#workers.length,
      durationMs: performance.now() - startedAt,
    });
    this.#pump();
  }

  /** Queue a call (or refuse it: closed pool, full queue). The call settles through its own promise. */
  submit(call: Call): void {
    if (call.settled) return;
    if (this.#state !== 'running') {
      call.fail(
        new PoolClosedError(`pool "${this.name}" is ${this.#state === 'closing' ? 'closing' : 'closed'}`),
      );
      return;
    }
    if (this.#gaveUp && !this.#workers.some((w) => w.state === 'ready' || w.state === 'starting')) {
      this.#stats.errors++;
      call.fail(this.#gaveUp);
      return;
    }
    if (this.#queue.size + this.#lines.size >= this.config.queue.max) {
      this.#stats.saturations++;
      this.#stats.errors++;
      if (this.#hooks.events.wants('pool:saturated')) {
        const { available, busy } = this.stats();
        this.#hooks.events.emit('pool:saturated', {
          pool: this.name,
          queued: this.#queue.size + this.#lines.size,
          max: this.config.queue.max,
          tool: call.tool,
          available,
          busy,
        });
      }
      call.fail(new PoolSaturatedError(this.name, this.config.queue.max));
      return;
    }
    if (call.parent && this.#admitNested(call)) return;
    this.#queue.push(call);
    this.#pump();
  }

  /**
   * A call made by a host tool whose Python caller holds a slot of this pool: placed now, not queued behind calls
   * that may be waiting for that very slot (which would deadlock the chain). True when placed (or failed).
   */
  #admitNested(call: Call): boolean {
    const nestedOn = ancestorWorkers(call);
    if (!nestedOn) return false;
    const pick = pickWorker(this.#target(call), this.#workers, this.config, this.#timings, nestedOn);
    if (pick.kind === 'busy') return false;
    if (pick.kind === 'worker') this.#dispatch(pick.worker, call);
    else if (pick.kind === 'wait') this.#lines.park(pick.worker.id, call);
    else this.#failLost(call, pick.workerId);
    return true;
  }

  /** CallOwner: a call was given up (timeout, abort, consumer stopped). */
  abandon(call: Call, reason: CancelReason): void {
    if (reason === 'timeout') this.#stats.timeouts++;
    if (reason !== 'consumer_stopped') this.#stats.errors++;
    if (call.phase === 'queued') {
      if (!this.#lines.forget(call)) this.#queue.forget();
    } else call.runner?.cancel(call, reason);
  }

  /** Tool specs advertised by the workers' `ready`. */
  tools(): ToolSpec[] {
    return this.#workers.find((w) => w.state === 'ready')?.tools ?? [];
  }

  /** The generic adapter's libraries, as the workers' `ready` advertised them. */
  libraries(): LibraryInfo[] {
    return this.#workers.find((w) => w.state === 'ready')?.libraries ?? [];
  }

  stats(): PoolStats {
    let available = 0;
    let busy = 0;
    let inFlight = 0;
    for (const w of this.#workers) {
      inFlight += w.load;
      if (w.state !== 'ready') continue;
      if (w.load === 0) available++;
      else busy++;
    }
    return {
      pool: this.name,
      workers: this.#workers.filter((w) => w.state === 'ready' || w.state === 'starting').length,
      available,
      busy,
      queued: this.#queue.size + this.#lines.size,
      inFlight,
      ...this.#stats,
      recycles: this.#recycler.recycled,
      degraded: this.#gaveUp !== undefined,
      ...callStats(this.#hooks.telemetry),
    };
  }

  workers(): WorkerInfo[] {
    return this.#workers.map((w) => ({
      id: w.id,
      pool: this.name,
      pid: w.pid,
      state: w.state,
      load: w.load,
      served: w.served,
      codec: w.codec,
      python: w.hello?.python,
      pythonExecutable: this.config.python.executable,
      pythonSource: this.config.python.source,
      uptimeMs: Date.now() - w.spawnedAt,
      lastError: w.lastError,
      rssMb: rssMb(w.pid),
      ...(w.endpoint !== undefined ? { endpoint: w.endpoint } : {}),
    }));
  }

  /** Whether a live worker of this pool has this id. */
  hasWorker(id: string): boolean {
    return this.#workers.some((w) => w.id === id);
  }

  /**
   * Replace one worker: its replacement starts and is ready before it stops taking calls; it then finishes the
   * calls it holds and stops. Resolves once it has stopped.
   * @throws InvalidArgumentsError when the worker is not ready (starting, already stopping)
   * @throws WorkerStartError when the replacement cannot start (the worker keeps serving)
   */
  recycleWorker(id: string): Promise<void> {
    const worker = this.#workers.find((w) => w.id === id);
    if (!worker || this.#state !== 'running' || (worker.state !== 'ready' && worker.state !== 'draining')) {
      return Promise.reject(
        new InvalidArgumentsError(
          'recycleWorker',
          undefined,
          `worker "${id}" is ${worker ? worker.state : 'not live'}${this.#state !== 'running' ? ` and pool "${this.name}" is ${this.#state}` : ''}; only a ready worker can be recycled`,
        ),
      );
    }
    return this.#recycler.recycle(worker, 'manual');
  }

  /**
   * Stop taking calls, let queued and in-flight calls finish for up to `timeoutMs`, then stop the workers.
   * Calls still unfinished at the deadline fail with PoolClosedError. Every caller gets the same promise.
   */
  close(timeoutMs: number): Promise<void> {
    return (this.#closing ??= this.#close(timeoutMs));
  }

  /**
   * Fail everything pending with `error` and stop every worker now (`graceMs` between the shutdown frame,
   * SIGTERM and SIGKILL; default killGraceMs, 0 forces). Every caller gets the same promise.
   */
  destroy(
    error: SnakepitError = new PoolClosedError(`pool "${this.name}" was destroyed`),
    graceMs?: number,
  ): Promise<void> {
    return (this.#destroying ??= this.#destroy(error, graceMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'closing';
      const drained = await this.#waitIdle(timeoutMs);
      if (!drained) trace('pool', `${this.name} close: drain timed out after ${timeoutMs} ms`);
    }
    await this.destroy(new PoolClosedError(`pool "${this.name}" closed before the call finished`));
  }

  async #destroy(error: SnakepitError, graceMs: number | undefined): Promise<void> {
    this.#state = 'closing';
    this.#recycler.stop();
    clearTimeout(this.#restartTimer);
    this.#fleet?.stop();
    for (const call of [...this.#queue.drain(), ...this.#lines.drain()]) call.fail(error);
    const workers = [...this.#workers];
    for (const w of workers) {
      for (const call of w.inFlight()) {
        if (call.settled) continue;
        call.fail(error);
        // Interrupt the tool, so the worker reaches its `shutdown` frame without waiting out the tool.
        w.cancel(call, 'shutdown');
      }
    }
    await Promise.all(workers.map((w) => w.stop(graceMs)));
    this.#fleet?.close();
    this.#workers = [];
    this.#state = 'closed';
    for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  // ── the pump ─────────────────────────────────────────────────────────────────────────────────────────────

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#pumpQueue();
      this.#pumpLines();
    } finally {
      this.#pumping = false;
    }
    if (this.#state === 'closing' && this.#isIdle())
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  /** Walk the main queue from its head: dispatch, park (strict affinity, worker busy) or fail (worker gone). */
  #pumpQueue(): void {
    for (let call = this.#queue.peek(); call; call = this.#queue.peek()) {
      const nestedOn = call.parent ? ancestorWorkers(call) : undefined;
      const pick = pickWorker(this.#target(call), this.#workers, this.config, this.#timings, nestedOn);
      if (pick.kind === 'busy') return;
      if (pick.kind === 'worker') {
        // A call parked on this worker before `call` was queued goes first.
        const parked = this.#lines.peek(pick.worker.id);
        if (parked && parked.id < call.id) {
          this.#dispatch(pick.worker, this.#lines.shift(pick.worker.id)!);
          continue;
        }
      }
      this.#queue.shift();
      if (pick.kind === 'worker') this.#dispatch(pick.worker, call);
      else if (pick.kind === 'wait') this.#lines.park(pick.worker.id, call);
      else this.#failLost(call, pick.workerId);
    }
  }

  /** Parked calls take the room left on their own worker; those whose worker is gone fail. */
  #pumpLines(): void {
    if (this.#lines.size === 0) return;
    for (const workerId of this.#lines.workerIds()) {
      const worker = this.#workers.find((w) => w.id === workerId);
      if (!worker || worker.state !== 'ready') {
        for (const call of this.#lines.take(workerId)) this.#failLost(call, workerId);
        continue;
      }
      while (hasRoom(worker, this.config, this.#timings)) {
        const call = this.#lines.shift(workerId);
        if (!call) break;
        this.#dispatch(worker, call);
      }
    }
  }

  #dispatch(worker: WorkerHandle, call: Call): void {
    try {
      worker.dispatch(call);
    } catch (err) {
      // Encoding failed before anything was written: only this call is affected.
      this.#stats.errors++;
      call.fail(err as Error);
      return;
    }
    if (call.sessionId !== undefined) this.#hooks.sessions?.bound(call.sessionId, this.name, worker.id);
  }

  /** Where the call must (or would rather) run: the worker of its object reference, or of its session. */
  #target(call: Call): AffinityTarget | undefined {
    if (call.workerId !== undefined) return { workerId: call.workerId, strict: true };
    if (call.sessionId === undefined || !this.#hooks.sessions) return undefined;
    const workerId = this.#hooks.sessions.workerFor(call.sessionId, this.name);
    return workerId === undefined ? undefined : { workerId, strict: this.config.affinity === 'strict' };
  }

  #failLost(call: Call, workerId: string): void {
    this.#stats.errors++;
    const session = call.sessionId ?? '';
    call.fail(
      call.workerId !== undefined
        ? new SessionLostError(
            session,
            `the Python object this call addresses lived on worker ${workerId}, which is gone ` +
              `(it exited or was recycled): the object is lost`,
          )
        : new SessionLostError(
            session,
            `session "${session}" lost its worker ${workerId} (it exited or was recycled), and its Python ` +
              `state with it: end the session (pit.sessions.delete) and start again, or use affinity "prefer"`,
          ),
    );
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#lines.size === 0 && this.#workers.every((w) => w.load === 0);
  }

  /** Send a control message (`release`, `session_end`) to one worker, if it is still there. */
  notify(workerId: string, message: ReleaseMessage | SessionEndMessage): void {
    this.#workers.find((w) => w.id === workerId)?.notify(message);
  }

  #waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ── workers ──────────────────────────────────────────────────────────────────────────────────────────────

  /** A new worker: a local process, or (with `endpoint`) a remote one. */
  #newWorker(endpoint?: string): WorkerHandle {
    const worker = new WorkerHandle({
      id: `${this.name}-${endpoint === undefined ? '' : 'r'}${this.#nextWorkerNo++}`,
      config: this.config,
      runId: this.#hooks.runId,
      ...(endpoint !== undefined && this.#fleet ? { endpoint, link: this.#fleet.linkFor(endpoint) } : {}),
      ...(endpoint === undefined && this.config.snakepit
        ? { link: snakepitLink(this.config, this.#hooks.runId) }
        : {}),
      hooks: {
        logger: this.#hooks.logger,
        onSlotFree: (w) => {
          this.#recycler.onSlotFree(w);
          this.#fleet?.onSlotFree(w);
          this.#pump();
        },
        onExit: (w, exit) => this.#onWorkerExit(w, exit),
        onHostCall: (w, message) => this.#hooks.onHostCall(w, message),
        onEvent: (w, message: EventMessage) =>
          this.#hooks.events.emit('python:event', {
            pool: this.name,
            worker: w.id,
            name: message.name,
            measurements: message.measurements ?? {},
            metadata: message.metadata ?? {},
            correlationId: message.correlation_id ?? undefined,
          }),
        onCallDone: (w, call, error) => {
          this.#stats.requests++;
          if (error && !call.cancelled) this.#stats.errors++;
          if (!error) this.#timings.record(call.tool, performance.now() - call.dispatchedAt);
          this.#recycler.afterCall(w);
        },
        onCallCrashed: (w, call, error) => {
          if (this.#state !== 'running' || !mayRetry(call, this.config.maxRetries)) return false;
          call.requeue();
          this.#queue.unshift(call);
          this.#stats.retries++;
          this.#hooks.events.emit('call:retried', {
            pool: this.name,
            tool: call.tool,
            worker: w.id,
            attempt: call.retries + 1,
            kind: error.kind ?? 'killed',
          });
          return true;
        },
        onHeartbeatMissed: (w, silentMs, missed, fatal) => {
          this.#stats.heartbeatsMissed++;
          this.#hooks.events.emit('heartbeat:missed', {
            pool: this.name,
            worker: w.id,
            pid: w.pid,
            silentMs,
            missed,
            timeoutMs: this.config.heartbeat?.timeoutMs ?? 0,
            fatal,
          });
        },
      },
    });
    this.#workers.push(worker);
    return worker;
  }

  #onWorkerExit(worker: WorkerHandle, exit: WorkerExit): void {
    this.#workers = this.#workers.filter((w) => w !== worker);
    this.#hooks.registry?.remove(worker.id);
    this.#recycler.onExit(worker);
    this.#hooks.events.emit('worker:exited', {
      pool: this.name,
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
      if (this.#state === 'running' && exit.crashed && exit.kind !== 'start_failed') {
        this.#hooks.logger.warn(
          { pool: this.name, worker: worker.id, endpoint: worker.endpoint },
          `remote worker ${worker.id} ended (${exit.kind}: ${describeExit(exit.exit)}); reconnecting to ${worker.endpoint}`,
        );
      }
      this.#fleet?.onExit(worker);
      this.#pump();
      return;
    }
    if (this.#state === 'running' && exit.crashed && exit.kind !== 'start_failed') {
      this.#restarts.workerDied(exit);
      this.#hooks.logger.warn(
        { pool: this.name, worker: worker.id },
        `worker ${worker.id} died (${exit.kind}: ${describeExit(exit.exit)}${exit.reason ? `: ${exit.reason}` : ''}); ` +
          'starting a replacement',
      );
    }
    this.#replenish();
    this.#pump();
  }

  /** Spawn a worker (recorded in the process registry) and run its handshake. */
  #startWorker(worker: WorkerHandle): Promise<void> {
    const started = worker.start();
    this.#hooks.registry?.add(worker.id, this.name, worker.pid);
    this.#hooks.events.emit('worker:spawned', { pool: this.name, worker: worker.id, pid: worker.pid });
    return started.then(() => {
      this.#hooks.events.emit('worker:ready', {
        pool: this.name,
        worker: worker.id,
        pid: worker.pid,
        startupMs: Date.now() - worker.spawnedAt,
        python: worker.hello?.python,
        codec: worker.codec,
      });
    });
  }

  /**
   * Bring the pool back to `size` workers: one replacement round at a time, after the restart policy's delay.
   * A round that fails to start counts against `restart.maxAttempts`; when they are spent the pool reports
   * itself degraded and stops trying.
   */
  #replenish(): void {
    if (this.#state !== 'running' || this.#replacing || this.#gaveUp) return;
    if (this.#missing() <= 0) return;
    this.#replacing = true;
    this.#restartTimer = setTimeout(() => void this.#replaceRound(), this.#restarts.delayMs());
    this.#restartTimer.unref();
  }

  async #replaceRound(): Promise<void> {
    const missing = this.#missing();
    if (this.#state !== 'running' || missing <= 0) {
      this.#replacing = false;
      return;
    }
    const workers = Array.from({ length: missing }, () => this.#newWorker());
    this.#stats.restarts += workers.length;
    const results = await Promise.allSettled(workers.map((w) => this.#startWorker(w)));
    this.#replacing = false;
    if (this.#state !== 'running') return;
    let failure: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        this.#hooks.events.emit('worker:restarted', {
          pool: this.name,
          worker: workers[i]!.id,
          pid: workers[i]!.pid,
        });
      } else {
        failure ??= r.reason;
        this.#hooks.logger.error(
          { pool: this.name, worker: workers[i]!.id },
          `replacement failed to start: ${(r.reason as Error).message}`,
        );
      }
    });
    if (failure !== undefined) this.#replacementFailed(failure);
    this.#pump();
    this.#replenish();
  }

  #replacementFailed(err: unknown): void {
    this.#restarts.startFailed();
    const ready = this.#workers.filter((w) => w.state === 'ready').length;
    const cause = err instanceof WorkerStartError ? err : undefined;
    if (this.#restarts.exhausted) {
      this.#gaveUp = new WorkerStartError(
        `pool "${this.name}" stopped replacing workers after ${this.#restarts.failures} failed attempts in a row ` +
          `(restart.maxAttempts); ${ready} of ${this.config.size} workers are running. Last failure: ` +
          `${(err as Error).message}`,
        {
          pool: this.name,
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
      this.#hooks.logger.error({ pool: this.name }, this.#gaveUp.message);
      this.#hooks.events.emit('pool:degraded', { pool: this.name, workers: ready, error: this.#gaveUp });
    }
    // With no worker able to serve, queued calls would only wait for their timeouts: fail them now.
    if (!this.#workers.some((w) => w.state === 'ready')) {
      const failure = this.#gaveUp ?? cause ?? new PoolClosedError(String(err));
      for (const call of this.#queue.drain()) call.fail(failure);
    }
  }

  /** Local workers short of `size`: those starting or ready count; draining, tainted and stopping ones do not. */
  #missing(): number {
    const live = this.#workers.filter(
      (w) => w.endpoint === undefined && (w.state === 'ready' || w.state === 'starting'),
    ).length;
    return this.config.size - live;
  }
}

function rssMb(pid: number | undefined): number | undefined {
  const bytes = pid === undefined ? undefined : readRssBytes(pid);
  return bytes === undefined ? undefined : Math.round((bytes / 1024 / 1024) * 10) / 10;
}
