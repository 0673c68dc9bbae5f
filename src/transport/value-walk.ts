/**
 * The careful path of encoding (docs/VALUES.md). JSON always takes it; msgpack only when its native encode
 * failed or may have changed a value (a lone surrogate). `ValueWalk.prepare` returns a copy that the codec
 * carries exactly, or throws a `SerializationError` naming the path of the first value with no Python form
 * (`args.rows[2].when`):
 *
 *   Map                  plain map when every key is a string, else a `map` tag (keys must be hashable in Python)
 *   Set                  `set` tag (items must be hashable)
 *   class instance       its `toJSON()` when it has one, else its own enumerable properties (as JSON.stringify)
 *   ArrayBuffer, SharedArrayBuffer, DataView   bytes
 *   bigint beyond the codec's integers, text with lone surrogates (msgpack), non-finite numbers (JSON)   tags
 *   function, symbol, Promise, Error, RegExp, WeakMap, WeakSet, WeakRef   refused, with a hint
 *   cycles, nesting deeper than MAX_VALUE_DEPTH, getters or proxies that throw   refused
 *
 * In JSON a map with the key `__snakepit__` is sent as a `map` tag, so no user value is ever read as a tag.
 */
import { SerializationError } from '../errors/errors.js';
import { RawTag, TAG_KEY, type TagMap, TaggedValue, floatTag, intTag, taggedFormOf } from './tags.js';
import { MapTag, SetTag, StrTag, hashableProblem, illFormed, keyText } from './container-values.js';
import { dateTag, typedArrayTag } from './extended-values.js';

/** Deepest nesting a value may have (Python reads up to about 1000 levels of either codec). */
export const MAX_VALUE_DEPTH = 500;
const MAX_PATH_CHARS = 200;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function childPath(path: string, key: string | number): string {
  if (path.length > MAX_PATH_CHARS) return path.endsWith('…') ? path : `${path}…`;
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') {
    try {
      return (value as object).constructor?.name ?? 'object';
    } catch {
      return 'object';
    }
  }
  return typeof value;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Objects that have no Python form, and what to send instead. */
const REFUSED: Array<[abstract new (...args: never[]) => object, string]> = [
  [Promise, 'await it first'],
  [Error, 'send its message (or name and message) instead'],
  [RegExp, 'send its source text instead'],
  [WeakMap, 'its entries cannot be listed'],
  [WeakSet, 'its items cannot be listed'],
  [WeakRef, 'send the object itself'],
];

export function refusal(value: object): string | undefined {
  for (const [Class, hint] of REFUSED) {
    if (value instanceof Class) return `a ${describeType(value)} has no Python form (${hint})`;
  }
  return undefined;
}

export interface WalkOptions {
  /** JSON: tags are plain objects, bytes go to `attachments`, every bigint and non-finite number is a tag. */
  json: boolean;
  /** JSON: where bytes go (the frame's attachments). */
  attachments?: Uint8Array[];
}

export class ValueWalk {
  /** A tag was written (JSON: the message is marked `tagged`). */
  tagged = false;
  readonly #json: boolean;
  readonly #attachments: Uint8Array[];
  readonly #seen = new Set<object>();

  constructor(options: WalkOptions) {
    this.#json = options.json;
    this.#attachments = options.attachments ?? [];
  }

