/**
 * SessionStore: the host's record of sessions — `pit.sessions`.
 *
 * A session is named by the caller (`executeInSession(id, ...)`, or the `sessionId` option) and created by the
 * first call that names it, or explicitly with `create`. The store remembers, per pool, the worker that served
 * the session last (the pools route by it: affinity, see SessionRouter) and every worker that served it, so
 * that when the session ends — `delete`, or no use for `ttlMs` — each of them is told (`session_end`) and drops
 * the session's Python state and object references.
 *
 *   create/first call ──► active ──touch on every call──► active ──delete / idle > ttlMs──► ended (onEnd)
 *
 * A session with a call in flight never expires. Expiry runs every `cleanupIntervalMs` on an unref'd timer.
 */
import { InvalidArgumentsError } from '../errors/errors.js';
import type { SessionRouter } from '../pool/picker.js';

const MAX_SESSION_ID_LENGTH = 256;

export interface SessionOptions {
  /** Idle time after which the session ends. Default: the store's `sessions.ttlMs` (1 h). */
  ttlMs?: number;
  /** Your own data about the session (kept on the host only). */
  metadata?: Record<string, unknown>;
}

/** A snapshot of one session. */
export interface SessionInfo {
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last call (or `touch`). */
  lastAccessedAt: number;
  /** Epoch milliseconds at which the session ends if it is not used before (and has no call in flight). */
  expiresAt: number;
  ttlMs: number;
  metadata: Record<string, unknown>;
  /** The worker that served the session last, by pool. */
  workers: Record<string, string>;
  /** Calls made in the session. */
  calls: number;
  /** Calls of the session not yet settled. */
  inFlight: number;
}

export interface SessionStoreStats {
  /** Sessions that exist now. */
  active: number;
  created: number;
  /** Ended by `delete`. */
  deleted: number;
  /** Ended because they were idle longer than their TTL. */
  expired: number;
}

export type SessionEndReason = 'deleted' | 'expired';

/** `pit.sessions`: create, inspect, update and end sessions. */
export interface Sessions {
  /**
   * Create a session. Calls naming an unknown session create it too (with the default TTL).
   * @throws InvalidArgumentsError when the id is not a non-empty string (≤ 256 characters) or already exists
   */
  create(id: string, options?: SessionOptions): SessionInfo;
  /** The session's snapshot, or undefined. Does not count as use. */
  get(id: string): SessionInfo | undefined;
  /**
   * Change the TTL or replace the metadata.
   * @throws InvalidArgumentsError when there is no such session
   */
  update(id: string, changes: SessionOptions): SessionInfo;
  /** End the session now: its workers drop its Python state and references. False if it did not exist. */
  delete(id: string): boolean;
  exists(id: string): boolean;
  /** Mark the session as used now (it expires `ttlMs` after its last use). False if it does not exist. */
  touch(id: string): boolean;
  /** The ids of the sessions that exist. */
  list(): string[];
  stats(): SessionStoreStats;
  readonly size: number;
}

interface SessionRecord {
  id: string;
  createdAt: number;
  lastAccessedAt: number;
  ttlMs: number;
  metadata: Record<string, unknown>;
  /** pool → the worker that served the session last. */
  bound: Map<string, string>;
  /** pool → every worker that served the session (each is told when it ends). */
  servedBy: Map<string, Set<string>>;
  calls: number;
  inFlight: number;
}

export interface SessionStoreOptions {
  ttlMs: number;
  cleanupIntervalMs: number;
  /** A session ended: tell its workers, end its references, emit the event. */
  onEnd(
    sessionId: string,
    servedBy: ReadonlyMap<string, ReadonlySet<string>>,
    reason: SessionEndReason,
  ): void;
  /** A session was created (explicitly or by a call). */
  onCreate?(sessionId: string): void;
  now?: () => number;
}

