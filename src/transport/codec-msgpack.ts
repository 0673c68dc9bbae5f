/**
 * msgpack codec (msgpackr). Values encode at native speed; tags ride in extension type 83, so decoding revives
 * them without walking every map.
 */
import { Packr, addExtension, RESERVE_START_SPACE } from 'msgpackr';
import type { HostMessage } from '../protocol/messages.js';
import { FRAME_HEADER_BYTES } from './frame-decoder.js';
import { type Codec, UndecodableValue, checkFrameSize, serializationFailure } from './codec.js';
import { TAG_EXT_TYPE, TaggedValue, type TagMap, isTagMap, onTaggedClass, reviveTag } from './tags.js';
import { NUMERIC_TYPED_ARRAYS, dateTag, typedArrayTag } from './extended-values.js';
import { MapTag, PyDict, SetTag, dictFromEntries, hashableProblem, illFormed } from './container-values.js';
import { ValueWalk, prepareMessage, refusal } from './value-walk.js';
import { readMsgpackHeader } from './msgpack-header.js';
import {
  type LargeValues,
  beginLargeValues,
  decodeWithLargeValues,
  endLargeValues,
  sharedTag,
} from '../shm/shm-values.js';

class UnencodableFunction extends Error {}

/** msgpackr's second argument to an extension's `pack`: room for `size` bytes, written in place. */
type AllocateForWrite = (size: number) => { target: Uint8Array; position: number };

/**
 * msgpackr passes `allocate` to an extension's `pack` and writes nothing more when it returns undefined; its
 * type declarations know neither, hence the cast.
 */
function inPlace<T>(
  pack: (value: T, allocate: AllocateForWrite) => Buffer | undefined,
): (value: T) => Buffer {
  return pack as unknown as (value: T) => Buffer;
}

/** From this size on, a tag's `data` bytes are copied straight into the frame (see `packTag`). */
const INLINE_DATA_BYTES = 1024;
/** Below this size a value never goes to shared memory, whatever a pool's threshold (skips the check). */
const SHARED_FROM_BYTES = 4096;
const DATA_KEY = Uint8Array.of(0xa4, 0x64, 0x61, 0x74, 0x61); // fixstr "data"

/** Packs and unpacks the map inside a tag's extension (a separate instance: never re-entered). */
const tagPackr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  copyBuffers: true,
});

// msgpackr extensions are process-wide; these only add types no other user of msgpackr would register.
// `pack`/`unpack` (not `write`/`read`, which is msgpackr's own inline layout) give a standard ext whose payload
// is a complete msgpack map, as PROTOCOL.md §3.1 specifies and Python's ext_hook expects.
/** Tags decoded since the current message's decode began (see `rebufferBins`). */
let tagsDecoded = 0;

// msgpackr keeps one `unpack` per extension type: every class packed as type 83 shares this one.
const unpackTag = (payload: Buffer): unknown => {
  tagsDecoded++;
  const data: unknown = tagPackr.unpack(payload);
  return isTagMap(data) ? reviveTag(data) : data;
};
addExtension({
  Class: TaggedValue,
  type: TAG_EXT_TYPE,
  pack: inPlace((value: TaggedValue, allocate) => packTag(value.toTag(), allocate, true)),
  unpack: unpackTag,
});
addExtension({
  Class: Function,
  write: () => {
    // msgpackr would silently send null for a function; refuse, so the caller learns where it was.
    throw new UnencodableFunction('function');
  },
});
// A Date is a `datetime` tag (a datetime in Python); numeric typed arrays are one-dimensional `ndarray` tags.
addExtension({
  Class: Date,
  type: TAG_EXT_TYPE,
  pack: (d: Date) => tagPackr.pack(dateTag(d)),
  unpack: unpackTag,
});
// Sets are `set` tags (msgpackr would send an array); a PyDict goes back as the `map` tag it came as (msgpackr would
// use its toJSON). Classes with no Python form throw, so the slow path names them; shared memory is bytes.
addExtension({
  Class: Set,
  type: TAG_EXT_TYPE,
  pack: (set: Set<unknown>) => {
    const items = [...set];
    // An item Python cannot hash fails here, so the careful path names it (as JSON does).
    if (items.some((item) => hashableProblem(item))) throw new UnencodableFunction('unhashable Set item');
    return tagPackr.pack(new SetTag(items).toTag());
  },
  unpack: unpackTag,
});
addExtension({
  Class: PyDict,
  type: TAG_EXT_TYPE,
  pack: (dict: PyDict) => tagPackr.pack(new MapTag([...dict]).toTag()),
  unpack: unpackTag,
});
for (const Class of [Promise, Error, RegExp, WeakMap, WeakSet, WeakRef]) {
  addExtension({
    Class,
    write: (value: object) => {
      throw new UnencodableFunction(refusal(value) ?? 'no Python form');
    },
  });
}
addExtension({ Class: SharedArrayBuffer, write: (buffer: SharedArrayBuffer) => new Uint8Array(buffer) });
addExtension({ Class: ArrayBuffer, write: (buffer: ArrayBuffer) => new Uint8Array(buffer) });
// Bytes (Buffer, Uint8Array): a `bin`, written in place, or an `shm` tag when large and the channel has shared
// memory (shm-values.ts). The size check is all that small bytes pay for it.
addExtension({
  Class: Uint8Array,
  type: TAG_EXT_TYPE,
  pack: inPlace((bytes: Uint8Array, allocate) => {
    const shared = bytes.byteLength >= SHARED_FROM_BYTES ? sharedTag(bytes) : undefined;
    if (shared) return tagPackr.pack(shared);
    const size = bytes.byteLength;
    const { target, position } = allocate((size < 0x100 ? 2 : size < 0x10000 ? 3 : 5) + size);
    target.set(bytes, writeLength(target, position, size, 0xc4));
    return undefined;
  }),
  unpack: unpackTag,
});
for (const Class of NUMERIC_TYPED_ARRAYS) {
  addExtension({
    Class,
    type: TAG_EXT_TYPE,
    pack: inPlace((array: unknown, allocate) => packTag(typedArrayTag(array)!, allocate, true)),
    unpack: unpackTag,
  });
}