  /** The wire form of `value`; undefined for `undefined` (an absent field). */
  prepare(value: unknown, path: string, depth = 0): unknown {
    switch (typeof value) {
      case 'string':
        return this.#json || !illFormed(value) ? value : this.#tag(new StrTag(value), path, depth);
      case 'boolean':
      case 'undefined':
        return value;
      case 'number':
        // JSON: an integral double beyond 2^53 would be read as a Python int; a float tag keeps it a float.
        if (
          !this.#json ||
          Number.isSafeInteger(value) ||
          (Number.isFinite(value) && !Number.isInteger(value))
        )
          return value;
        return this.#tag(floatTag(value), path, depth);
      case 'bigint':
        if (!this.#json && value >= INT64_MIN && value <= UINT64_MAX) return value;
        return this.#tag(intTag(value), path, depth);
      case 'function':
      case 'symbol':
        throw new SerializationError(path, describeType(value));
    }
    if (value === null) return null;
    return this.#object(value as object, path, depth);
  }

  #tag(tag: TaggedValue, path: string, depth: number): unknown {
    if (!this.#json) return tag;
    this.tagged = true;
    return this.#fields(tag.toTag(), path, depth);
  }

  /** A `map` or `set` tag built here from parts already prepared (so they are not walked twice). */
  #built(tag: MapTag | SetTag): unknown {
    if (!this.#json) return tag;
    this.tagged = true;
    return tag.toTag();
  }

  /** A tag's fields in JSON: its own values prepared, its key kept. */
  #fields(tag: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(tag)) {
      out[key] = key === TAG_KEY ? item : this.prepare(item, path, depth + 1);
    }
    return out;
  }

  #bytes(bytes: Uint8Array): unknown {
    if (!this.#json) return bytes;
    this.tagged = true;
    this.#attachments.push(bytes);
    return { [TAG_KEY]: 'bytes', attachment: this.#attachments.length - 1 };
  }

  #object(obj: object, path: string, depth: number): unknown {
    if (ArrayBuffer.isView(obj)) {
      const array = typedArrayTag(obj); // a numeric typed array: an `ndarray` tag
      if (array) return this.#json ? ((this.tagged = true), this.#fields(array, path, depth)) : obj;
      return this.#bytes(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
    }
    if (obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer)
      return this.#bytes(new Uint8Array(obj));
    if (obj instanceof TaggedValue) return this.#json ? this.#tag(obj, path, depth) : obj;
    if (obj instanceof Date) return this.#json ? ((this.tagged = true), dateTag(obj)) : obj;
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== Array.prototype) {
      let tagged: TagMap | undefined;
      try {
        tagged = taggedFormOf(obj); // an apache-arrow Table
      } catch (err) {
        throw readFailure(err, path, `encoding its ${describeType(obj)}`);
      }
      if (tagged)
        return this.#json ? ((this.tagged = true), this.#fields(tagged, path, depth)) : new RawTag(tagged);
      const refused = refusal(obj);
      if (refused) throw new SerializationError(path, describeType(obj), `${refused}, at ${path}`);
    }
    if (depth >= MAX_VALUE_DEPTH) {
      throw new SerializationError(
        path,
        describeType(obj),
        `value is nested more than ${MAX_VALUE_DEPTH} deep at ${path}`,
      );
    }
    if (this.#seen.has(obj)) {
      throw new SerializationError(path, 'cycle', `cannot encode a cycle: ${path} refers back to itself`);
    }
    this.#seen.add(obj);
    try {
      if (Array.isArray(obj)) return this.#array(obj, path, depth);
      if (obj instanceof Map) return this.#map(obj, path, depth);
      if (obj instanceof Set) return this.#set(obj, path, depth);
      let json: unknown;
      let replaced: unknown;
      try {
        json = (obj as { toJSON?: unknown }).toJSON;
        if (typeof json === 'function') replaced = (json as () => unknown).call(obj);
      } catch (err) {
        throw readFailure(err, path, 'its toJSON()');
      }
      if (typeof json === 'function') return this.prepare(replaced, path, depth + 1);
      return this.#plain(obj, path, depth);
    } finally {
      this.#seen.delete(obj);
    }
  }

  /** True for a value that goes as it is (checked inline so most items cost no call and no path string). */
  #asIs(value: unknown): boolean {
    const type = typeof value;
    return (
      type === 'boolean' ||
      (type === 'number' &&
        (!this.#json || Number.isSafeInteger(value) || !Number.isInteger(value)) &&
        Number.isFinite(value as number)) ||
      (type === 'string' && (this.#json || !illFormed(value as string)))
    );
  }

  #array(items: unknown[], path: string, depth: number): unknown[] {
    const out = new Array<unknown>(items.length);
    let i = 0;
    try {
      for (; i < items.length; i++) {
        const item = items[i];
        out[i] = this.#asIs(item) ? item : (this.prepare(item, childPath(path, i), depth + 1) ?? null);
      }
    } catch (err) {
      throw readFailure(err, childPath(path, i), 'reading it');
    }
    return out;
  }

  #plain(obj: object, path: string, depth: number): unknown {
    let keys: string[];
    try {
      keys = Object.keys(obj);
    } catch (err) {
      throw readFailure(err, path, 'listing its keys');
    }
    const out: Record<string, unknown> = {};
    let escape = false;
    let key = '';
    try {
      for (key of keys) {
        const value = (obj as Record<string, unknown>)[key];
        const item = this.#asIs(value) ? value : this.prepare(value, childPath(path, key), depth + 1);
        if (item === undefined) continue;
        if (this.#json ? key === TAG_KEY : illFormed(key)) escape = true;
        if (key === '__proto__') setOwn(out, key, item);
        else out[key] = item;
      }
    } catch (err) {
      throw readFailure(err, childPath(path, key), 'reading it');
    }
    if (!escape) return out;
    const entries = Object.entries(out).map(([k, v]): [unknown, unknown] => [
      this.prepare(k, path, depth + 1),
      v,
    ]);
    return this.#built(new MapTag(entries));
  }

  #map(map: Map<unknown, unknown>, path: string, depth: number): unknown {
    const entries: Array<[unknown, unknown]> = [];
    let plain = true;
    for (const [key, item] of map) {
      const at = childPath(path, keyText(key));
      if (typeof key !== 'string' || (this.#json ? key === TAG_KEY : illFormed(key))) {
        plain = false;
        const problem = hashableProblem(key);
        if (problem) {
          throw new SerializationError(
            at,
            describeType(key),
            `a Map key that is ${problem} cannot be a Python dict key, at ${at}`,
          );
        }
      }
      const value = this.prepare(item, at, depth + 1);
      entries.push([key, value === undefined ? null : value]);
    }
    if (plain) {
      const out: Record<string, unknown> = {};
      for (const [key, value] of entries) {
        Object.defineProperty(out, key as string, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    const wire = entries.map(([k, v]): [unknown, unknown] => [this.prepare(k, path, depth + 1), v]);
    return this.#built(new MapTag(wire));
  }

  #set(set: Set<unknown>, path: string, depth: number): unknown {
    const items: unknown[] = [];
    let i = 0;
    for (const item of set) {
      const at = childPath(path, i++);
      const problem = hashableProblem(item);
      if (problem) {
        throw new SerializationError(
          at,
          describeType(item),
          `a Set item that is ${problem} cannot be in a Python set, at ${at}`,
        );
      }
      items.push(this.prepare(item, at, depth + 1) ?? null);
    }
    return this.#built(new SetTag(items));
  }
}

/** What a getter, a proxy trap or a toJSON() threw, as a SerializationError there (one of ours passes through). */
function readFailure(err: unknown, path: string, what: string): SerializationError {
  if (err instanceof SerializationError) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new SerializationError(path, 'deep', `value is nested too deeply at ${path}`);
  }
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new SerializationError(path, 'unreadable', `${what} threw (${text}), at ${path}`);
}

/** An own property, even for the key `__proto__` (a plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Prepare every field of a message (the `args` of a call, ...), each rooted at its field name. */
export function prepareMessage(message: object, walk: ValueWalk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    const v = walk.prepare(value, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
