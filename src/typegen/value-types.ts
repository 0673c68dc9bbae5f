/**
 * The TypeScript types generated clients use for Python values (docs/TYPES.md has the whole mapping). They name
 * forms of docs/VALUES.md: what a Python value arrives as, and what JavaScript may send for a parameter.
 */
import type { PyRef } from '../refs/py-ref.js';
import type { PyDict } from '../transport/container-values.js';
import type { NDArray, NDArrayData } from '../transport/extended-values.js';

/** Numeric typed arrays: sent as numpy arrays (`Uint8Array` and `Buffer` are bytes, not arrays). */
export type PyNumericTypedArray = Exclude<NDArrayData, Uint8Array>;

/** A value, or arrays of it nested to any depth (numpy's nested sequences). */
export type PyNested<T> = T | readonly PyNested<T>[];

/** What numpy accepts as an array argument: an `NDArray`, a numeric typed array, or (nested) lists of `T`. */
export type PyArrayLike<T> = NDArray | PyNumericTypedArray | PyNested<T>;

/** What may be sent for a `bytes` parameter. */
export type PyBytesLike = Uint8Array | ArrayBuffer | SharedArrayBuffer | DataView;

/** A Python `complex`, as it arrives. */
export interface PyComplex {
  real: number;
  imag: number;
}

/** A pandas Series as it arrives: an array (default index) or an object / PyDict keyed by its index. */
export type PySeries = NDArray | unknown[] | Record<string, unknown> | Map<unknown, unknown>;

/** The marker a value with no by-value form becomes with `graceful` (docs/VALUES.md, "Graceful values"). */
export interface PyUnserializable<T extends string = string> {
  __ffi_unserializable__: true;
  __type__: T;
  __repr__?: string;
}

/**
 * Any value a Python result can arrive as (the JavaScript column of docs/VALUES.md). A result the Python side types
 * as `Any`, `object` or not at all gets this type, so a caller narrows a known union instead of `unknown`.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Buffer
  | NDArray
  | PyRef
  | PyDict
  | PyValue[]
  | { [key: string]: PyValue };