export class SessionStore implements Sessions, SessionRouter {
  readonly #records = new Map<string, SessionRecord>();
  readonly #options: SessionStoreOptions;
  readonly #now: () => number;
  readonly #stats = { created: 0, deleted: 0, expired: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SessionStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), options.cleanupIntervalMs);
    this.#timer.unref();
  }

  get size(): number {
    return this.#records.size;
  }

  create(id: string, options: SessionOptions = {}): SessionInfo {
    checkId(id, 'sessions.create');
    if (this.#records.has(id)) {
      throw new InvalidArgumentsError('sessions.create', undefined, `session "${id}" already exists`);
    }
    return snapshot(this.#create(id, options));
  }

  get(id: string): SessionInfo | undefined {
    const record = this.#records.get(id);
    return record && snapshot(record);
  }

  update(id: string, changes: SessionOptions): SessionInfo {
    const record = this.#records.get(id);
    if (!record) throw new InvalidArgumentsError('sessions.update', undefined, `no session "${id}"`);
    checkOptions('sessions.update', changes);
    if (changes.ttlMs !== undefined) record.ttlMs = changes.ttlMs;
    if (changes.metadata !== undefined) record.metadata = { ...changes.metadata };
    return snapshot(record);
  }

  delete(id: string): boolean {
    return this.#end(id, 'deleted');
  }

  exists(id: string): boolean {
    return this.#records.has(id);
  }

  touch(id: string): boolean {
    const record = this.#records.get(id);
    if (record) record.lastAccessedAt = this.#now();
    return record !== undefined;
  }

  list(): string[] {
    return [...this.#records.keys()];
  }

  stats(): SessionStoreStats {
    return { active: this.#records.size, ...this.#stats };
  }

  // ── for the facade and the pools (not part of `Sessions`) ────────────────────────────────────────────────

  /**
   * A call names the session: create it if needed, count it, and mark it used.
   * @throws InvalidArgumentsError for an id that is not a non-empty string of at most 256 characters
   */
  callStarted(id: string): void {
    const record = this.#records.get(id) ?? this.#create(id, {});
    record.calls++;
    record.inFlight++;
    record.lastAccessedAt = this.#now();
  }

  /** A call of the session settled (the session may have ended meanwhile). */
  callEnded(id: string): void {
    const record = this.#records.get(id);
    if (!record) return;
    record.inFlight = Math.max(0, record.inFlight - 1);
    record.lastAccessedAt = this.#now();
  }

  workerFor(sessionId: string, pool: string): string | undefined {
    return this.#records.get(sessionId)?.bound.get(pool);
  }

  bound(sessionId: string, pool: string, workerId: string): void {
    const record = this.#records.get(sessionId);
    if (!record) return; // ended while the call was queued: nothing to route any more
    record.bound.set(pool, workerId);
    let served = record.servedBy.get(pool);
    if (!served) record.servedBy.set(pool, (served = new Set()));
    served.add(workerId);
  }

  unbind(sessionId: string, pool: string): void {
    this.#records.get(sessionId)?.bound.delete(pool);
  }

  sessionsOn(pool: string, workerId: string): string[] {
    const found: string[] = [];
    for (const record of this.#records.values())
      if (record.bound.get(pool) === workerId) found.push(record.id);
    return found;
  }

  /** End every session idle for longer than its TTL (and with no call in flight). Returns how many ended. */
  sweep(): number {
    const now = this.#now();
    let ended = 0;
    for (const record of [...this.#records.values()]) {
      if (record.inFlight === 0 && now - record.lastAccessedAt > record.ttlMs) {
        if (this.#end(record.id, 'expired')) ended++;
      }
    }
    return ended;
  }

  /** Stop the expiry timer (the Snakepit is closing; the workers go away with their state). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #create(id: string, options: SessionOptions): SessionRecord {
    checkId(id, 'sessions');
    checkOptions('sessions.create', options);
    const now = this.#now();
    const record: SessionRecord = {
      id,
      createdAt: now,
      lastAccessedAt: now,
      ttlMs: options.ttlMs ?? this.#options.ttlMs,
      metadata: { ...(options.metadata ?? {}) },
      bound: new Map(),
      servedBy: new Map(),
      calls: 0,
      inFlight: 0,
    };
    this.#records.set(id, record);
    this.#stats.created++;
    this.#options.onCreate?.(id);
    return record;
  }

  #end(id: string, reason: SessionEndReason): boolean {
    const record = this.#records.get(id);
    if (!record) return false;
    this.#records.delete(id);
    this.#stats[reason]++;
    this.#options.onEnd(id, record.servedBy, reason);
    return true;
  }
}

function checkId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SESSION_ID_LENGTH) {
    throw new InvalidArgumentsError(
      where,
      undefined,
      `a session id must be a non-empty string of at most ${MAX_SESSION_ID_LENGTH} characters, got ${
        typeof id === 'string' ? `${id.length} characters` : typeof id
      }`,
    );
  }
}

function checkOptions(where: string, options: SessionOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentsError(where, undefined, `options must be an object, got ${typeof options}`);
  }
  const { ttlMs, metadata } = options;
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !(ttlMs > 0) || !Number.isFinite(ttlMs))) {
    throw new InvalidArgumentsError(
      where,
      undefined,
      `ttlMs must be a positive number of ms, got ${String(ttlMs)}`,
    );
  }
  if (
    metadata !== undefined &&
    (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    throw new InvalidArgumentsError(where, undefined, 'metadata must be a plain object');
  }
}

function snapshot(record: SessionRecord): SessionInfo {
  return {
    id: record.id,
    createdAt: record.createdAt,
    lastAccessedAt: record.lastAccessedAt,
    expiresAt: record.lastAccessedAt + record.ttlMs,
    ttlMs: record.ttlMs,
    metadata: { ...record.metadata },
    workers: Object.fromEntries(record.bound),
    calls: record.calls,
    inFlight: record.inFlight,
  };
}
