/**
 * A Call is one `execute` (or `executeStream`) from submission to settlement.
 *
 *   queued ──dispatch──► running ──terminal frame──► done
 *     │                     │
 *     └──timeout/abort──►  settled early: the caller is rejected at once; a running call's worker slot stays
 *                          taken until Python answers the `cancel` (the one-terminal-frame rule, PROTOCOL.md §5)
 *
 * `#finish` is the single place a call settles: it clears the timer and the abort listener, so nothing a call
 * registered outlives it.
 */
import { AbortError, CallTimeoutError, QueueTimeoutError } from '../errors/errors.js';
import type { CallMessage, CancelMessage } from '../protocol/messages.js';
import type { ChunkStream } from './chunk-stream.js';
import { type Deadline, deadlines } from './deadlines.js';

/** What a Call tells its observer. */
export interface CallObserver {
  /** The call exists (called in the caller's synchronous context). */
  created(call: Call): void;
  /** The call was dispatched to a worker (`call.runner`, `call.dispatchedAt` are set). */
  started(call: Call): void;
  /** The call settled, with `error` or without. Called once. */
  settled(call: Call, error: Error | undefined): void;
}

export type CancelReason = CancelMessage['reason'];

/** The worker running a call, as the call sees it. */
export interface CallRunner {
  readonly id: string;
  cancel(call: Call, reason: CancelReason): void;
  credit(call: Call, n: number): void;
}

/** What the pool does when a call is given up (timeout, abort, consumer stopped). */
export interface CallOwner {
  abandon(call: Call, reason: CancelReason): void;
}

export interface CallInit {
  id: number;
  pool: string;
  tool: string;
  args: Record<string, unknown>;
  sessionId: string | undefined;
  timeoutMs: number;
  queueTimeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  stream: ChunkStream | undefined;
  owner: CallOwner;
  /** The worker the call must run on (it addresses an object reference held there). */
  workerId?: string | undefined;
  /** The caller said running it twice is harmless: it may be retried when its worker dies under it. */
  idempotent?: boolean;
  /** The Python call whose host tool made this call (tools/tool-scope.ts), if any. */
  parent?: Call | undefined;
  /** Host-tool hops above this call (0 for a call made outside any host tool). */
  depth?: number;
  /** The caller's correlation id (sent to Python); absent, both sides use `<runId>-<id>`. */
  correlationId?: string | undefined;
  /** Values with no by-value form come back as markers (docs/VALUES.md); undefined: off. */
  graceful?: { repr: boolean } | undefined;
  /** Telemetry: told when the call is created, dispatched and settled. */
  observer?: CallObserver | undefined;
  /** A bridge call the pool makes itself (a session hand-off): not counted as a served request. */
  internal?: boolean;
}

export type CallPhase = 'queued' | 'running' | 'done';

let nextCallId = 1;
/** Call ids are unique per host process, hence per channel too. */
export function allocateCallId(): number {
  return nextCallId++;
}

export class Call {
  readonly id: number;
  readonly pool: string;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly sessionId: string | undefined;
  readonly timeoutMs: number;
  readonly stream: ChunkStream | undefined;
  /** The worker the call must run on, if any (object references); sessions route through the pool's affinity. */
  readonly workerId: string | undefined;
  /** The Python call whose host tool made this call: it holds a worker slot while it waits for this one. */
  readonly parent: Call | undefined;
  /** Host-tool hops above this call (0 outside any host tool). */
  readonly depth: number;
  readonly promise: Promise<unknown>;
  /** performance.now() at submission, dispatch and settlement. */
  readonly submittedAt = performance.now();
  dispatchedAt = 0;
  phase: CallPhase = 'queued';
  /** True once the caller has its answer; the worker slot may still be held (see the diagram). */
  settled = false;
  /** The cancel reason, once a cancel was sent to the worker. */
  cancelled: CancelReason | undefined;
  /** The worker running the call, once dispatched. */
  runner: CallRunner | undefined;
  readonly idempotent: boolean;
  /** A bridge call the pool makes itself (a session hand-off): not counted as a served request. */
  readonly internal: boolean;
  /** Times the call was taken back from a dead worker and queued again (crash barrier). */
  retries = 0;
  /** Times the call was given back unstarted by a worker (withdrawn, or its worker died first) and queued again. */
  returns = 0;
  /** The ledger slot of the worker it was dispatched to (worker/ledger.ts), while in flight there. */
  slot: number | undefined = undefined;
  /** Its worker was asked to give it back if it has not begun (a `withdraw`), and has not answered yet. */
  withdrawing = false;
  /**
   * Nothing may be pipelined behind it on its worker: a stream, a call given up on (its cancel pending), or a
   * call to a tool not measured as fast when it was dispatched. Kept by the worker's InFlightCalls.
   */
  blocksPipelining = false;
  /** The caller's correlation id, if it gave one. */
  readonly correlationId: string | undefined;
  readonly graceful: { repr: boolean } | undefined;
  /** W3C trace context sent with the call (set by telemetry when the call is traced). */
  trace: CallMessage['trace'] = undefined;
  /** The call's OpenTelemetry span, owned by telemetry. */
  span: object | undefined = undefined;

