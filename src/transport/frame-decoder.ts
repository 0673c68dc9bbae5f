/**
 * Incremental decoder for length-prefixed frames: a 4-byte big-endian body length, then the body.
 *
 * Chunks from the socket may hold part of a frame or many frames. Whole frames inside one chunk are handed out
 * as views without copying; a frame split across chunks is gathered once its full length is known (no repeated
 * concatenation, so a 64 MiB frame in 64 KiB reads costs one copy).
 */
import { ProtocolError } from '../errors/errors.js';

export const FRAME_HEADER_BYTES = 4;

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Bytes received that do not yet form a whole frame. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Body length of the frame being gathered, once its header is complete; -1 before that. */
  #expected = -1;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** True when bytes of an unfinished frame are buffered (EOF now would be EOF mid-frame). */
  get midFrame(): boolean {
    return this.#pendingBytes > 0;
  }

  /**
   * Feed one chunk; calls `onFrame` for each complete body, in order.
   * @throws ProtocolError on a zero or oversized length; the decoder is unusable afterwards.
   */
  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    let buf = chunk;
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#expected < 0) {
        if (this.#pendingBytes < FRAME_HEADER_BYTES) return;
        this.#expected = this.#readLength(this.#headerOfPending());
      }
      if (this.#pendingBytes < FRAME_HEADER_BYTES + this.#expected) return;
      buf = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#expected = -1;
    }
    let pos = 0;
    const end = buf.length;
    while (end - pos >= FRAME_HEADER_BYTES) {
      const length = this.#readLength(buf.readUInt32BE(pos));
      if (end - pos - FRAME_HEADER_BYTES < length) {
        this.#expected = length;
        break;
      }
      const start = pos + FRAME_HEADER_BYTES;
      pos = start + length;
      onFrame(buf.subarray(start, pos));
    }
    if (pos < end) {
      // Keep a copy of the tail: the socket may reuse `chunk`'s memory.
      const rest = Buffer.from(buf.subarray(pos));
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
  }

  #headerOfPending(): number {
    const first = this.#pending[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return Buffer.concat(this.#pending, this.#pendingBytes).readUInt32BE(0);
  }

  #readLength(length: number): number {
    if (length === 0) throw new ProtocolError('received a frame with length 0');
    if (length > this.#maxFrameBytes) {
      throw new ProtocolError(
        `received a frame header announcing ${length} bytes, over the ${this.#maxFrameBytes}-byte limit`,
      );
    }
    return length;
  }
}
