/**
 * Where large binary values meet the codec (docs/DATA.md, PROTOCOL.md §3.2). msgpackr's extensions are
 * process-wide, so the channel says whose shared memory a frame may use by setting `active` around one encode or
 * decode (both are synchronous); outside of that, every value goes inline as before.
 *
 *   shm   { seg: "a3" | "r0", off, len }                      bytes (Buffer on the host, bytes in Python)
 *         { seg, off, len, dtype, shape }                      an array (NDArray / a read-only numpy view)
 */
import { TAG_KEY, registerTagKind, type TagMap } from '../transport/tags.js';
import { NDArray } from '../transport/extended-values.js';
import { ShmHandleError, type ShmLink, type TransferStats } from './shm-link.js';

/** One channel's large values: its shared memory (absent on remote links and the JSON codec) and counters. */
export interface LargeValues {
  link: ShmLink | undefined;
  /** Size from which a value counts as large (and goes to shared memory when there is some). */
  minBytes: number;
  stats: TransferStats;
}

interface Active {
  values: LargeValues;
  /** The call whose arguments are being encoded (leases are tied to it); undefined when decoding. */
  callId: number | undefined;
  /** Decoding: bytes and arrays revived from shared memory so far (the rest of the large ones came inline). */
  revivedCount: number;
  revivedBytes: number;
}

/** The one encode or decode under way (both are synchronous), or undefined; `slot` is reused: no allocation per call. */
let active: Active | undefined;
const slot: Active = {
  values: { link: undefined, minBytes: 0, stats: undefined! },
  callId: undefined,
  revivedCount: 0,
  revivedBytes: 0,
};

/** `values` are active for one encode (`callId`: the call whose arguments it is) or decode, until `endLargeValues`. */
export function beginLargeValues(values: LargeValues, callId: number | undefined): void {
  slot.values = values;
  slot.callId = callId;
  slot.revivedCount = 0;
  slot.revivedBytes = 0;
  active = slot;
}

/** The encode or decode begun by `beginLargeValues` is over (call it in a `finally`). */
export function endLargeValues(values: LargeValues): void {
  active = undefined;
  values.link?.doneReading();
}

/**
 * What to send for a value whose bytes are `data` (an `ndarray` tag's fields in `tag`, or bytes when undefined):
 * an `shm` tag when the bytes went into shared memory, else undefined (send it inline).
 */
export function sharedTag(data: Uint8Array, tag?: TagMap, countInline = true): TagMap | undefined {
  const current = active;
  if (!current || current.callId === undefined || data.byteLength < current.values.minBytes) return undefined;
  const { link, stats } = current.values;
  const seg = link?.write(current.callId, data);
  if (seg === undefined) {
    if (!countInline) return undefined;
    stats.inlineValues++;
    stats.inlineBytes += data.byteLength;
    return undefined;
  }
  const out: TagMap = { [TAG_KEY]: 'shm', seg, off: 0, len: data.byteLength };
  if (tag) {
    out['dtype'] = tag['dtype'];
    out['shape'] = tag['shape'];
  }
  return out;
}

/**
 * Decode one message from a worker (`decode(body)`) with `values` active, then count the large bytes and arrays in
 * it that came inline (a remote worker, no segment free on its side): those it holds minus those revived from shared
 * memory. A frame shorter than the threshold holds no large value, so small messages are not walked.
 */
export function decodeWithLargeValues(
  values: LargeValues,
  body: Buffer,
  decode: (body: Buffer) => unknown,
): unknown {
  beginLargeValues(values, undefined);
  let message: unknown;
  let revivedCount: number;
  let revivedBytes: number;
  try {
    message = decode(body);
  } finally {
    revivedCount = slot.revivedCount;
    revivedBytes = slot.revivedBytes;
    endLargeValues(values);
  }
  if (body.length >= values.minBytes) {
    let count = -revivedCount;
    let bytes = -revivedBytes;
    largeValuesIn(message, values.minBytes, 0, (n) => {
      count++;
      bytes += n;
    });
    if (count > 0) {
      values.stats.inlineValues += count;
      values.stats.inlineBytes += bytes;
    }
  }
  return message;
}

/**
 * Calls `found(byteLength)` for each Uint8Array and NDArray of at least `minBytes` in `value`, through arrays,
 * Maps and plain objects, 64 levels deep (deeper values are not counted: this is for stats only).
 */
function largeValuesIn(
  value: unknown,
  minBytes: number,
  depth: number,
  found: (bytes: number) => void,
): void {
  if (value === null || typeof value !== 'object' || depth > 64) return;
  if (value instanceof Uint8Array || value instanceof NDArray) {
    const bytes = value instanceof NDArray ? value.data.byteLength : value.byteLength;
    if (bytes >= minBytes) found(bytes);
    return;
  }
  // plain containers only: a Table or Date holds no value of its own that crossed as bytes
  if (!Array.isArray(value) && !(value instanceof Map) && Object.getPrototypeOf(value) !== Object.prototype)
    return;
  const items = Array.isArray(value) || value instanceof Map ? value.values() : Object.values(value);
  for (const item of items) largeValuesIn(item, minBytes, depth + 1, found);
}

/** Bytes that came inline although they are large (an Arrow stream from a remote worker): counted for stats. */
export function noteInline(bytes: number): void {
  const current = active;
  if (current && current.callId === undefined && bytes >= current.values.minBytes) {
    current.values.stats.inlineValues++;
    current.values.stats.inlineBytes += bytes;
  }
}

/** The bytes a worker's handle `{ seg, off, len }` names (an Arrow stream); throws ShmHandleError when bad. */
export function readShared(handle: unknown): Buffer {
  const link = active?.values.link;
  if (!link) throw new ShmHandleError('shared-memory handle on a channel without shared memory');
  if (handle === null || typeof handle !== 'object')
    throw new ShmHandleError('shared-memory handle is not a map');
  const { seg, off, len } = handle as Record<string, unknown>;
  return link.read(seg, off, len);
}

/** The value of an `shm` tag a worker sent. Throws ShmHandleError (that message's call fails) when it is bad. */
function reviveShared(tag: TagMap): unknown {
  const link = active?.values.link;
  if (!link) throw new ShmHandleError('shared-memory handle on a channel without shared memory');
  const { seg, off, len, dtype, shape } = tag as Record<string, unknown>;
  const bytes = link.read(seg, off, len);
  active!.revivedCount++;
  active!.revivedBytes += bytes.byteLength;
  if (dtype === undefined && shape === undefined) return bytes;
  const array = NDArray.fromTag({ [TAG_KEY]: 'ndarray', dtype, shape, data: bytes });
  if (!array) {
    throw new ShmHandleError(
      `has dtype ${JSON.stringify(dtype)} and shape ${JSON.stringify(shape)}, which do not hold ${String(len)} bytes`,
    );
  }
  return array;
}

registerTagKind('shm', (tag) => {
  try {
    return reviveShared(tag);
  } catch (err) {
    if (err instanceof ShmHandleError) throw new ShmHandleError(`shared-memory handle ${err.message}`);
    throw err;
  }
});
