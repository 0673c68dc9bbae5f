/**
 * msgpack codec (msgpackr). Values encode at native speed; tags ride in extension type 83, so decoding revives
 * them without walking every map.
 */
import { Packr, addExtension, RESERVE_START_SPACE } from 'msgpackr';
import type { HostMessage } from '../protocol/messages.js';
import { FRAME_HEADER_BYTES } from './frame-decoder.js';
import { type Codec, checkFrameSize, serializationFailure } from './codec.js';
import { TAG_EXT_TYPE, TaggedValue, type TagMap, intTag, isTagMap, reviveTag } from './tags.js';
import { NUMERIC_TYPED_ARRAYS, dateTag, typedArrayTag } from './extended-values.js';

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

class UnencodableFunction extends Error {}

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
  pack: (value: TaggedValue) => tagPackr.pack(value.toTag()),
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
for (const Class of NUMERIC_TYPED_ARRAYS) {
  addExtension({
    Class,
    type: TAG_EXT_TYPE,
    pack: (array: unknown) => tagPackr.pack(typedArrayTag(array)),
    unpack: unpackTag,
  });
}

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

/** Replace integers too large for int64 with `int` tags (the only fix-up the fast path cannot do). */
function tagHugeInts(value: unknown): unknown {
  if (typeof value === 'bigint') return value < INT64_MIN || value > UINT64_MAX ? intTag(value) : value;
  if (
    value === null ||
    typeof value !== 'object' ||
    ArrayBuffer.isView(value) ||
    value instanceof TaggedValue
  ) {
    return value;
  }
  if (Array.isArray(value)) return value.map(tagHugeInts);
  if (value instanceof Map || value instanceof Set || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = tagHugeInts(v);
  return out;
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

  encodeFrame(message: HostMessage, maxFrameBytes: number): Buffer {
    let frame: Buffer;
    try {
      frame = packr.pack(message, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
    } catch (err) {
      if (!(err instanceof RangeError && /too large/.test(err.message)))
        throw serializationFailure(message, err);
      try {
        frame = packr.pack(tagHugeInts(message), RESERVE_START_SPACE | FRAME_HEADER_BYTES);
      } catch (err2) {
        throw serializationFailure(message, err2);
      }
    }
    const bodyBytes = frame.length - FRAME_HEADER_BYTES;
    checkFrameSize(bodyBytes, maxFrameBytes, message);
    frame.writeUInt32BE(bodyBytes, 0);
    return frame;
  },

  decode(body: Buffer): unknown {
    tagsDecoded = 0;
    const message: unknown = packr.unpack(body);
    return tagsDecoded > 0 ? rebufferBins(message) : message;
  },
};

export type { TagMap };
