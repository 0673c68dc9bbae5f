/**
 * RefManager: one Snakepit's object references — who holds them, and telling workers when to let go.
 *
 *   result/chunk with a `ref` tag ──► PyRef ──adopt──► live[session][id] (weak) + FinalizationRegistry
 *   ref.release()          ──► `release` frame now (ordered before any later call on that worker)
 *   handle garbage-collected ──► `release` frames batched per worker, sent on the next turn of the event loop
 *   session ended          ──► handles of the session marked unusable (the worker drops the objects itself)
 *
 * It also checks references found in a call's arguments (`checkArgs`): a released one, one from another
 * session or another Snakepit is refused here with InvalidArgumentsError before anything is sent, and a call
 * carrying a reference is pinned to the worker that holds it.
 */
import { InvalidArgumentsError } from '../errors/errors.js';
import type { ReleaseMessage } from '../protocol/messages.js';
import { childPath } from '../transport/value-walk.js';
import { kEnd, PyRef, registerRefOwner, type RefOwner, unregisterRefOwner } from './py-ref.js';

const MAX_SCAN_DEPTH = 64;

interface Held {
  pool: string | undefined;
  workerId: string | undefined;
  sessionId: string;
  id: string;
}

export type SendRelease = (pool: string | undefined, workerId: string, message: ReleaseMessage) => void;

export class RefManager implements RefOwner {
  readonly #runId: string;
  readonly #send: SendRelease;
  readonly #registry = new FinalizationRegistry<Held>((held) => this.#collected(held));
  /**
   * Live handles by session, then by `<worker>/<id>` (weak: they must stay collectable). Ids are unique per worker;
   * a session moved to another worker by a recycle can hold references of both.
   */
  readonly #live = new Map<string, Map<string, WeakRef<PyRef>>>();
  /** Releases of collected handles waiting to be sent, by `pool\0worker\0session`. */
  #pending = new Map<string, { held: Held; ids: string[] }>();
  #flushScheduled = false;
  #closed = false;
  /** Once any reference arrived, call arguments are scanned for them. */
  seen = false;
  /** Counters for stats. */
  readonly counts = { received: 0, released: 0, collected: 0 };

  constructor(runId: string, send: SendRelease) {
    this.#runId = runId;
    this.#send = send;
    registerRefOwner(runId, this);
  }