  #resolve!: (value: unknown) => void;
  #reject!: (error: Error) => void;
  readonly #owner: CallOwner;
  readonly #signal: AbortSignal | undefined;
  readonly #observer: CallObserver | undefined;
  /** The call's timeout, and its queue timeout (call/deadlines.ts: one timer per distinct timeout, not per call). */
  #timer: Deadline | undefined;
  #queueTimer: Deadline | undefined;
  /** The abort listener, made only for a call that has a signal. */
  #onAbort: (() => void) | undefined;

  constructor(init: CallInit) {
    this.id = init.id;
    this.pool = init.pool;
    this.tool = init.tool;
    this.args = init.args;
    this.sessionId = init.sessionId;
    this.timeoutMs = init.timeoutMs;
    this.stream = init.stream;
    this.workerId = init.workerId;
    this.idempotent = init.idempotent === true;
    this.internal = init.internal === true;
    this.parent = init.parent;
    this.depth = init.depth ?? 0;
    this.correlationId = init.correlationId;
    this.graceful = init.graceful;
    this.#owner = init.owner;
    this.#signal = init.signal;
    this.#observer = init.observer;
    init.observer?.created(this);
    init.stream?.attach({
      grant: (n) => this.runner?.credit(this, n),
      stop: () => this.stopStream(),
    });
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A call nobody awaits (a stream consumer that stopped early) must not become an unhandled rejection.
    if (init.stream) this.promise.catch(() => {});
    if (init.signal?.aborted) {
      this.#finish(this.#abortError());
      return;
    }
    if (init.signal) {
      this.#onAbort = (): void => this.#giveUp(this.#abortError(), 'abort');
      init.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#timer = deadlines.add(init.timeoutMs, () =>
      this.#giveUp(new CallTimeoutError(this.tool, this.timeoutMs, this.phase !== 'queued'), 'timeout'),
    );
    if (init.queueTimeoutMs !== undefined) {
      const queueTimeoutMs = init.queueTimeoutMs;
      this.#queueTimer = deadlines.add(queueTimeoutMs, () => {
        if (this.phase === 'queued')
          this.#giveUp(new QueueTimeoutError(this.pool, queueTimeoutMs), 'timeout');
      });
    }
  }

  /** Milliseconds left of the call's budget (sent to Python as `timeout_ms`). */
  remainingMs(): number {
    return Math.max(0, Math.round(this.timeoutMs - (performance.now() - this.submittedAt)));
  }

  /** The pool hands the call to a worker. */
  markRunning(runner: CallRunner): void {
    this.phase = 'running';
    this.runner = runner;
    this.dispatchedAt = performance.now();
    this.#queueTimer?.cancel();
    this.#observer?.started(this);
  }

  /** Its worker died before answering and the call will run again elsewhere: back to `queued`. */
  requeue(): void {
    this.phase = 'queued';
    this.runner = undefined;
    this.slot = undefined;
    this.withdrawing = false;
    this.cancelled = undefined;
    this.retries++;
  }

  /**
   * Its worker gave it back before it began (withdrawn from a busy worker, or the worker died first): back to
   * `queued`, to run elsewhere. Not a retry: it never ran, so the idempotency rule does not apply.
   */
  putBack(): void {
    this.phase = 'queued';
    this.runner = undefined;
    this.slot = undefined;
    this.withdrawing = false;
    this.returns++;
  }

  /** The worker's `result`: the call is complete. */
  succeed(value: unknown): void {
    this.phase = 'done';
    this.#finish(undefined, value);
  }

  /** A failure that ends the call (Python error, crash, serialization). No cancel is sent. */
  fail(error: Error): void {
    this.phase = 'done';
    this.#finish(error);
  }

  /** The consumer of a stream stopped early: end quietly and have Python stop the generator. */
  stopStream(): void {
    this.#giveUp(undefined, 'consumer_stopped');
  }

  #giveUp(error: Error | undefined, reason: CancelReason): void {
    if (this.settled) return;
    this.#finish(error);
    this.#owner.abandon(this, reason);
  }

  #abortError(): AbortError {
    const reason: unknown = this.#signal?.reason;
    return new AbortError(`call to "${this.tool}" was aborted`, { cause: reason });
  }

  #finish(error: Error | undefined, value?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.#timer?.cancel();
    this.#queueTimer?.cancel();
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
    if (error) {
      this.stream?.fail(error);
      this.#reject(error);
    } else {
      this.stream?.end();
      this.#resolve(value);
    }
    this.#observer?.settled(this, error);
  }
}
