/**
 * JSON codec: the fallback for workers without msgpack. Bytes travel as raw attachments after the JSON text
 * (never base64); non-finite floats, integers and host tags become tag objects, and a message containing tags
 * is marked `"tagged": true` so the receiver walks only those (docs/PROTOCOL.md §3).
 */
import type { LargeValues } from '../shm/shm-values.js';
import type { HostMessage } from '../protocol/messages.js';
import { FRAME_HEADER_BYTES } from './frame-decoder.js';
import { type Codec, UndecodableValue, checkFrameSize } from './codec.js';
import { TAG_KEY, isTagMap, reviveTag } from './tags.js';
import { ValueWalk, prepareMessage } from './value-walk.js';

const ATTACHMENTS_MARKER = 0x01;

/** Revive tags (children first: a `map` tag's entries hold tags of their own). */
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

/** Revive a parsed message; a value that cannot be revived fails only that message (its type and id are known). */
function reviveMessage(message: unknown, attachments: Buffer[]): unknown {
  try {
    return revive(message, attachments);
  } catch (err) {
    const { type, id } = (message ?? {}) as { type?: unknown; id?: unknown };
    const reason = err instanceof Error ? err.message : String(err);
    if (typeof type === 'string' && typeof id === 'number') throw new UndecodableValue(type, id, reason);
    throw err;
  }
}

function countInline(attachments: Uint8Array[], large: LargeValues): void {
  for (const bytes of attachments) {
    if (bytes.byteLength < large.minBytes) continue;
    large.stats.inlineValues++;
    large.stats.inlineBytes += bytes.byteLength;
  }
}

export const jsonCodec: Codec = {
  name: 'json',

  encodeFrame(message: HostMessage, maxFrameBytes: number, large?: LargeValues): Buffer {
    const attachments: Uint8Array[] = [];
    const walk = new ValueWalk({ json: true, attachments });
    const safe = prepareMessage(message, walk); // throws SerializationError naming the path
    if (large && message.type === 'call') countInline(attachments, large); // JSON has no shared memory
    if (walk.tagged) safe['tagged'] = true;
    const json = JSON.stringify(safe);
    const jsonBytes = Buffer.byteLength(json);
    if (attachments.length === 0) {
      checkFrameSize(jsonBytes, maxFrameBytes, message);
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + jsonBytes);
      frame.writeUInt32BE(jsonBytes, 0);
      frame.write(json, FRAME_HEADER_BYTES);
      return frame;
    }
    let bodyBytes = 1 + 4 + jsonBytes;
    for (const a of attachments) bodyBytes += 4 + a.byteLength;
    checkFrameSize(bodyBytes, maxFrameBytes, message);
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
    let pos = frame.writeUInt32BE(bodyBytes, 0);
    pos = frame.writeUInt8(ATTACHMENTS_MARKER, pos);
    pos = frame.writeUInt32BE(jsonBytes, pos);
    pos += frame.write(json, pos);
    for (const a of attachments) {
      pos = frame.writeUInt32BE(a.byteLength, pos);
      frame.set(a, pos);
      pos += a.byteLength;
    }
    return frame;
  },

  decode(body: Buffer, large?: LargeValues): unknown {
    if (body[0] !== ATTACHMENTS_MARKER) {
      const message = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      return message && message['tagged'] === true ? reviveMessage(message, []) : message;
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
    if (large) countInline(attachments, large); // JSON has no shared memory: large values came in the frame
    return reviveMessage(message, attachments);
  },
};
