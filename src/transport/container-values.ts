/**
 * Maps, sets and strings that JSON-shaped values cannot hold (docs/PROTOCOL.md §3.1, docs/VALUES.md):
 *
 *   map  { entries: [[key, value], …] }   a Python dict whose keys are not all text (tuples, bytes, datetimes),
 *                                        or a JS Map whose keys are not all strings; a PyDict on the host
 *   set  { items: […] }                   a JS Set: a Python set (Python sets arrive as arrays)
 *   str  { utf16: bytes }                 text with lone surrogates, which UTF-8 (msgpack's str) cannot carry
 *
 * A `map` whose keys all turn out to be primitives (strings, numbers, booleans, null) becomes a plain object
 * keyed by their text, as a map with such keys does when it travels natively.
 */
import { TAG_KEY, TaggedValue, registerTagKind, type TagMap } from './tags.js';

/**
 * A Python dict whose keys are not all text: the keys keep their form (a tuple key is an array, bytes a Buffer,
 * a datetime a Date). It is a `Map`; sent back, it becomes the same dict (arrays become tuples).
 * `JSON.stringify` writes it as an object keyed by each key's text (`toJSON`).
 */
export class PyDict<K = unknown, V = unknown> extends Map<K, V> {
  /** An object keyed by each key's text: strings as they are, numbers as `String(n)`, arrays as JSON text. */
  toJSON(): Record<string, V> {
    const out: Record<string, V> = {};
    for (const [key, value] of this) {
      Object.defineProperty(out, keyText(key), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
}

/** The text a key has in `PyDict.toJSON` (and in error paths). */
export function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key instanceof Date) return Number.isNaN(key.getTime()) ? 'NaT' : key.toISOString();
  if (key instanceof Uint8Array)
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
  if (key !== null && typeof key === 'object') {
    return JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(key);
  }
  return String(key);
}

/** A host value a Python dict key or set item can be made of (it must be hashable there). */
export function hashableProblem(value: unknown, depth = 0): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return undefined;
    case 'object':
      break;
    default:
      return `a ${typeof value}`;
  }
  if (depth > 32) return 'a key nested too deeply';
  if (value instanceof Date || value instanceof Uint8Array) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = hashableProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined; // a tuple in Python
  }
  if (value instanceof Set) {
    for (const item of value) {
      const problem = hashableProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined; // a frozenset in Python
  }
  return `an object (${(value as object).constructor?.name ?? 'Object'})`;
}

/** The tags built while encoding; the codecs pack them like any tag. */
export class MapTag extends TaggedValue {
  constructor(readonly entries: Array<[unknown, unknown]>) {
    super();
  }
  toTag(): TagMap {
    return { [TAG_KEY]: 'map', entries: this.entries };
  }
}

export class SetTag extends TaggedValue {
  constructor(readonly items: unknown[]) {
    super();
  }
  toTag(): TagMap {
    return { [TAG_KEY]: 'set', items: this.items };
  }
}

/** A string with lone surrogates, as its UTF-16 code units (little-endian). */
export class StrTag extends TaggedValue {
  constructor(readonly text: string) {
    super();
  }
  toTag(): TagMap {
    return { [TAG_KEY]: 'str', utf16: Buffer.from(this.text, 'utf16le') };
  }
}

/** True when a string holds a lone surrogate (UTF-8 has no encoding for one). */
export function illFormed(text: string): boolean {
  return !(text as unknown as { isWellFormed(): boolean }).isWellFormed(); // Node 20 has it; the TS lib target not
}

function isPrimitiveKey(key: unknown): boolean {
  return key === null || (typeof key !== 'object' && typeof key !== 'function' && typeof key !== 'symbol');
}

/** An object keyed by the keys' text when every key is a primitive, else a PyDict. */
export function dictFromEntries(entries: Iterable<readonly [unknown, unknown]>): unknown {
  const list = [...entries];
  if (list.every(([key]) => isPrimitiveKey(key))) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of list) {
      // defineProperty: a key named "__proto__" stays an own property, never the object's prototype
      Object.defineProperty(out, String(key), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return new PyDict(list);
}

registerTagKind('map', (tag) => {
  const entries = tag['entries'];
  if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) return tag;
  return dictFromEntries(entries as Array<[unknown, unknown]>);
});
// A `set` tag comes from the host itself (a JS Set); read back, it is the array a Python set arrives as.
registerTagKind('set', (tag) => (Array.isArray(tag['items']) ? tag['items'] : tag));
registerTagKind('str', (tag) => {
  const bytes = tag['utf16'];
  if (!(bytes instanceof Uint8Array) || bytes.byteLength % 2 !== 0) return tag;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf16le');
});
