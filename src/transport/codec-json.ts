/**
 * JSON codec: the fallback for workers without msgpack. Bytes travel as raw attachments after the JSON text
 * (never base64); non-finite floats, integers and host tags become tag objects, and a message containing tags
 * is marked `"tagged": true` so the receiver walks only those (docs/PROTOCOL.md §3).
 */
import type { HostMessage } from '../protocol/messages.js';
import { SerializationError } from '../errors/errors.js';
import { FRAME_HEADER_BYTES } from './frame-decoder.js';
import { type Codec, checkFrameSize, serializationFailure } from './codec.js';
import { TAG_KEY, TaggedValue, floatTag, intTag, isTagMap, reviveTag } from './tags.js';
import { childPath, describeType } from './value-walk.js';
import { dateTag, typedArrayTag } from './extended-values.js';

const ATTACHMENTS_MARKER = 0x01;

interface EncodeState {
  attachments: Uint8Array[];
  tagged: boolean;
  seen: Set<object>;
}

/** A copy of `value` that JSON.stringify carries faithfully; shares untouched subtrees. */
function toJsonSafe(value: unknown, path: string, state: EncodeState): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      state.tagged = true;
      return floatTag(value).tag;
    case 'bigint':
      state.tagged = true;
      return intTag(value).tag;
    case 'undefined':
      return undefined;
    case 'function':
    case 'symbol':
      throw new SerializationError(path, describeType(value));
  }
  if (value === null) return null;
  const obj = value as object;
  if (ArrayBuffer.isView(obj)) {
    state.tagged = true;
    const array = typedArrayTag(obj); // a numeric typed array: an `ndarray` tag, its bytes an attachment
    if (array) return toJsonSafe(array, path, state);
    const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
    state.attachments.push(bytes);
    return { [TAG_KEY]: 'bytes', attachment: state.attachments.length - 1 };
  }
  if (obj instanceof TaggedValue) {
    state.tagged = true;
    return toJsonSafe(obj.toTag(), path, state);
  }
  if (obj instanceof Date) {
    state.tagged = true;
    return dateTag(obj);
  }
  if (state.seen.has(obj)) {
    throw new SerializationError(path, 'cycle', `cannot encode a cycle: ${path} refers back to itself`);
  }
  state.seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const out = new Array<unknown>(obj.length);
      for (let i = 0; i < obj.length; i++) {
        const v = toJsonSafe(obj[i], childPath(path, i), state);
        out[i] = v === undefined ? null : v;
      }
      return out;
    }
    if (obj instanceof Set) {
      return [...obj].map((v, i) => toJsonSafe(v, childPath(path, i), state) ?? null);
    }
    const out: Record<string, unknown> = {};
    const entries: Iterable<[unknown, unknown]> = obj instanceof Map ? obj : Object.entries(obj);
    for (const [k, v] of entries) {
      const key = String(k);
      const safe = toJsonSafe(v, childPath(path, key), state);
      if (safe !== undefined) out[key] = safe;
    }
    return out;
  } finally {
    state.seen.delete(obj);
  }
}

function revive(value: unknown, attachments: Buffer[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], attachments);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) obj[key] = revive(obj[key], attachments);
  if (!isTagMap(obj)) return obj;
  if (obj[TAG_KEY] === 'bytes') {
    const index = obj['attachment'];
    const bytes = typeof index === 'number' ? attachments[index] : undefined;
    if (!bytes)
      throw new Error(`bytes tag refers to attachment ${String(index)}, which the frame does not have`);
    return bytes;
  }
  return reviveTag(obj);
}

export const jsonCodec: Codec = {
  name: 'json',

  encodeFrame(message: HostMessage, maxFrameBytes: number): Buffer {
    const state: EncodeState = { attachments: [], tagged: false, seen: new Set() };
    let safe: Record<string, unknown>;
    try {
      safe = {};
      for (const [key, value] of Object.entries(message)) {
        const v = toJsonSafe(value, key, state);
        if (v !== undefined) safe[key] = v;
      }
    } catch (err) {
      throw err instanceof SerializationError ? err : serializationFailure(message, err);
    }
    if (state.tagged) safe['tagged'] = true;
    const json = JSON.stringify(safe);
    const jsonBytes = Buffer.byteLength(json);
    if (state.attachments.length === 0) {
      checkFrameSize(jsonBytes, maxFrameBytes, message);
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + jsonBytes);
      frame.writeUInt32BE(jsonBytes, 0);
      frame.write(json, FRAME_HEADER_BYTES);
      return frame;
    }
    let bodyBytes = 1 + 4 + jsonBytes;
    for (const a of state.attachments) bodyBytes += 4 + a.byteLength;
    checkFrameSize(bodyBytes, maxFrameBytes, message);
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
    let pos = frame.writeUInt32BE(bodyBytes, 0);
    pos = frame.writeUInt8(ATTACHMENTS_MARKER, pos);
    pos = frame.writeUInt32BE(jsonBytes, pos);
    pos += frame.write(json, pos);
    for (const a of state.attachments) {
      pos = frame.writeUInt32BE(a.byteLength, pos);
      frame.set(a, pos);
      pos += a.byteLength;
    }
    return frame;
  },

  decode(body: Buffer): unknown {
    if (body[0] !== ATTACHMENTS_MARKER) {
      const message = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      return message && message['tagged'] === true ? revive(message, []) : message;
    }
    if (body.length < 5) throw new Error('JSON frame with attachments is shorter than its header');
    const jsonBytes = body.readUInt32BE(1);
    let pos = 5 + jsonBytes;
    if (pos > body.length) throw new Error('JSON frame announces more JSON text than it holds');
    const message = JSON.parse(body.toString('utf8', 5, pos)) as unknown;
    const attachments: Buffer[] = [];
    while (pos < body.length) {
      if (pos + 4 > body.length) throw new Error('truncated attachment header in JSON frame');
      const length = body.readUInt32BE(pos);
      pos += 4;
      if (pos + length > body.length) throw new Error('truncated attachment in JSON frame');
      attachments.push(Buffer.from(body.subarray(pos, pos + length)));
      pos += length;
    }
    return revive(message, attachments);
  },
};
