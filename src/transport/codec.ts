/**
 * A codec turns a message into one frame (header and body in one buffer, written with one syscall) and a body
 * back into a message. Two exist: msgpack (the fast default) and JSON (the fallback when the worker has no
 * msgpack package). Both carry the same values (docs/PROTOCOL.md §3.1).
 */
import type { CodecName, HostMessage } from '../protocol/messages.js';
import { PayloadTooLargeError, SerializationError } from '../errors/errors.js';
import { ValueWalk, prepareMessage } from './value-walk.js';
import type { LargeValues } from '../shm/shm-values.js';

export interface Codec {
  readonly name: CodecName;
  /**
   * Encode one message as a frame: 4-byte big-endian body length, then the body.
   * @throws SerializationError naming the path of an unencodable value (e.g. `args.rows[2]`)
   * @throws PayloadTooLargeError when the body exceeds `maxFrameBytes`
   * `large`: the channel's shared memory and counters (docs/DATA.md); values at or above its threshold go there
   * (msgpack only: the JSON codec sends them inline and counts them).
   */
  encodeFrame(message: HostMessage, maxFrameBytes: number, large?: LargeValues): Buffer;
  /**
   * Decode one body. Throws on bytes that are not a valid body for this codec: UndecodableValue when the
   * message's `type` and `id` could be read and only its values are at fault (the channel is intact).
   */
  decode(body: Buffer, large?: LargeValues): unknown;
}

/** A frame whose `type` and `id` were read but whose values could not be decoded: only that message fails. */
export class UndecodableValue extends Error {
  constructor(
    readonly type: string,
    readonly id: number,
    readonly reason: string,
  ) {
    super(`cannot decode the values of a "${type}" message (id ${id}): ${reason}`);
  }
}

export function checkFrameSize(bodyBytes: number, maxFrameBytes: number, message: HostMessage): void {
  if (bodyBytes > maxFrameBytes) {
    const what = message.type === 'call' ? `arguments of "${message.tool}"` : `"${message.type}" message`;
    throw new PayloadTooLargeError(bodyBytes, maxFrameBytes, what);
  }
}

/** After a fast encode threw: find the field and path at fault, or wrap the encoder's own complaint. */
export function serializationFailure(message: HostMessage, cause: unknown): SerializationError {
  try {
    prepareMessage(message, new ValueWalk({ json: false }));
  } catch (err) {
    if (err instanceof SerializationError) return err;
  }
  const text = cause instanceof Error ? cause.message : String(cause);
  return new SerializationError(message.type, 'value', `cannot encode "${message.type}" message: ${text}`);
}