// Classes of optional packages (an apache-arrow Table) register their tag when they are loaded.
onTaggedClass((Class, toTag) =>
  addExtension({
    Class,
    type: TAG_EXT_TYPE,
    pack: (value: object) => tagPackr.pack(toTag(value)),
    unpack: unpackTag,
  }),
);

/** Decodes maps as Maps, for a message with map keys that are not text (a Python dict keyed by tuples). */
const mapsPackr = new Packr({
  useRecords: false,
  mapsAsObjects: false,
  variableMapSize: true,
  copyBuffers: true,
  ...({ int64AsType: 'auto' } as object),
});

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  copyBuffers: true,
  // Two options msgpackr supports but does not declare in its types:
  // `{ a: undefined }` means "a not given", as in JSON, so Python gets no `a` keyword;
  // 'auto' decodes int64 as a number within ±2^53 and as a bigint beyond.
  ...({ skipValues: [undefined], int64AsType: 'auto' } as object),
});

/**
 * Pack a tag as extension 83. A tag with large `data` bytes (an `ndarray`'s items) is written straight into the
 * frame being packed: its other fields are packed apart (a few bytes), then ext header, that map with one more
 * entry, `data`'s bin header and the bytes themselves go in place. The items are copied once, not packed into
 * a buffer of their own first and copied again. The payload is the same complete msgpack map either way
 * (PROTOCOL.md §3.1), with `data` as its last key.
 */
function packTag(tag: TagMap, allocate: AllocateForWrite, mayShare = false): Buffer | undefined {
  const data = tag['data'];
  if (!(data instanceof Uint8Array) || data.byteLength < INLINE_DATA_BYTES) return tagPackr.pack(tag);
  if (mayShare && data.byteLength >= SHARED_FROM_BYTES) {
    const shared = sharedTag(data, tag);
    if (shared) return tagPackr.pack(shared);
  }
  const { data: _data, ...rest } = tag;
  const head = tagPackr.pack(rest);
  const entries = head[0]! - 0x80;
  if (entries < 0 || entries >= 15) return tagPackr.pack(tag); // not a fixmap that can take one more
  const size = data.byteLength;
  const binHeader = size < 0x100 ? 2 : size < 0x10000 ? 3 : 5;
  const payload = head.length + DATA_KEY.length + binHeader + size;
  const extHeader = (payload < 0x100 ? 2 : payload < 0x10000 ? 3 : 5) + 1;
  const { target, position } = allocate(extHeader + payload);
  let at = writeLength(target, position, payload, 0xc7);
  target[at++] = TAG_EXT_TYPE;
  target.set(head, at);
  target[at] = 0x80 + entries + 1;
  at += head.length;
  target.set(DATA_KEY, at);
  at += DATA_KEY.length;
  at = writeLength(target, at, size, 0xc4);
  target.set(data, at);
  return undefined;
}

/**
 * Write a bin or ext header's type byte and length: `code8` (bin 8 / ext 8) for a length below 256, the next
 * code (16-bit length) below 65536, else the one after (32-bit). Returns the position after it.
 */
function writeLength(target: Uint8Array, at: number, length: number, code8: number): number {
  if (length < 0x100) {
    target[at++] = code8;
    target[at++] = length;
  } else if (length < 0x10000) {
    target[at++] = code8 + 1;
    target[at++] = length >>> 8;
    target[at++] = length & 0xff;
  } else {
    target[at++] = code8 + 2;
    target[at++] = length >>> 24;
    target[at++] = (length >>> 16) & 0xff;
    target[at++] = (length >>> 8) & 0xff;
    target[at++] = length & 0xff;
  }
  return at;
}

