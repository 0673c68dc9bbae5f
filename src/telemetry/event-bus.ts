/**
 * The host's typed event bus: `pit.on(name, fn)`, and Node's `diagnostics_channel` under the same names
 * (`snakepit:<name>`, e.g. `snakepit:call:stop`), both fed by one `emit`.
 *
 * Emitting costs one Map lookup and one `hasSubscribers` read when nobody listens; hot paths ask `wants(name)`
 * before they build a payload, so a call allocates nothing for telemetry nobody reads. Listener exceptions are
 * caught and logged, never thrown into the pool. docs/TELEMETRY.md lists every event and field.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { LostState } from '../errors/errors.js';
import type { WorkerExitKind } from '../errors/exit-kind.js';

/** Why a worker was recycled. */
export type RecycleReason = 'ttl' | 'max_requests' | 'max_rss' | 'manual';

/** Where a worker's log line came from: its stdout, its stderr, or a Python `logging` record. */
export type LogStream = 'stdout' | 'stderr' | 'logging';

/** Fields every call event carries. */
export interface CallEventBase {
  /** The call's id (unique in this host process; the `id` of its `call` frame). */
  callId: number;
  /** The caller's `correlationId`, else `<runId>-<callId>`; Python log records and events of the call carry it. */
  correlationId: string;
  pool: string;
  tool: string;
  /** The worker that ran (or runs) the call; undefined when it never left the queue. */
  worker: string | undefined;
  session: string | undefined;
  stream: boolean;
  /** Milliseconds from submission to (the latest) dispatch; for a call that never left the queue, its time queued. */
  queueWaitMs: number;
  /** 1, or more when an idempotent call was retried after its worker died. */
  attempt: number;
}

/** What ended a call in error, roughly: `timeout` (call or queue), `abort`, `crash` (its worker died), `python` (the tool raised), `error` (anything else). */
export type CallFailureKind = 'timeout' | 'abort' | 'crash' | 'python' | 'error';

