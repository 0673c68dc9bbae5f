/**
 * The host's typed event bus: `pit.on(name, fn)`. Emitting costs one Map lookup when nobody listens.
 * Listener exceptions are caught and logged, never thrown into the pool.
 */

import type { WorkerExitKind } from '../worker/exit-kind.js';

/** Why a worker was recycled. */
export type RecycleReason = 'ttl' | 'max_requests' | 'max_rss' | 'manual';

export interface SnakepitEvents {
  'pool:ready': { pool: string; workers: number };
  'pool:saturated': { pool: string; queued: number };
  'worker:spawned': { pool: string; worker: string };
  'worker:exited': {
    pool: string;
    worker: string;
    crashed: boolean;
    code: number | null;
    signal: string | null;
    reason: string | undefined;
    /** The exit, classified (crash barrier): `crash_signal`, `oom_kill`, `hang_kill`, `stopped`, … */
    kind: WorkerExitKind;
  };
  'worker:restarted': { pool: string; worker: string };
  /** A session was created (by `pit.sessions.create` or by the first call naming it). */
  'session:created': { session: string };
  /** A session ended; its workers were told to drop its Python state and object references. */
  'session:ended': { session: string; reason: 'deleted' | 'expired' };
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
  /** A call marked idempotent lost its worker and was queued again. */
  'call:retried': { pool: string; tool: string; worker: string; attempt: number; kind: WorkerExitKind };
  /**
   * Replacements kept failing (`restart.maxAttempts` in a row): the pool stopped trying and runs with `workers`
   * workers. With none, calls fail at once with `error`.
   */
  'pool:degraded': { pool: string; workers: number; error: Error };
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

export class EventBus {
  readonly #listeners = new Map<SnakepitEventName, Set<(payload: never) => void>>();
  readonly #onListenerError: (event: string, err: unknown) => void;

  constructor(onListenerError: (event: string, err: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on<E extends SnakepitEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  off<E extends SnakepitEventName>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  hasListeners(event: SnakepitEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends SnakepitEventName>(event: E, payload: SnakepitEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (err) {
        this.#onListenerError(event, err);
      }
    }
  }
}
