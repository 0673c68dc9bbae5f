/**
 * Tag kinds every pool understands beyond JSON's types (docs/PROTOCOL.md §3.1):
 *
 *   datetime  Python `datetime.datetime` ⇄ JS `Date`            { value: ISO 8601 text }
 *   ndarray   numpy numeric array        ⇄ `NDArray` (typed data) { dtype, shape, data: raw bytes, C order, LE }
 *
 * Numeric typed arrays sent by the host (a `Float64Array`, an `Int32Array`, ...) travel as one-dimensional
 * `ndarray`s too, so Python receives numpy arrays; `Uint8Array` and `Buffer` stay bytes.
 */
import { endianness } from 'node:os';
import { TAG_KEY, TaggedValue, registerTagKind, type TagMap } from './tags.js';

/** The numpy dtypes that travel as raw bytes. */
export type NDArrayDType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

/** The typed array holding an NDArray's items (`float16` items are raw `Uint16Array` bits; `bool` are 0/1). */
export type NDArrayData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NDArrayData;
  new (length: number): NDArrayData;
  readonly BYTES_PER_ELEMENT: number;
};

const CONSTRUCTORS: Record<NDArrayDType, TypedArrayConstructor> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** The dtype a typed array is sent as (Uint8Array and Uint8ClampedArray are bytes, not arrays). */
const DTYPE_OF = new Map<unknown, NDArrayDType>([
  [Int8Array, 'int8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'uint64'],
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
]);

/** Typed-array classes the codecs send as `ndarray` tags. */
export const NUMERIC_TYPED_ARRAYS = [...DTYPE_OF.keys()] as Array<
  abstract new (...args: never[]) => NDArrayData
>;

const LITTLE_ENDIAN = endianness() === 'LE';
const MAX_NDIM = 32;

function checkEndianness(): void {
  if (!LITTLE_ENDIAN) throw new Error('snakepit: numpy arrays travel little-endian; this host is big-endian');
}

/**
 * A numpy array on the host: its dtype, its shape and its items in a typed array (C order). Results of numeric
 * numpy arrays arrive as NDArrays; send one (or a plain typed array) to give Python a numpy array.
 *
 *   const a = new NDArray(new Float64Array([1, 2, 3, 4]), [2, 2]);
 *   a.toArray();   // [[1, 2], [3, 4]]
 */
export class NDArray extends TaggedValue {
  readonly dtype: NDArrayDType;
  readonly shape: readonly number[];
  readonly data: NDArrayData;

  /**
   * @param data the items, C order
   * @param shape default: one dimension of `data.length`
   * @param dtype default: the typed array's own (`Float64Array` → `float64`); needed for `bool` and `float16`
   * @throws RangeError when the shape does not hold `data.length` items or the dtype does not fit the array
   */
  constructor(data: NDArrayData, shape?: readonly number[], dtype?: NDArrayDType) {
    super();
    const type =
      dtype ?? DTYPE_OF.get(data.constructor) ?? (data instanceof Uint8Array ? 'uint8' : undefined);
    if (type === undefined || !(type in CONSTRUCTORS)) {
      throw new RangeError(`NDArray: unsupported data ${data.constructor.name} / dtype ${String(dtype)}`);
    }
    if (!(data instanceof (CONSTRUCTORS[type] as unknown as typeof Uint8Array))) {
      throw new RangeError(
        `NDArray: dtype ${type} needs a ${CONSTRUCTORS[type].name}, got ${data.constructor.name}`,
      );
    }
    const dims = shape ?? [data.length];
    if (
      dims.length > MAX_NDIM ||
      dims.some((n) => !Number.isInteger(n) || n < 0) ||
      dims.reduce((a, b) => a * b, 1) !== data.length
    ) {
      throw new RangeError(`NDArray: shape [${dims.join(', ')}] does not hold ${data.length} items`);
    }
    this.dtype = type;
    this.shape = Object.freeze([...dims]);
    this.data = data;
  }

  /** Number of items. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /**
   * The items as nested arrays: numbers (64-bit integers as numbers when exact, else bigints), booleans for
   * `bool`; a 0-dimensional array gives its one item.
   */
  toArray(): unknown {
    const items: unknown[] = [];
    const { data, dtype } = this;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (typeof v === 'bigint') items.push(v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v);
      else items.push(dtype === 'bool' ? v !== 0 : v);
    }
    return nest(items, this.shape);
  }

  /**
   * For `JSON.stringify` (`res.json(result)`): the items as nested arrays (`toArray()`), with 64-bit integers
   * beyond 2^53 as decimal text, since JSON has no integers that large.
   */
  toJSON(): unknown {
    const items = this.toArray();
    return this.data instanceof BigInt64Array || this.data instanceof BigUint64Array
      ? bigintsAsText(items)
      : items;
  }

  toTag(): TagMap {
    checkEndianness();
    const { data } = this;
    return {
      [TAG_KEY]: 'ndarray',
      dtype: this.dtype,
      shape: [...this.shape],
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  }

  /** The NDArray of a received `ndarray` tag, or undefined when the tag is malformed. */
  static fromTag(tag: TagMap): NDArray | undefined {
    const { dtype, shape, data } = tag as { dtype?: unknown; shape?: unknown; data?: unknown };
    if (typeof dtype !== 'string' || !(dtype in CONSTRUCTORS) || !Array.isArray(shape)) return undefined;
    if (!(data instanceof Uint8Array)) return undefined;
    checkEndianness();
    const ctor = CONSTRUCTORS[dtype as NDArrayDType];
    const width = ctor.BYTES_PER_ELEMENT;
    if (data.byteLength % width !== 0) return undefined;
    // A typed array must start at a multiple of its item size; a decoded buffer may not (copy it then).
    const bytes = data.byteOffset % width === 0 ? data : new Uint8Array(data);
    const items = new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / width);
    try {
      return new NDArray(items, shape as number[], dtype as NDArrayDType);
    } catch {
      return undefined;
    }
  }
}