export interface SnakepitEvents {
  /** The pool is initialized: every worker is ready (emitted once, by `Snakepit.start`). */
  'pool:ready': { pool: string; workers: number; durationMs: number };
  /** A call was refused because the queue was full (`queue.max`). */
  'pool:saturated': {
    pool: string;
    queued: number;
    max: number;
    tool: string;
    available: number;
    busy: number;
  };
  /** A worker process was spawned (its handshake follows). */
  'worker:spawned': { pool: string; worker: string; pid: number | undefined };
  /** A worker finished its handshake and takes calls. */
  'worker:ready': {
    pool: string;
    worker: string;
    pid: number | undefined;
    startupMs: number;
    python: string | undefined;
    codec: string | undefined;
  };
  'worker:exited': {
    pool: string;
    worker: string;
    pid: number | undefined;
    crashed: boolean;
    code: number | null;
    signal: string | null;
    reason: string | undefined;
    /** The exit, classified (crash barrier): `crash_signal`, `oom_kill`, `hang_kill`, `stopped`, … */
    kind: WorkerExitKind;
    /** How long it had been ready (0 if it never was). */
    uptimeMs: number;
    /** Calls it held when it ended (failed, or taken back for a retry). */
    callsInFlight: number;
  };
  /** A replacement for a worker that died is ready. */
  'worker:restarted': { pool: string; worker: string; pid: number | undefined };
  /** A session was created (by `pit.sessions.create` or by the first call naming it). */
  'session:created': { session: string };
  /** A session ended; its workers were told to drop its Python state and object references. */
  'session:ended': { session: string; reason: 'deleted' | 'expired' };
  /** A session ended because it was idle longer than its TTL (also reported as `session:ended`). */
  'session:expired': { session: string };
  /** A worker was replaced on purpose; `replacement` was ready before `worker` stopped taking calls. */
  'worker:recycled': {
    pool: string;
    worker: string;
    replacement: string;
    reason: RecycleReason;
    uptimeMs: number;
    served: number;
    /** Resident memory at the decision, when sampled (maxRssMb). */
    rssMb: number | undefined;
  };
  /**
   * A worker did not answer a heartbeat ping within `heartbeat.intervalMs`. `fatal` is true when the silence
   * reached `heartbeat.timeoutMs`: the worker is being killed as hung.
   */
  'heartbeat:missed': {
    pool: string;
    worker: string;
    pid: number | undefined;
    silentMs: number;
    /** Pings in a row without an answer. */
    missed: number;
    timeoutMs: number;
    fatal: boolean;
  };
  /** A call was handed to a worker (again, with `attempt` > 1, after a retry). */
  'call:start': CallEventBase;
  /** A call ended with a result (or its stream ended, or its consumer stopped early). */
  'call:stop': CallEventBase & {
    /** Submission to settlement, queue wait included. */
    durationMs: number;
    /** Chunks received (stream calls; 0 otherwise). */
    chunks: number;
  };
  /** A call ended with an error (refused, timed out, aborted, its worker died, the tool raised, …). */
  'call:exception': CallEventBase & {
    durationMs: number;
    chunks: number;
    error: Error;
    /** The error's class name, e.g. `PythonValueError`, `CallTimeoutError`. */
    errorName: string;
    /** The error's `code`, e.g. `SNAKEPIT_CALL_TIMEOUT` (undefined for a non-snakepit error). */
    errorCode: string | undefined;
    kind: CallFailureKind;
  };
  /** A call marked idempotent lost its worker and was queued again. */
  'call:retried': { pool: string; tool: string; worker: string; attempt: number; kind: WorkerExitKind };
  /**
   * A call a worker had not begun came back to the pool's queue, to run on another worker (whether or not it is
   * marked idempotent: it never ran). `withdrawn`: the worker was stalled in a long call; `not_begun`: the worker
   * died first.
   */
  'call:returned': { pool: string; tool: string; worker: string; reason: 'withdrawn' | 'not_begun' };
  /**
   * Replacements kept failing (`restart.maxAttempts` in a row): the pool is degraded, runs with `workers` workers
   * and keeps trying with capped back-off (`pit.resume(pool)` tries at once). With none, calls fail at once with
   * `error`.
   */
  'pool:degraded': { pool: string; workers: number; error: Error };
  /** A degraded pool started a worker again; `degradedMs` is how long it was degraded. */
  'pool:recovered': { pool: string; workers: number; degradedMs: number };
  /**
   * A session's worker died (or its state could not move): its Python state is gone. `reported`: the session's
   * next call fails with SessionLostError (strict affinity modes); otherwise it runs on another worker.
   */
  'session:lost': { session: string; pool: string; worker: string; reported: boolean };
  /**
   * A worker being recycled handed a session's Python state to its replacement. `lost` names what could not move
   * (each `{ kind: 'value' | 'ref', name, type, reason, worker? }`); `error` reports it, and is what the session's next call
   * gets in strict affinity modes.
   */
  'session:handoff': {
    session: string;
    pool: string;
    from: string;
    to: string;
    values: number;
    refs: number;
    lost: LostState[];
    error: Error | undefined;
  };
  /** A line a worker wrote to stdout or stderr, or a Python `logging` record it forwarded. */
  log: {
    pool: string;
    worker: string;
    stream: LogStream;
    /** Host level: stdout → info, stderr → warn, `logging` records by their level. */
    level: 'debug' | 'info' | 'warn' | 'error';
    line: string;
    /** `logging` records: the Python logger's name. */
    logger: string | undefined;
    /** `logging` records emitted while a call ran: its id and correlation id. */
    callId: number | undefined;
    correlationId: string | undefined;
  };
  /** An event emitted from Python with `snakepit_bridge.telemetry.emit`. */
  'python:event': {
    pool: string;
    worker: string;
    name: string[];
    measurements: Record<string, unknown>;
    metadata: Record<string, unknown>;
    correlationId: string | undefined;
  };
}

export type SnakepitEventName = keyof SnakepitEvents;
export type Listener<E extends SnakepitEventName> = (payload: SnakepitEvents[E]) => void;

