/**
 * PyRef: the host's handle on a Python object kept in a worker (an object reference).
 *
 * It arrives as the `ref` tag (docs/PROTOCOL.md §3.1) in a result or chunk, and travels back as the same tag
 * when passed as an argument, where the worker resolves it to the object — only in the session that made it,
 * on the worker that holds it. Methods and attributes are reached with `pit.callMethod(ref, ...)` and
 * `pit.getAttr(ref, ...)`; `ref.release()` drops the Python object, as do the end of its session and the
 * garbage collection of the handle (the owner's FinalizationRegistry).
 *
 * The tag carries the host's run id, so the reviver finds the Snakepit instance that owns the reference without
 * knowing which channel decoded it.
 */
import { inspect } from 'node:util';
import { TaggedValue, registerTagKind, type TagMap } from '../transport/tags.js';

/** What the Snakepit that received a reference does for it. */
export interface RefOwner {
  /** A handle was created for a reference from this owner's workers. */
  adopt(ref: PyRef): void;
  /** The handle's `release()` was called. */
  release(ref: PyRef): void;
}

const owners = new Map<string, RefOwner>();

/** Make `owner` the owner of the references whose tag names `runId`. */
export function registerRefOwner(runId: string, owner: RefOwner): void {
  owners.set(runId, owner);
}

export function unregisterRefOwner(runId: string): void {
  owners.delete(runId);
}

/** Why a reference can no longer be used (internal: set by its owner). */
export const kEnd = Symbol('snakepit.ref.end');

/** A key that exists only in types: it carries a PyRef's Python class name (`PyRef<'pandas.DataFrame'>`). */
declare const pyClass: unique symbol;

/**
 * A Python object kept in a worker. The type parameter names its Python class (`module.Class`) for generated
 * clients (docs/TYPES.md): a `PyRef<'a.A'>` is not a `PyRef<'b.B'>`, and a plain `PyRef` (any class) is what
 * every reference is. It exists only in types; at run time `type` and `module` say the class.
 */
export class PyRef<T extends string = string> extends TaggedValue implements Disposable {
  declare readonly [pyClass]?: T;
  /** The reference id, unique within its worker (e.g. `r12`). */
  readonly id: string;
  /** The Python type's qualified name, e.g. `DataFrame`. */
  readonly type: string;
  /** The module of the type, e.g. `pandas.core.frame`. */
  readonly module: string;
  /** A short repr of the object, taken when the reference was made (at most 200 characters). */
  readonly repr: string;
  /** The session the reference belongs to; it is refused in any other. */
  readonly sessionId: string;
  /** The worker holding the object. */
  readonly workerId: string | undefined;
  /** The pool of that worker. */
  readonly pool: string | undefined;
  /** The run id of the Snakepit that received it. */
  readonly runId: string | undefined;
  readonly #tag: TagMap;
  #ended: string | undefined;

  /** Built by the codec from a `ref` tag; not meant to be constructed by users. */
  constructor(tag: TagMap) {
    super();
    this.#tag = tag;
    this.id = tag['id'] as string;
    this.type = typeof tag['type'] === 'string' ? tag['type'] : 'object';
    this.module = typeof tag['module'] === 'string' ? tag['module'] : '';
    this.repr = typeof tag['repr'] === 'string' ? tag['repr'] : '';
    this.sessionId = tag['session'] as string;
    this.workerId = typeof tag['worker'] === 'string' ? tag['worker'] : undefined;
    this.pool = typeof tag['pool'] === 'string' ? tag['pool'] : undefined;
    this.runId = typeof tag['run'] === 'string' ? tag['run'] : undefined;
  }

  /** True once the reference was released, its session ended, or its Snakepit closed. */
  get released(): boolean {
    return this.#ended !== undefined;
  }

  /** Why the reference is no longer usable (`released`, `session ended`, …), or undefined while it is. */
  get endReason(): string | undefined {
    return this.#ended;
  }

  /**
   * Drop the Python object now (a `release` frame to its worker). Idempotent; using the handle afterwards is
   * an InvalidArgumentsError.
   */
  release(): void {
    if (this.#ended !== undefined) return;
    const owner = this.runId === undefined ? undefined : owners.get(this.runId);
    if (owner) owner.release(this);
    else this[kEnd]('released');
  }

  /** `using ref = await pit.executeInSession(...)`: released at the end of the scope (the same as `release()`). */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Internal: the owner marks the handle unusable (first reason wins). */
  [kEnd](reason: string): void {
    this.#ended ??= reason;
  }

  override toTag(): TagMap {
    return this.#tag;
  }

  override toString(): string {
    return `PyRef<${this.type} ${this.id}${this.released ? `, ${this.#ended}` : ''}>`;
  }

  toJSON(): Record<string, unknown> {
    return {
      ref: this.id,
      type: this.type,
      module: this.module,
      repr: this.repr,
      session: this.sessionId,
      worker: this.workerId,
    };
  }

  [inspect.custom](): string {
    return `${this.toString()} ${this.repr}`;
  }
}

/** The host value of a `ref` tag: a PyRef adopted by its owner, or the map itself when it is malformed. */
export function reviveRef(tag: TagMap): PyRef | TagMap {
  if (typeof tag['id'] !== 'string' || typeof tag['session'] !== 'string') return tag;
  const ref = new PyRef(tag);
  const owner = ref.runId === undefined ? undefined : owners.get(ref.runId);
  owner?.adopt(ref);
  return ref;
}

registerTagKind('ref', reviveRef);