/** U+FFFD in UTF-8: what msgpackr writes for a lone surrogate (and for a real U+FFFD). */
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);
/** Frames up to this size are searched for it; larger ones (big arrays) have their strings checked instead. */
const SCAN_BYTES = 1 << 20;

/** True when the native encode may have replaced a lone surrogate (so the careful path must run). */
function mayHaveLostText(frame: Buffer, message: HostMessage): boolean {
  if (frame.length > SCAN_BYTES) return hasIllFormedText(message, 0);
  // A one-byte search (memchr) is several times cheaper than a three-byte one, as long as 0xEF is rare (text,
  // numbers); data full of it (random bytes) switches to the three-byte search after a few hits.
  let at = frame.indexOf(0xef, FRAME_HEADER_BYTES);
  for (let hits = 0; at !== -1 && hits < 16; hits++) {
    if (frame[at + 1] === 0xbf && frame[at + 2] === 0xbd) return true;
    at = frame.indexOf(0xef, at + 1);
  }
  return at !== -1 && frame.indexOf(REPLACEMENT, at) !== -1;
}

function hasIllFormedText(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return illFormed(value);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || depth > 500) return false;
  if (Array.isArray(value)) return value.some((v) => hasIllFormedText(v, depth + 1));
  if (value instanceof Map) {
    for (const [k, v] of value)
      if (hasIllFormedText(k, depth + 1) || hasIllFormedText(v, depth + 1)) return true;
    return false;
  }
  if (value instanceof Set) return [...value].some((v) => hasIllFormedText(v, depth + 1));
  for (const [k, v] of Object.entries(value)) if (illFormed(k) || hasIllFormedText(v, depth + 1)) return true;
  return false;
}

/** A message decoded with Maps: maps whose keys are all primitives become objects (as the fast decode makes). */
function fromMaps(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromMaps(value[i]);
    return value;
  }
  if (value instanceof Map && !(value instanceof PyDict)) {
    return dictFromEntries([...value].map(([k, v]) => [fromMaps(k), fromMaps(v)] as const));
  }
  return value;
}

/**
 * A nested unpack (a tag's payload) makes msgpackr continue the outer message from a `Uint8Array` copy of its
 * source (its `saveState`), so bins decoded after a tag arrive as plain `Uint8Array`s instead of `Buffer`s. Put
 * them back to Buffers (zero-copy views), so bytes are Buffers however a message is laid out.
 */
function rebufferBins(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = rebufferBins(value[i]);
    return value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value; // Dates, NDArrays, typed arrays
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) obj[key] = rebufferBins(obj[key]);
  return obj;
}

export const msgpackCodec: Codec = {
  name: 'msgpack',

  encodeFrame(message: HostMessage, maxFrameBytes: number, large?: LargeValues): Buffer {
    if (!large) return encodeFrame(message, maxFrameBytes);
    const callId = message.type === 'call' ? message.id : undefined;
    beginLargeValues(large, callId);
    let frame: Buffer;
    try {
      frame = encodeFrame(message, maxFrameBytes);
    } catch (err) {
      endLargeValues(large);
      if (callId !== undefined) large.link?.release(callId); // nothing was sent: its segments are free
      throw err;
    }
    endLargeValues(large);
    return frame;
  },

  decode(body: Buffer, large?: LargeValues): unknown {
    return large ? decodeWithLargeValues(large, body, decode) : decode(body);
  },
};

function encodeFrame(message: HostMessage, maxFrameBytes: number): Buffer {
  let frame: Buffer | undefined;
  try {
    frame = packr.pack(message, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
    if (mayHaveLostText(frame, message)) frame = undefined;
  } catch {
    frame = undefined; // the careful path below says why, or carries what the native encode could not
  }
  if (!frame) {
    const prepared = prepareMessage(message, new ValueWalk({ json: false })); // throws SerializationError
    try {
      frame = packr.pack(prepared, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
    } catch (err) {
      throw serializationFailure(message, err);
    }
  }
  const bodyBytes = frame.length - FRAME_HEADER_BYTES;
  checkFrameSize(bodyBytes, maxFrameBytes, message);
  frame.writeUInt32BE(bodyBytes, 0);
  return frame;
}

function decode(body: Buffer): unknown {
  tagsDecoded = 0;
  try {
    const message: unknown = packr.unpack(body);
    return tagsDecoded > 0 ? rebufferBins(message) : message;
  } catch {
    // Map keys that are not text (a Python dict keyed by tuples, bytes or datetimes): read maps as Maps.
  }
  try {
    return fromMaps(mapsPackr.unpack(body));
  } catch (err) {
    const { type, id } = readMsgpackHeader(body);
    const reason = err instanceof Error ? err.message : String(err);
    if (type !== undefined && id !== undefined) throw new UndecodableValue(type, id, reason);
    throw err;
  }
}

export type { TagMap };
