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
  PoolClosedError,
  PoolSaturatedError,
  SessionLostError,
  SnakepitError,
  WorkerStartError,
} from '../errors/errors.js';
import type {
  EventMessage,
  HostCallMessage,
  ReleaseMessage,
  SessionEndMessage,
  ToolSpec,
} from '../protocol/messages.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { Logger } from '../util/logger.js';
import { trace } from '../util/trace.js';
import { describeExit, type WorkerExit, WorkerHandle } from '../worker/worker-handle.js';
import type { Call, CallOwner, CancelReason } from './call.js';
import { type AffinityTarget, hasRoom, pickWorker, type SessionRouter, ToolTimings } from './picker.js';
import { TaskQueue } from './task-queue.js';
import { WaitLines } from './wait-lines.js';

const RESTART_BACKOFF_MIN_MS = 100;
const RESTART_BACKOFF_MAX_MS = 30_000;

export interface PoolHooks {
  logger: Logger;
  events: EventBus;
  runId: string;
  onHostCall(worker: WorkerHandle, message: HostCallMessage): void;
  /** Session affinity: where a session's calls go (absent: sessions are not routed). */
  sessions?: SessionRouter;
}

export interface PoolStats {
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
  #restartFailures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  #stats = { requests: 0, errors: 0, timeouts: 0, saturations: 0, restarts: 0 };

  constructor(config: ResolvedPoolConfig, hooks: PoolHooks) {
    this.name = config.name;
    this.config = config;
    this.#hooks = hooks;
  }

  /**
   * Start every worker at once; resolve when all are ready. If any fails, stop the rest and reject with its
   * error: no half-started pool, no leftover process.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`pool "${this.name}" was already started`);
    this.#state = 'starting';
    const workers = Array.from({ length: this.config.size }, () => this.#newWorker());
    const results = await Promise.allSettled(workers.map((w) => w.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || this.#state !== 'starting') {
      await this.destroy();
      throw failed ? failed.reason : new PoolClosedError(`pool "${this.name}" was closed while starting`);
    }
    this.#state = 'running';
    this.#hooks.events.emit('pool:ready', { pool: this.name, workers: this.#workers.length });
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
    if (this.#queue.size + this.#lines.size >= this.config.queue.max) {
      this.#stats.saturations++;
      this.#stats.errors++;
      this.#hooks.events.emit('pool:saturated', { pool: this.name, queued: this.#queue.size });
      call.fail(new PoolSaturatedError(this.name, this.config.queue.max));
      return;
    }
    this.#queue.push(call);
    this.#pump();
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
    }));
  }

  /**
   * Stop taking calls, let queued and in-flight calls finish for up to `timeoutMs`, then stop the workers.
   * Calls still unfinished at the deadline fail with PoolClosedError. Every caller gets the same promise.
   */
  close(timeoutMs: number): Promise<void> {
    return (this.#closing ??= this.#close(timeoutMs));
  }

  /** Fail everything pending with `error` and stop every worker now. Every caller gets the same promise. */
  destroy(error: SnakepitError = new PoolClosedError(`pool "${this.name}" was destroyed`)): Promise<void> {
    return (this.#destroying ??= this.#destroy(error));
  }

  async #close(timeoutMs: number): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'closing';
      const drained = await this.#waitIdle(timeoutMs);
      if (!drained) trace('pool', `${this.name} close: drain timed out after ${timeoutMs} ms`);
    }
    await this.destroy(new PoolClosedError(`pool "${this.name}" closed before the call finished`));
  }

  async #destroy(error: SnakepitError): Promise<void> {
    this.#state = 'closing';
    clearTimeout(this.#restartTimer);
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
    await Promise.all(workers.map((w) => w.stop()));
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
      const pick = pickWorker(this.#target(call), this.#workers, this.config, this.#timings);
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

  #newWorker(): WorkerHandle {
    const worker = new WorkerHandle({
      id: `${this.name}-${this.#nextWorkerNo++}`,
      config: this.config,
      runId: this.#hooks.runId,
      hooks: {
        logger: this.#hooks.logger,
        onSlotFree: () => this.#pump(),
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
        onCallDone: (_w, call, error) => {
          this.#stats.requests++;
          if (error && !call.cancelled) this.#stats.errors++;
          if (!error) this.#timings.record(call.tool, performance.now() - call.dispatchedAt);
        },
      },
    });
    this.#workers.push(worker);
    this.#hooks.events.emit('worker:spawned', { pool: this.name, worker: worker.id });
    return worker;
  }

  #onWorkerExit(worker: WorkerHandle, exit: WorkerExit): void {
    this.#workers = this.#workers.filter((w) => w !== worker);
    this.#hooks.events.emit('worker:exited', {
      pool: this.name,
      worker: worker.id,
      crashed: exit.crashed,
      code: exit.exit.code,
      signal: exit.exit.signal,
      reason: exit.reason,
    });
    if (this.#state !== 'running' || !exit.crashed) {
      this.#pump();
      return;
    }
    this.#hooks.logger.warn(
      { pool: this.name, worker: worker.id },
      `worker ${worker.id} died (${describeExit(exit.exit)}${exit.reason ? `: ${exit.reason}` : ''}); starting a replacement`,
    );
    this.#scheduleReplacement();
  }

  /** Replace a dead worker; back off exponentially while replacements keep failing to start. */
  #scheduleReplacement(): void {
    const delay =
      this.#restartFailures === 0
        ? 0
        : Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_MIN_MS * 2 ** this.#restartFailures);
    this.#restartTimer = setTimeout(() => {
      if (this.#state !== 'running') return;
      const worker = this.#newWorker();
      this.#stats.restarts++;
      worker.start().then(
        () => {
          this.#restartFailures = 0;
          this.#hooks.events.emit('worker:restarted', { pool: this.name, worker: worker.id });
          this.#pump();
        },
        (err: unknown) => {
          this.#restartFailures++;
          this.#hooks.logger.error(
            { pool: this.name, worker: worker.id },
            `replacement failed to start: ${(err as Error).message}`,
          );
          // With no worker able to serve, queued calls would only wait for their timeouts: fail them now.
          if (!this.#workers.some((w) => w.state === 'ready')) {
            const cause = err instanceof WorkerStartError ? err : new PoolClosedError(String(err));
            for (const call of this.#queue.drain()) call.fail(cause);
          }
        },
      );
    }, delay);
    this.#restartTimer.unref();
  }
}
