/**
 * Frames of the local channel (PROTOCOL.md §2): a uint32 big-endian body length, then the body. Reads handle frames
 * split across reads and several frames per read; a length of 0, or one past the frame limit, is a broken peer.
 */

export class FrameError extends Error {}

export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need: number | undefined;

  constructor(public maxFrameBytes: number) {}

  /** Bytes are waiting that do not make a whole frame yet. */
  get partial(): boolean {
    return this.#buffered > 0;
  }

  /** Feed bytes; returns the complete bodies. Throws FrameError before allocating for a bad length. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.#need === undefined) {
        if (this.#buffered < 4) break;
        const length = this.#take(4).readUInt32BE(0);
        if (length === 0) throw new FrameError('frame of length 0');
        if (length > this.maxFrameBytes) {
          throw new FrameError(`frame of ${length} bytes exceeds max_frame_bytes ${this.maxFrameBytes}`);
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      bodies.push(this.#take(this.#need));
      this.#need = undefined;
    }
    return bodies;
  }

  #take(n: number): Buffer {
    const head = this.#chunks[0]!;
    let out: Buffer;
    if (head.length >= n) {
      out = head.subarray(0, n);
      if (head.length === n) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return out;
  }
}

export function frame(body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}
