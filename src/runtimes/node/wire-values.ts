/**
 * The JSON codec of the local channel as the Node worker runtime speaks it (PROTOCOL.md §3): a frame body is JSON
 * text, or `0x01`, a uint32 length, the JSON, then binary attachments. Values that JSON cannot carry travel as tags
 * (`{"__snakepit__": kind, ...}`), and a message holding any tag says `"tagged": true`.
 *
 * This module, like the rest of src/runtimes/node/, imports nothing from the host side of snakepit: it is a second
 * implementation of the protocol, written from the protocol page, and proves that page is enough.
 */

const TAG = '__snakepit__';
const MAX_DEPTH = 256;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER) + 1n; // 2^53

/** A value a call received or a tool returns that cannot be encoded or decoded; `path` names it (`args.x[2]`). */
export class WireValueError extends Error {
  constructor(
    readonly path: string,
    readonly valueType: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireValueError';
  }
}

const DTYPES = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float16: Uint16Array, // raw half floats: JavaScript has no arithmetic type for them
  float32: Float32Array,
  float64: Float64Array,
} as const;
export type DType = keyof typeof DTYPES;
type AnyTypedArray = InstanceType<(typeof DTYPES)[DType]>;

/** A numeric array (`ndarray` tag): items in C order, `data` a typed array over them. */
export class NDArray {
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly data: AnyTypedArray,
  ) {}
}

function dtypeOf(value: ArrayBufferView): DType | undefined {
  if (value instanceof Int8Array) return 'int8';
  if (value instanceof Int16Array) return 'int16';
  if (value instanceof Uint16Array) return 'uint16';
  if (value instanceof Int32Array) return 'int32';
  if (value instanceof Uint32Array) return 'uint32';
  if (value instanceof Float32Array) return 'float32';
  if (value instanceof Float64Array) return 'float64';
  if (value instanceof BigInt64Array) return 'int64';
  if (value instanceof BigUint64Array) return 'uint64';
  return undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}

