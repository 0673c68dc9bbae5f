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
  type LostState,
  PoolClosedError,
  PoolSaturatedError,
  SessionLostError,
  SnakepitError,
  WorkerBusyError,
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
import { allocateCallId, Call, type CallOwner, type CancelReason } from '../call/call.js';
import { mayRetry } from './crash-barrier.js';
import {
  type AffinityTarget,
  hasRoom,
  type PickResult,
  pickWorker,
  type SessionRouter,
  ToolTimings,
} from './picker.js';
import { type CallCounters, type PoolStats, poolStats, type WorkerInfo, workerInfo } from './pool-stats.js';
import { PoolSupervisor, type SupervisorHost, type WorkerRegistry } from './pool-supervisor.js';
import { handOffSessions } from './session-handoff.js';
import { StallWatch } from './stall-watch.js';
import { TaskQueue } from './task-queue.js';
import { WaitLines } from './wait-lines.js';
import { ancestorWorkers } from '../tools/tool-scope.js';
import type { EarlyWorker } from '../worker/early-worker.js';
import type { LinkKind } from '../worker/link-kind.js';

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
  /** References of a session that could not move with it to a recycled worker's replacement. */
  onRefsLost?(session: string, lost: LostState[], why: string): void;
  /** The link kinds the pool may use (default: every registered kind, link-registry.ts); tests pass fakes. */
  linkKinds?: readonly LinkKind[];
  /** The first worker's process, spawned before the pool (worker/early-worker.ts). */
  early?: EarlyWorker | undefined;
}