  /** Live handles, in one session or in all. */
  liveCount(sessionId?: string): number {
    if (sessionId !== undefined) return this.#live.get(sessionId)?.size ?? 0;
    let n = 0;
    for (const refs of this.#live.values()) n += refs.size;
    return n;
  }

  adopt(ref: PyRef): void {
    if (this.#closed) {
      ref[kEnd]('its Snakepit is closed');
      return;
    }
    this.seen = true;
    this.counts.received++;
    let refs = this.#live.get(ref.sessionId);
    if (!refs) this.#live.set(ref.sessionId, (refs = new Map()));
    refs.set(keyOf(ref), new WeakRef(ref));
    this.#registry.register(ref, heldOf(ref), ref);
  }

  release(ref: PyRef): void {
    if (ref.released) return;
    ref[kEnd]('released');
    this.#registry.unregister(ref);
    this.#forget(ref.sessionId, keyOf(ref));
    this.counts.released++;
    if (!this.#closed && ref.workerId !== undefined) {
      this.#send(ref.pool, ref.workerId, { type: 'release', refs: [ref.id], session: ref.sessionId });
    }
  }

  /** The session ended: its workers dropped its objects; make the handles say so. */
  sessionEnded(sessionId: string): void {
    const refs = this.#live.get(sessionId);
    if (!refs) return;
    this.#live.delete(sessionId);
    for (const weak of refs.values()) {
      const ref = weak.deref();
      if (!ref) continue;
      ref[kEnd](`its session "${sessionId}" ended`);
      this.#registry.unregister(ref);
    }
  }

  /**
   * References of the session that could not move when their worker was recycled: their handles say so (`why`),
   * and using them is refused like a released reference.
   */
  lost(
    sessionId: string,
    lost: ReadonlyArray<{ kind: string; name: string; worker?: string }>,
    why: string,
  ): void {
    const refs = this.#live.get(sessionId);
    if (!refs) return;
    for (const entry of lost) {
      if (entry.kind !== 'ref') continue;
      const key = `${entry.worker ?? ''}/${entry.name}`;
      const ref = refs.get(key)?.deref();
      refs.delete(key);
      if (!ref) continue;
      ref[kEnd](`the object is gone: ${why}`);
      this.#registry.unregister(ref);
    }
    if (refs.size === 0) this.#live.delete(sessionId);
  }

  /**
   * Check the references in a call's arguments (only scanned once any reference was seen).
   * @returns the worker the call must run on, or undefined when the arguments hold no reference
   * @throws InvalidArgumentsError for a released reference, one of another session or Snakepit, or references
   *   held by different workers
   */
  checkArgs(
    tool: string,
    args: Record<string, unknown>,
    sessionId: string | undefined,
    pool: string,
  ): string | undefined {
    if (!this.seen) return undefined;
    let workerId: string | undefined;
    let first: { path: string; ref: PyRef } | undefined;
    scan(args, 'args', 0, new Set(), (path, ref) => {
      const refuse = (problem: string): never => {
        throw new InvalidArgumentsError(
          tool,
          undefined,
          `${path} is reference ${ref.id} (${ref.type})${problem}`,
        );
      };
      if (ref.released) refuse(`, which can no longer be used: ${ref.endReason ?? 'released'}`);
      if (ref.runId !== this.#runId) refuse(', which belongs to another Snakepit instance');
      if (ref.sessionId !== sessionId) {
        const here = sessionId === undefined ? 'has no session' : `is in session "${sessionId}"`;
        refuse(
          ` of session "${ref.sessionId}", but this call ${here}: a reference is only valid in its own session`,
        );
      }
      if (ref.pool !== undefined && ref.pool !== pool)
        refuse(`, which lives in pool "${ref.pool}", not "${pool}"`);
      if (first && ref.workerId !== workerId) {
        refuse(` held by worker ${ref.workerId ?? '?'}, but ${first.path} is held by ${workerId ?? '?'}`);
      }
      first ??= { path, ref };
      workerId = ref.workerId;
    });
    return workerId;
  }

  /** Stop: no more release frames (the workers are going away), and the handles say their Snakepit closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unregisterRefOwner(this.#runId);
    for (const sessionId of [...this.#live.keys()]) {
      for (const weak of this.#live.get(sessionId)!.values()) weak.deref()?.[kEnd]('its Snakepit is closed');
    }
    this.#live.clear();
    this.#pending.clear();
  }

  #collected(held: Held): void {
    this.#forget(held.sessionId, keyOf(held));
    this.counts.collected++;
    if (this.#closed || held.workerId === undefined) return;
    const key = `${held.pool ?? ''}\0${held.workerId}\0${held.sessionId}`;
    const batch = this.#pending.get(key);
    if (batch) batch.ids.push(held.id);
    else this.#pending.set(key, { held, ids: [held.id] });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush()).unref();
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    if (this.#closed) return;
    for (const { held, ids } of pending.values()) {
      this.#send(held.pool, held.workerId!, { type: 'release', refs: ids, session: held.sessionId });
    }
  }

  #forget(sessionId: string, id: string): void {
    const refs = this.#live.get(sessionId);
    if (!refs) return;
    refs.delete(id);
    if (refs.size === 0) this.#live.delete(sessionId);
  }
}

function keyOf(ref: { workerId: string | undefined; id: string }): string {
  return `${ref.workerId ?? ''}/${ref.id}`;
}

function heldOf(ref: PyRef): Held {
  return { pool: ref.pool, workerId: ref.workerId, sessionId: ref.sessionId, id: ref.id };
}

/** Call `found` for every PyRef inside `value` (plain objects, arrays, Maps and Sets are walked). */
function scan(
  value: unknown,
  path: string,
  depth: number,
  seen: Set<object>,
  found: (path: string, ref: PyRef) => void,
): void {
  if (value === null || typeof value !== 'object' || depth > MAX_SCAN_DEPTH) return;
  if (value instanceof PyRef) {
    found(path, value);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof Date || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) scan(value[i], childPath(path, i), depth + 1, seen, found);
  } else if (value instanceof Map) {
    for (const [k, v] of value) scan(v, childPath(path, String(k)), depth + 1, seen, found);
  } else if (value instanceof Set) {
    let i = 0;
    for (const v of value) scan(v, childPath(path, i++), depth + 1, seen, found);
  } else {
    for (const key of Object.keys(value)) {
      scan((value as Record<string, unknown>)[key], childPath(path, key), depth + 1, seen, found);
    }
  }
}