function pathKey(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` from a peer is data, never a prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ── encoding (worker → host) ─────────────────────────────────────────────────────────────────────────────────

export interface EncodeOptions {
  /** Values with no form become `{"__ffi_unserializable__": true, "__type__": ...}` markers (PROTOCOL.md §3.1). */
  graceful?: { repr: boolean } | undefined;
}

interface EncodeState {
  attachments: Uint8Array[];
  tagged: boolean;
  seen: Set<object>;
  options: EncodeOptions;
}

function attach(state: EncodeState, bytes: Uint8Array): Record<string, unknown> {
  state.tagged = true;
  state.attachments.push(bytes);
  return { [TAG]: 'bytes', attachment: state.attachments.length - 1 };
}

function unencodable(state: EncodeState, value: unknown, path: string, why: string): unknown {
  if (state.options.graceful && (typeof value === 'function' || typeof value === 'symbol')) {
    const marker: Record<string, unknown> = { __ffi_unserializable__: true, __type__: describeType(value) };
    if (state.options.graceful.repr) marker['__repr__'] = String(value).slice(0, 200);
    return marker;
  }
  throw new WireValueError(
    path,
    describeType(value),
    `cannot encode ${describeType(value)} at ${path}: ${why}`,
  );
}

function encodeValue(value: unknown, path: string, depth: number, state: EncodeState): unknown {
  if (depth > MAX_DEPTH) {
    throw new WireValueError(path, describeType(value), `nesting deeper than ${MAX_DEPTH} levels at ${path}`);
  }
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      state.tagged = true;
      return { [TAG]: 'float', value: Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity' };
    case 'bigint': {
      const magnitude = value < 0n ? -value : value;
      if (magnitude <= MAX_SAFE) return Number(value);
      state.tagged = true;
      return { [TAG]: 'int', value: value < 0n ? `-0x${magnitude.toString(16)}` : `0x${value.toString(16)}` };
    }
    case 'function':
      return unencodable(state, value, path, 'a function has no wire form');
    case 'symbol':
      return unencodable(state, value, path, 'a symbol has no wire form');
  }
  if (value === null) return null;
  const object = value as object;
  if (state.seen.has(object)) {
    throw new WireValueError(path, describeType(value), `cannot encode a cycle at ${path}`);
  }
  state.seen.add(object);
  try {
    return encodeObject(object, path, depth, state);
  } finally {
    state.seen.delete(object);
  }
}

function encodeObject(object: object, path: string, depth: number, state: EncodeState): unknown {
  if (object instanceof Uint8Array) return attach(state, object);
  if (object instanceof ArrayBuffer) return attach(state, new Uint8Array(object));
  if (object instanceof NDArray) {
    state.tagged = true;
    const bytes = new Uint8Array(object.data.buffer, object.data.byteOffset, object.data.byteLength);
    return { [TAG]: 'ndarray', dtype: object.dtype, shape: object.shape, data: attach(state, bytes) };
  }
  if (ArrayBuffer.isView(object)) {
    const dtype = dtypeOf(object);
    if (dtype === undefined) return unencodable(state, object, path, 'no dtype for this view');
    state.tagged = true;
    const bytes = new Uint8Array(object.buffer, object.byteOffset, object.byteLength);
    const length = object.byteLength / (object as AnyTypedArray).BYTES_PER_ELEMENT;
    return { [TAG]: 'ndarray', dtype, shape: [length], data: attach(state, bytes) };
  }
  if (Array.isArray(object)) {
    return object.map((item, i) => encodeValue(item, `${path}[${i}]`, depth + 1, state));
  }
  if (object instanceof Set) {
    return [...object].map((item, i) => encodeValue(item, `${path}[${i}]`, depth + 1, state));
  }
  if (object instanceof Date) {
    state.tagged = true;
    return { [TAG]: 'datetime', value: Number.isNaN(object.getTime()) ? 'NaT' : object.toISOString() };
  }
  if (object instanceof Map) {
    const textKeys = [...object.keys()].every((k) => typeof k === 'string' && k !== TAG);
    if (textKeys) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of object)
        setOwn(out, k as string, encodeValue(v, pathKey(path, k), depth + 1, state));
      return out;
    }
    state.tagged = true;
    const entries = [...object].map(([k, v], i) => [
      encodeValue(k, `${path}.<key ${i}>`, depth + 1, state),
      encodeValue(v, pathKey(path, String(k)), depth + 1, state),
    ]);
    return { [TAG]: 'map', entries };
  }
  const withJson = object as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function' && !(object instanceof Error)) {
    return encodeValue(withJson.toJSON(), path, depth + 1, state);
  }
  if (object instanceof Error) {
    return { name: object.name, message: object.message };
  }
  const keys = Object.keys(object);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    setOwn(
      out,
      key,
      encodeValue((object as Record<string, unknown>)[key], pathKey(path, key), depth + 1, state),
    );
  }
  if (keys.includes(TAG)) {
    // A user map with the tag key travels as a `map` tag so it is never read as a tag (§3.1).
    state.tagged = true;
    return { [TAG]: 'map', entries: keys.map((k) => [k, out[k]]) };
  }
  return out;
}

/**
 * Encode a message as one frame body (JSON, or JSON with attachments). `values` maps each field holding a value to
 * the name its errors use (`{ value: 'result' }`). Throws WireValueError naming the path of a value with no form.
 */
export function encodeMessage(
  message: Record<string, unknown>,
  values: Record<string, string> = {},
  options: EncodeOptions = {},
): Buffer {
  const state: EncodeState = { attachments: [], tagged: false, seen: new Set(), options };
  const out: Record<string, unknown> = { ...message };
  for (const [key, root] of Object.entries(values)) {
    if (key in out) out[key] = encodeValue(out[key], root, 0, state);
  }
  if (state.tagged) out['tagged'] = true;
  const json = Buffer.from(JSON.stringify(out), 'utf8');
  if (state.attachments.length === 0) return json;
  const parts: Uint8Array[] = [Buffer.from([1]), u32(json.length), json];
  for (const a of state.attachments) parts.push(u32(a.byteLength), a);
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

// ── decoding (host → worker) ─────────────────────────────────────────────────────────────────────────────────

/** Split a body into its JSON message and attachments. Throws on a body that is not one of the two forms. */
export function parseBody(body: Buffer): { message: Record<string, unknown>; attachments: Buffer[] } {
  let json: Buffer = body;
  const attachments: Buffer[] = [];
  if (body[0] === 1) {
    if (body.length < 5) throw new Error('attachment frame shorter than its header');
    const jsonLength = body.readUInt32BE(1);
    if (5 + jsonLength > body.length) throw new Error('attachment frame: JSON length past the body');
    json = body.subarray(5, 5 + jsonLength);
    let at = 5 + jsonLength;
    while (at < body.length) {
      if (at + 4 > body.length) throw new Error('attachment header cut short');
      const n = body.readUInt32BE(at);
      if (at + 4 + n > body.length) throw new Error('attachment longer than the body');
      attachments.push(body.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
  }
  const message: unknown = JSON.parse(json.toString('utf8'));
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new Error('a message must be a JSON object');
  }
  return { message: message as Record<string, unknown>, attachments };
}

/** Replace the tags inside one value (only for messages with `tagged: true`). Throws WireValueError. */
export function reviveValue(value: unknown, path: string, attachments: Buffer[], depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH)
    throw new WireValueError(path, 'nesting', `nesting deeper than ${MAX_DEPTH} at ${path}`);
  if (Array.isArray(value))
    return value.map((v, i) => reviveValue(v, `${path}[${i}]`, attachments, depth + 1));
  const map = value as Record<string, unknown>;
  const kind = map[TAG];
  if (typeof kind === 'string') {
    const revived = reviveTag(kind, map, path, attachments, depth);
    if (revived !== NOT_A_TAG) return revived;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) {
    setOwn(out, key, reviveValue(map[key], pathKey(path, key), attachments, depth + 1));
  }
  return out;
}

const NOT_A_TAG = Symbol('not a tag');

function bad(path: string, kind: string, why: string): never {
  throw new WireValueError(path, kind, `malformed "${kind}" tag at ${path}: ${why}`);
}

function reviveTag(
  kind: string,
  tag: Record<string, unknown>,
  path: string,
  attachments: Buffer[],
  depth: number,
): unknown {
  switch (kind) {
    case 'bytes': {
      const k = tag['attachment'];
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= attachments.length) {
        bad(path, kind, `no attachment ${String(k)}`);
      }
      return attachments[k];
    }
    case 'float': {
      const v = tag['value'];
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      const n = typeof v === 'string' ? Number(v) : NaN;
      if (Number.isNaN(n)) bad(path, kind, 'value is not a number');
      return n;
    }
    case 'int': {
      const v = tag['value'];
      if (typeof v !== 'string' || !/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(v))
        bad(path, kind, 'value is not an integer');
      return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
    }
    case 'str': {
      const u = reviveValue(tag['utf16'], `${path}.utf16`, attachments, depth + 1);
      if (!(u instanceof Uint8Array) || u.byteLength % 2 !== 0) bad(path, kind, 'utf16 is not UTF-16 bytes');
      return Buffer.from(u).toString('utf16le');
    }
    case 'map': {
      const entries = tag['entries'];
      if (!Array.isArray(entries)) bad(path, kind, 'entries is not a list');
      const pairs = entries.map((e, i) => {
        if (!Array.isArray(e) || e.length !== 2) bad(path, kind, `entry ${i} is not a [key, value] pair`);
        const key = reviveValue(e[0], `${path}.<key ${i}>`, attachments, depth + 1);
        return [key, reviveValue(e[1], pathKey(path, String(key)), attachments, depth + 1)] as const;
      });
      if (pairs.every(([k]) => typeof k === 'string')) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of pairs) setOwn(out, k as string, v);
        return out;
      }
      return new Map(pairs);
    }
    case 'set': {
      const items = tag['items'];
      if (!Array.isArray(items)) bad(path, kind, 'items is not a list');
      return new Set(items.map((v, i) => reviveValue(v, `${path}[${i}]`, attachments, depth + 1)));
    }
    case 'datetime': {
      const v = tag['value'];
      if (typeof v !== 'string') bad(path, kind, 'value is not text');
      if (v === 'NaT') return new Date(NaN);
      const hasZone = /(Z|[+-]\d\d:?\d\d)$/.test(v);
      const date = new Date(hasZone ? v : `${v}Z`);
      if (Number.isNaN(date.getTime())) bad(path, kind, 'value is not ISO 8601 text');
      return date;
    }
    case 'ndarray': {
      const dtype = tag['dtype'];
      const shape = tag['shape'];
      if (typeof dtype !== 'string' || !(dtype in DTYPES)) bad(path, kind, `unknown dtype ${String(dtype)}`);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        bad(path, kind, 'shape is not a list of sizes');
      }
      const data = reviveValue(tag['data'], `${path}.data`, attachments, depth + 1);
      if (!(data instanceof Uint8Array)) bad(path, kind, 'data is not bytes');
      const Ctor = DTYPES[dtype as DType];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (count * Ctor.BYTES_PER_ELEMENT !== data.byteLength)
        bad(path, kind, 'data size does not match shape');
      const copy = new Uint8Array(data); // aligned, and the tool may keep it
      return new NDArray(dtype as DType, shape as number[], new Ctor(copy.buffer, 0, count));
    }
    default:
      return NOT_A_TAG; // kinds this runtime does not know (`ref`, later ones) stay maps
  }
}
