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
 *
 * The workers themselves — creating, starting, replacing and recycling them — are `PoolSupervisor`'s
 * (pool-supervisor.ts), which reaches the pool only through `SupervisorHost`; the `stats()`/`workers()`
 * snapshots are built in pool-stats.ts.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import {
  InvalidArgumentsError,
  PoolClosedError,
  PoolSaturatedError,
  SessionLostError,
  SnakepitError,
} from '../errors/errors.js';
import type {
  HostCallMessage,
  LibraryInfo,
  ReleaseMessage,
  SessionEndMessage,
  ToolSpec,
} from '../protocol/messages.js';
import type { CallTelemetry } from '../telemetry/call-telemetry.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { Logger } from '../util/logger.js';
import { trace } from '../util/trace.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { Call, CallOwner, CancelReason } from './call.js';
import { mayRetry } from './crash-barrier.js';
import { type AffinityTarget, hasRoom, pickWorker, type SessionRouter, ToolTimings } from './picker.js';
import { type CallCounters, type PoolStats, poolStats, type WorkerInfo, workerInfo } from './pool-stats.js';
import { PoolSupervisor, type SupervisorHost, type WorkerRegistry } from './pool-supervisor.js';
import { TaskQueue } from './task-queue.js';
import { WaitLines } from './wait-lines.js';
import { ancestorWorkers } from '../tools/tool-scope.js';

export type { PoolStats, WorkerInfo, WorkerRegistry };

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

type PoolState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

export class Pool implements CallOwner {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly #hooks: PoolHooks;
  readonly #queue = new TaskQueue();
  /** Calls that must run on one busy worker (strict affinity), parked off the main queue. */
  readonly #lines = new WaitLines();
  readonly #timings = new ToolTimings();
  /** The workers as a population: creating, starting, replacing and recycling them. */
  readonly #supervisor: PoolSupervisor;
  #state: PoolState = 'new';
  #pumping = false;
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  readonly #stats: CallCounters = {
    requests: 0,
    errors: 0,
    timeouts: 0,
    saturations: 0,
    retries: 0,
  };

  constructor(config: ResolvedPoolConfig, hooks: PoolHooks) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.#supervisor = new PoolSupervisor(this.#supervisorHost());
  }

  /** The workers, in any state (the supervisor's list: replaced, not mutated, when one leaves). */
  get #workers(): readonly WorkerHandle[] {
    return this.#supervisor.workers;
  }

  /**
   * Start every worker at once; resolve when all are ready. If any fails, stop the rest and reject with its
   * error: no half-started pool, no leftover process.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`pool "${this.name}" was already started`);
    this.#state = 'starting';
    const startedAt = performance.now();
    const failed = await this.#supervisor.startAll();
    if (failed || this.#state !== 'starting') {
      await this.destroy();
      throw failed ? failed.reason : new PoolClosedError(`pool "${this.name}" was closed while starting`);
    }
    this.#state = 'running';
    this.#supervisor.startRecycling();
    this.#hooks.telemetry?.allowTools(configuredTools(this.config, this.tools()));
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
    const unavailable = this.#supervisor.unavailable();
    if (unavailable) {
      this.#stats.errors++;
      call.fail(unavailable);
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
    return poolStats({
      name: this.name,
      workers: this.#workers,
      queued: this.#queue.size + this.#lines.size,
      calls: this.#stats,
      supervision: this.#supervisor.stats(),
      telemetry: this.#hooks.telemetry,
    });
  }

  workers(): WorkerInfo[] {
    return this.#workers.map((w) => workerInfo(w, this.config));
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
    return this.#supervisor.recycle(worker);
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
    this.#supervisor.stopSupervising();
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
    await this.#supervisor.stopWorkers(graceMs);
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

  // ── what the supervisor sees of the pool ─────────────────────────────────────────────────────────────────

  #supervisorHost(): SupervisorHost {
    const hooks = this.#hooks;
    return {
      name: this.name,
      config: this.config,
      logger: hooks.logger,
      events: hooks.events,
      runId: hooks.runId,
      registry: hooks.registry,
      onHostCall: (worker, message) => hooks.onHostCall(worker, message),
      isRunning: () => this.#state === 'running',
      isStarting: () => this.#state === 'starting',
      pump: () => this.#pump(),
      callDone: (_worker, call, error) => {
        this.#stats.requests++;
        if (error && !call.cancelled) this.#stats.errors++;
        if (!error) this.#timings.record(call.tool, performance.now() - call.dispatchedAt);
      },
      retryCrashed: (worker, call, error) => {
        if (this.#state !== 'running' || !mayRetry(call, this.config.maxRetries)) return false;
        call.requeue();
        this.#queue.unshift(call);
        this.#stats.retries++;
        this.#hooks.events.emit('call:retried', {
          pool: this.name,
          tool: call.tool,
          worker: worker.id,
          attempt: call.retries + 1,
          kind: error.kind ?? 'killed',
        });
        return true;
      },
      failQueued: (error) => {
        for (const call of this.#queue.drain()) call.fail(error);
      },
    };
  }
}

/**
 * The tools with metrics of their own: what the adapter advertised, and each library's listed functions and
 * aliases (`python.<namespace>.<name>`). Not a library's other public functions (`expose: 'public'`): those are
 * whatever the module holds, too many to label.
 */
function configuredTools(config: ResolvedPoolConfig, advertised: readonly ToolSpec[]): string[] {
  const names = advertised.map((t) => t.name).filter((n) => !n.startsWith('python.'));
  for (const lib of config.libraries) {
    for (const fn of [...(lib.functions ?? []), ...Object.keys(lib.aliases)])
      names.push(`python.${lib.namespace}.${fn}`);
  }
  return names;
}