function bigintsAsText(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return Array.isArray(value) ? value.map(bigintsAsText) : value;
}

function nest(items: unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return items[0];
  if (shape.length === 1) return items;
  const [first, ...rest] = shape as [number, ...number[]];
  const step = first === 0 ? 0 : items.length / first;
  const out: unknown[] = [];
  for (let i = 0; i < first; i++) out.push(nest(items.slice(i * step, (i + 1) * step), rest));
  return out;
}

/** The `ndarray` tag for a plain numeric typed array, or undefined for other values. */
export function typedArrayTag(value: unknown): TagMap | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const dtype = DTYPE_OF.get(value.constructor);
  return dtype === undefined ? undefined : new NDArray(value as NDArrayData, undefined, dtype).toTag();
}

/** The `datetime` tag of a Date (`NaT` for an invalid Date). */
export function dateTag(date: Date): TagMap {
  const time = date.getTime();
  return { [TAG_KEY]: 'datetime', value: Number.isNaN(time) ? 'NaT' : date.toISOString() };
}

// Python's isoformat(): date, time with optional fraction (up to 9 digits from pandas), optional offset.
const PY_ISO =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?(?::\d{2}(?:\.\d+)?)?$/;

/** A Date from Python's ISO text; a naive datetime (no offset) is read as UTC. */
export function parsePythonDateTime(text: string): Date | undefined {
  if (text === 'NaT') return new Date(NaN);
  const m = PY_ISO.exec(text);
  if (!m) return undefined;
  const ms = (m[4] ?? '').padEnd(3, '0').slice(0, 3);
  const date = new Date(`${m[1]}T${m[2]}:${m[3] ?? '00'}.${ms}${m[5] ?? 'Z'}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

registerTagKind('datetime', (tag) => {
  const value = tag['value'];
  return (typeof value === 'string' && parsePythonDateTime(value)) || tag;
});
registerTagKind('ndarray', (tag) => NDArray.fromTag(tag) ?? tag);