/** Every event name, in the order docs/TELEMETRY.md lists them. */
export const EVENT_NAMES: readonly SnakepitEventName[] = [
  'pool:ready',
  'pool:saturated',
  'pool:degraded',
  'pool:recovered',
  'worker:spawned',
  'worker:ready',
  'worker:exited',
  'worker:restarted',
  'worker:recycled',
  'heartbeat:missed',
  'call:start',
  'call:stop',
  'call:exception',
  'call:retried',
  'call:returned',
  'session:created',
  'session:ended',
  'session:expired',
  'session:lost',
  'session:handoff',
  'log',
  'python:event',
];

/** The `diagnostics_channel` name of an event: `snakepit:call:stop`. */
export function channelName(event: SnakepitEventName): string {
  return `snakepit:${event}`;
}

/** A listener as stored: `once` wrappers keep the caller's function in `listener`, as Node's EventEmitter does. */
type Stored = ((payload: never) => void) & { listener?: (...args: never[]) => void };

export class EventBus {
  // Arrays replaced on every change (never mutated): emit iterates the one it read, whatever a listener does.
  readonly #listeners = new Map<string | symbol, readonly Stored[]>();
  readonly #channels = new Map<SnakepitEventName, diagnosticsChannel.Channel>();
  readonly #onListenerError: (event: string, err: unknown) => void;

  constructor(onListenerError: (event: string, err: unknown) => void) {
    this.#onListenerError = onListenerError;
    for (const name of EVENT_NAMES) this.#channels.set(name, diagnosticsChannel.channel(channelName(name)));
  }

  on<E extends SnakepitEventName>(event: E, listener: Listener<E>): () => void {
    this.add(event, listener as Stored, false);
    return () => this.off(event, listener);
  }

  off<E extends SnakepitEventName>(event: E, listener: Listener<E>): void {
    this.remove(event, listener as Stored);
  }

  /**
   * EventEmitter semantics for any name (`events.once(pit, 'error')` listens for an event snakepit never emits):
   * duplicates allowed, `prepend` puts the listener first, `once` removes it before it runs.
   */
  add(event: string | symbol, listener: (...args: never[]) => void, prepend: boolean, once = false): void {
    let stored = listener as Stored;
    if (once) {
      const wrapper: Stored = (payload: never) => {
        this.remove(event, wrapper);
        (listener as (payload: never) => void)(payload);
      };
      wrapper.listener = listener;
      stored = wrapper;
    }
    const current = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, prepend ? [stored, ...current] : [...current, stored]);
  }

  /** Remove the most recently added registration of `listener` (or of a `once` wrapper around it). */
  remove(event: string | symbol, listener: (...args: never[]) => void): void {
    const current = this.#listeners.get(event);
    if (!current) return;
    for (let i = current.length - 1; i >= 0; i--) {
      if (current[i] === listener || current[i]!.listener === listener) {
        const next = current.filter((_, j) => j !== i);
        if (next.length === 0) this.#listeners.delete(event);
        else this.#listeners.set(event, next);
        return;
      }
    }
  }

  removeAll(event?: string | symbol): void {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
  }

  /** The listeners of `event` (`raw`: `once` wrappers as stored). */
  listeners(event: string | symbol, raw = false): Array<(...args: never[]) => void> {
    const current = this.#listeners.get(event) ?? [];
    return raw ? [...current] : current.map((l) => l.listener ?? l);
  }

  eventNames(): Array<string | symbol> {
    return [...this.#listeners.keys()];
  }

  /** Whether anyone (a `pit.on` listener or a diagnostics_channel subscriber) would receive `event`. */
  wants(event: SnakepitEventName): boolean {
    return this.#listeners.has(event) || this.#channels.get(event)!.hasSubscribers;
  }

  /** Whether a `pit.on` listener is registered for `event`. */
  hasListeners(event: string | symbol): boolean {
    return this.#listeners.has(event);
  }

  emit<E extends SnakepitEventName>(event: E, payload: SnakepitEvents[E]): void {
    const channel = this.#channels.get(event)!;
    if (channel.hasSubscribers) {
      try {
        channel.publish(payload);
      } catch (err) {
        this.#onListenerError(channelName(event), err);
      }
    }
    const current = this.#listeners.get(event);
    if (current === undefined) return;
    for (const listener of current) {
      try {
        (listener as Listener<E>)(payload);
      } catch (err) {
        this.#onListenerError(event, err);
      }
    }
  }
}