/** WaitLines key prefix of the calls held while their session moves off a recycled worker. */
const HOLD = '\0handoff:';
/** How long a bridge call of a session hand-off may take. */
const HANDOFF_CALL_MS = 30_000;
/** Bridge calls (session hand-off) are not the pool's: a timeout just cancels them. */
const INTERNAL_OWNER: CallOwner = { abandon: (call, reason) => call.runner?.cancel(call, reason) };

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
  /** Takes pipelined calls back from a worker stuck in a long call. */
  readonly #stalls: StallWatch<WorkerHandle>;
  /** Workers being recycled whose sessions move to the replacement: old id → replacement. */
  readonly #handoffs = new Map<string, WorkerHandle>();
  /** A recycled worker's id → the worker its sessions (and their references) moved to. */
  readonly #movedTo = new Map<string, string>();
  /** Sessions whose next call fails with this error (what their hand-off could not move, or a lost move). */
  readonly #reports = new Map<string, SessionLostError>();
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
    returned: 0,
  };

  constructor(config: ResolvedPoolConfig, hooks: PoolHooks) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
    this.#supervisor = new PoolSupervisor(this.#supervisorHost());
    this.#stalls = new StallWatch(
      () => this.#workers,
      (worker) => worker.state === 'ready' && !worker.stalled && worker.load < config.workerConcurrency,
      (worker) => worker.withdraw(worker.inFlight()),
    );
  }

  /** The workers, in any state (the supervisor's list: replaced, not mutated, when one leaves). */
  get #workers(): readonly WorkerHandle[] {
    return this.#supervisor.workers;
  }

  /**
   * Start the workers (in batches of `startupBatchSize`); resolve when all are ready. With `allOrNothing` (the
   * `"all"` start policy), a failure stops the rest and rejects with its error: no half-started pool, no leftover
   * process. Without, the pool runs with what started — possibly nothing — and is degraded until it refills (calls
   * fail at once meanwhile, with the start failure).
   */
  async start(allOrNothing = true): Promise<void> {
    if (this.#state !== 'new') throw new Error(`pool "${this.name}" was already started`);
    this.#state = 'starting';
    const startedAt = performance.now();
    const failed = await this.#supervisor.startAll(allOrNothing);
    if ((failed && allOrNothing) || this.#state !== 'starting') {
      await this.destroy();
      throw failed ?? new PoolClosedError(`pool "${this.name}" was closed while starting`);
    }
    this.#state = 'running';
    this.#supervisor.startRecycling();
    this.startFailure = failed;
    if (failed) this.#supervisor.startedDegraded(failed);
    else {
      this.#hooks.events.emit('pool:ready', {
        pool: this.name,
        workers: this.#workers.length,
        durationMs: performance.now() - startedAt,
      });
    }
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
    const pick = pickWorker(this.#target(call), this.#workers, this.config, nestedOn);
    if (pick.kind === 'busy') return false;
    this.#place(call, pick);
    return true;
  }

  /** CallOwner: a call was given up (timeout, abort, consumer stopped). */
  abandon(call: Call, reason: CancelReason): void {
    if (reason === 'timeout') this.#stats.timeouts++;
    if (reason !== 'consumer_stopped') this.#stats.errors++;
    if (call.phase === 'queued') {
      if (!this.#lines.remove(call)) this.#queue.remove(call);
    } else call.runner?.cancel(call, reason);
  }

  /** Start policy "available": why some workers did not start (the pool is degraded and keeps trying). */
  startFailure: Error | undefined;

  /** Whether a worker is ready now. */
  get serving(): boolean {
    return this.#workers.some((w) => w.state === 'ready');
  }

  /**
   * Try to bring the pool back to full size now (a degraded pool otherwise retries on its own, with back-off).
   * @throws WorkerStartError from the attempt when a worker still fails to start
   */
  resume(): Promise<void> {
    if (this.#state !== 'running') {
      return Promise.reject(new PoolClosedError(`pool "${this.name}" is ${this.#state}`));
    }
    return this.#supervisor.resume();
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
      state: this.#state,
      size: this.config.size,
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
    this.#stalls.stop();
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
      do this.#pumpQueue();
      while (this.#pumpLines());
    } finally {
      this.#pumping = false;
    }
    if (this.#state === 'closing' && this.#isIdle())
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  /** Walk the main queue from its head: dispatch, park (strict affinity, worker busy) or fail (worker gone). */
  #pumpQueue(): void {
    for (let call = this.#queue.peek(); call; call = this.#queue.peek()) {
      if ((this.#reports.size > 0 || this.#handoffs.size > 0) && this.#divert(call)) continue;
      const nestedOn = call.parent ? ancestorWorkers(call) : undefined;
      const pick = pickWorker(this.#target(call), this.#workers, this.config, nestedOn);
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
      this.#place(call, pick);
    }
  }

  /** Act on the picker's answer for a call no longer in the queue. */
  #place(call: Call, pick: Exclude<PickResult<WorkerHandle>, { kind: 'busy' }>): void {
    if (pick.kind === 'worker') this.#dispatch(pick.worker, call);
    else if (pick.kind === 'wait') this.#lines.park(pick.worker.id, call);
    else if (pick.kind === 'lost') this.#failLost(call, pick.workerId);
    else {
      this.#stats.errors++;
      call.fail(new WorkerBusyError(call.sessionId ?? '', pick.worker.id));
    }
  }

  /**
   * Parked calls take the room left on their own worker. The calls of a worker that is no longer ready (it died,
   * or drains for a recycle) go back to the front of the queue, which sends each where it now belongs; returns
   * true when it did, so the queue is walked again. Calls held for a hand-off wait for it.
   */
  #pumpLines(): boolean {
    if (this.#lines.size === 0) return false;
    let requeued = false;
    for (const key of this.#lines.workerIds()) {
      if (key.startsWith(HOLD)) continue;
      const worker = this.#workers.find((w) => w.id === key);
      if (!worker || worker.state !== 'ready') {
        const calls = this.#lines.take(key);
        for (let i = calls.length - 1; i >= 0; i--) this.#queue.unshift(calls[i]!);
        requeued = true;
        continue;
      }
      while (hasRoom(worker, this.config)) {
        const call = this.#lines.shift(key);
        if (!call) break;
        this.#dispatch(worker, call);
      }
    }
    return requeued;
  }

  /**
   * A session call (or a call on a reference) whose state is moving or was partly lost: held until its session
   * has moved off a recycled worker, or failed once with what its hand-off could not move. True when taken out
   * of the queue.
   */
  #divert(call: Call): boolean {
    const session = call.sessionId;
    const report = session === undefined ? undefined : this.#reports.get(session);
    if (report) {
      this.#reports.delete(session!);
      this.#queue.shift();
      this.#stats.errors++;
      call.fail(report);
      return true;
    }
    if (this.#handoffs.size === 0) return false;
    const workerId =
      call.workerId !== undefined
        ? this.#current(call.workerId)
        : session !== undefined
          ? this.#hooks.sessions?.workerFor(session, this.name)
          : undefined;
    if (workerId === undefined || !this.#handoffs.has(workerId)) return false;
    this.#queue.shift();
    this.#lines.park(HOLD + workerId, call);
    return true;
  }

  /** The worker that holds what `workerId` held: itself, or where its sessions moved when it was recycled. */
  #current(workerId: string): string {
    return this.#movedTo.get(workerId) ?? workerId;
  }

  #dispatch(worker: WorkerHandle, call: Call): void {
    try {
      worker.dispatch(call, call.stream === undefined && this.#timings.isFast(call.tool));
    } catch (err) {
      // Encoding failed before anything was written: only this call is affected.
      this.#stats.errors++;
      call.fail(err as Error);
      return;
    }
    this.#stalls.dispatched(worker);
    if (call.sessionId !== undefined) this.#hooks.sessions?.bound(call.sessionId, this.name, worker.id);
  }

  /** Where the call must (or would rather) run: the worker of its object reference, or of its session. */
  #target(call: Call): AffinityTarget | undefined {
    if (call.workerId !== undefined) return { workerId: this.#current(call.workerId), strict: true };
    if (call.sessionId === undefined || !this.#hooks.sessions) return undefined;
    const workerId = this.#hooks.sessions.workerFor(call.sessionId, this.name);
    if (workerId === undefined) return undefined;
    const mode = this.config.affinity;
    return { workerId, strict: mode !== 'hint', failFast: mode === 'strict_fail_fast' };
  }

  /**
   * The call must run on a worker that is gone (it died, or a recycle could not move its state). A call on an
   * object reference fails: the object is lost. A session call fails with SessionLostError; with
   * `strict_queue` that happens once — the session is unbound, and its next calls run on another worker.
   */
  #failLost(call: Call, workerId: string): void {
    this.#stats.errors++;
    const session = call.sessionId ?? '';
    if (call.workerId !== undefined) {
      call.fail(
        new SessionLostError(
          session,
          `the Python object this call addresses lived on worker ${workerId}, which is gone ` +
            `(it exited or was recycled): the object is lost`,
        ),
      );
      return;
    }
    const once = this.config.affinity === 'strict_queue';
    if (once) this.#hooks.sessions?.unbind(session, this.name);
    call.fail(
      new SessionLostError(
        session,
        `session "${session}" lost its worker ${workerId}, and its Python state with it; ` +
          (once
            ? 'its next calls run on another worker, starting from an empty state (reported once)'
            : 'with affinity "strict_fail_fast" every call of the session fails until you end it ' +
              '(pit.sessions.delete); "strict_queue" reports the loss once and carries on'),
      ),
    );
  }

  /** A worker ended: the sessions still bound to it lost their state (a hand-off rebinds those that moved). */
  #sessionsLost(worker: WorkerHandle): void {
    const sessions = this.#hooks.sessions;
    if (!sessions || this.#state !== 'running') return; // closing: every session's state goes anyway
    const reported = this.config.affinity !== 'hint';
    for (const session of sessions.sessionsOn(this.name, worker.id)) {
      if (!reported) sessions.unbind(session, this.name); // hint: it simply goes elsewhere from now on
      this.#hooks.events.emit('session:lost', { session, pool: this.name, worker: worker.id, reported });
    }
  }

  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#lines.size === 0 && this.#workers.every((w) => w.load === 0);
  }

  /**
   * Send a control message (`release`, `session_end`) to one worker, if it is still there — or to the worker its
   * sessions moved to, where a moved reference is filed under `<worker>/<id>`.
   */
  notify(workerId: string, message: ReleaseMessage | SessionEndMessage): void {
    const current = this.#current(workerId);
    if (current !== workerId && message.type === 'release') {
      message = { ...message, refs: message.refs.map((id) => `${workerId}/${id}`) };
    }
    this.#workers.find((w) => w.id === current)?.notify(message);
  }

  /** A session ended: forget what was to be reported to its next call (a new session may take the id). */
  sessionEnded(sessionId: string): void {
    this.#reports.delete(sessionId);
  }

  // ── session hand-off (recycling) ─────────────────────────────────────────────────────────────────────────

  /** `old` drains for a recycle: hold the calls of its sessions until they have moved to `next`. */
  #beginHandOff(old: WorkerHandle, next: WorkerHandle): void {
    if (this.#hooks.sessions) this.#handoffs.set(old.id, next);
  }

  /** `old` is idle: move its sessions to the replacement, then let their held calls go. */
  async #handOff(old: WorkerHandle): Promise<void> {
    const next = this.#handoffs.get(old.id);
    const sessions = this.#hooks.sessions;
    if (!next || !sessions) return;
    try {
      await handOffSessions(
        {
          name: this.name,
          affinity: this.config.affinity,
          events: this.#hooks.events,
          sessions,
          internalCall: (worker, tool, args) => this.#internalCall(worker, tool, args),
          refsLost: (session, lost, why) => this.#hooks.onRefsLost?.(session, lost, why),
          report: (session, error) => this.#reports.set(session, error),
        },
        old,
        next,
      );
      // References name the worker that made them: from now on, those of `old` live on `next`.
      this.#movedTo.set(old.id, next.id);
      for (const [from, to] of this.#movedTo) if (to === old.id) this.#movedTo.set(from, next.id);
    } finally {
      this.#handoffs.delete(old.id);
      const held = this.#lines.take(HOLD + old.id);
      for (let i = held.length - 1; i >= 0; i--) this.#queue.unshift(held[i]!);
      this.#pump();
    }
  }

  /** A bridge tool call straight to one worker (draining included), outside the queue and the stats. */
  #internalCall(worker: WorkerHandle, tool: string, args: Record<string, unknown>): Promise<unknown> {
    const call = new Call({
      id: allocateCallId(),
      pool: this.name,
      tool,
      args,
      sessionId: undefined,
      timeoutMs: HANDOFF_CALL_MS,
      queueTimeoutMs: undefined,
      signal: undefined,
      stream: undefined,
      owner: INTERNAL_OWNER,
      internal: true,
    });
    try {
      worker.dispatch(call, false, true);
    } catch (err) {
      call.fail(err as Error);
    }
    return call.promise;
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
      workerReady: (worker) => hooks.telemetry?.allowTools(configuredTools(this.config, worker.tools)),
      registry: hooks.registry,
      early: hooks.early,
      linkKinds: hooks.linkKinds,
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
      returnCalls: (worker, calls, reason) => {
        if (this.#state === 'closed') {
          for (const call of calls) call.fail(new PoolClosedError(`pool "${this.name}" is closed`));
          return;
        }
        // Back to the front, in their order: they were submitted before what is queued now.
        for (let i = calls.length - 1; i >= 0; i--) {
          const call = calls[i]!;
          call.putBack();
          this.#queue.unshift(call);
        }
        this.#stats.returned += calls.length;
        if (this.#hooks.events.wants('call:returned')) {
          for (const call of calls) {
            this.#hooks.events.emit('call:returned', {
              pool: this.name,
              tool: call.tool,
              worker: worker.id,
              reason,
            });
          }
        }
        this.#pump();
      },
      beginHandOff: (old, next) => this.#beginHandOff(old, next),
      handOff: (old) => this.#handOff(old),
      workerExited: (worker) => this.#sessionsLost(worker),
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
