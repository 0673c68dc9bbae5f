/**
 * FrameChannel: one worker's framed, codec-encoded message channel over a byte stream (a socket pair for a local
 * worker, a gRPC stream for a remote one: see worker/worker-link.ts).
 *
 * Frames sent in the same tick leave together on the next tick (64 calls issued together cost one syscall): small
 * ones joined into one buffer and written once (one `socket.write`, not one per frame), larger ones corked into one
 * `writev`. A lone frame goes out on the next tick too, so sequential latency does not wait on a timer. Every
 * inbound frame passes one choke point (`#onFrame`): size checked by the decoder, body decoded, shape checked;
 * anything wrong closes the channel with a ProtocolError instead of throwing into the host.
 */
import type { ByteStream } from './byte-stream.js';
import { ProtocolError } from '../errors/errors.js';
import { checkWorkerMessage, type HostMessage, type WorkerMessage } from '../protocol/messages.js';
import { type Codec, UndecodableValue } from './codec.js';
import { jsonCodec } from './codec-json.js';
import { FRAME_HEADER_BYTES, FrameDecoder } from './frame-decoder.js';
import type { LargeValues } from '../shm/shm-values.js';

/** Up to this many bytes, the frames of one tick are copied into one buffer: cheaper than a write per frame. */
const JOIN_MAX_BYTES = 64 * 1024;

export interface ChannelClose {
  /** Set when the channel was closed because the peer broke the protocol. */
  error?: ProtocolError;
}

export interface ChannelHandler {
  onMessage(message: WorkerMessage): void;
  /**
   * A frame whose `type` and `id` were read but whose values could not be decoded. The handler fails that
   * message's call and returns true; false (or no handler) treats the channel as broken.
   */
  onUndecodable?(bad: UndecodableValue): boolean;
  /** Called once, when the socket ends, errors or is closed by us. */
  onClose(close: ChannelClose): void;
}

export class FrameChannel {
  readonly #socket: ByteStream;
  readonly #decoder: FrameDecoder;
  readonly #handler: ChannelHandler;
  readonly #maxFrameBytes: number;
  /** The handshake is always JSON (PROTOCOL.md §3); `useCodec` switches after `welcome`. */
  #codec: Codec = jsonCodec;
  /** Where large binary values go (shared memory for a local worker) and their counters; set after `welcome`. */
  #large: LargeValues | undefined;
  /**
   * Bytes of the frames read so far that were handled (decoded to messages, or a call's frame whose values did not
   * decode): where a dead worker's ledger picks up (`recover`). A frame that broke the channel is not counted: it is
   * garbage, or where the stream broke.
   */
  #read = 0;
  /** Frames sent this tick, written together by `#flush` on the next one (in order), and their bytes. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #flushSoon = (): void => this.#flush();
  #closed = false;

  constructor(socket: ByteStream, maxFrameBytes: number, handler: ChannelHandler) {
    this.#socket = socket;
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder(maxFrameBytes);
    this.#handler = handler;
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () =>
      this.#finish(this.#decoder.midFrame ? { error: new ProtocolError('channel closed mid-frame') } : {}),
    );
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A peer that died with our bytes still unread resets the connection instead of closing it: that is the
      // same event as end of file (the worker is gone), not a broken protocol.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.#finish({});
      else this.#finish({ error: new ProtocolError(`channel error: ${err.message}`, { cause: err }) });
    });
    socket.on('close', () => this.#finish({}));
  }

  get codec(): Codec {
    return this.#codec;
  }

  get closed(): boolean {
    return this.#closed;
  }

  useCodec(codec: Codec): void {
    this.#codec = codec;
  }

  useLargeValues(large: LargeValues): void {
    this.#large = large;
  }

  /**
   * Encode and queue one message. Encoding errors (SerializationError, PayloadTooLargeError) are thrown here,
   * before anything is written, so a bad argument never reaches the wire.
   */
  send(message: HostMessage): void {
    if (this.#closed) return;
    const frame = this.#codec.encodeFrame(message, this.#maxFrameBytes, this.#large);
    if (this.#pending.length === 0) process.nextTick(this.#flushSoon);
    this.#pending.push(frame);
    this.#pendingBytes += frame.length;
  }

  /** Write the frames of the last tick: joined when small (one buffer, one write), else corked into one writev. */
  #flush(): void {
    const frames = this.#pending;
    const bytes = this.#pendingBytes;
    if (frames.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#closed) return;
    const socket = this.#socket;
    if (frames.length === 1) socket.write(frames[0]);
    else if (bytes <= JOIN_MAX_BYTES) socket.write(Buffer.concat(frames, bytes));
    else {
      socket.cork();
      for (const frame of frames) socket.write(frame);
      socket.uncork();
    }
  }

  /**
   * The frames a dead worker wrote that this channel never handled, from its ledger (worker/ledger.ts): `frames`
   * are whole frames, the first at channel offset `base`; those from the end of what was read on are decoded, in
   * order (not through the handler). Only a ring that continues exactly where the reading stopped is trusted: one
   * with no frame starting at that offset (it started over past unread frames, or its numbering is not ours — bytes
   * the worker wrote around its connection) gives nothing; decoding stops at the first frame that does not decode.
   */
  recover(frames: Buffer, base: number): WorkerMessage[] {
    let pos = 0;
    while (base + pos < this.#read && pos + FRAME_HEADER_BYTES <= frames.length) {
      pos += FRAME_HEADER_BYTES + frames.readUInt32BE(pos);
    }
    if (base + pos !== this.#read || pos >= frames.length) return []; // nothing unread, or no common boundary
    const messages: WorkerMessage[] = [];
    try {
      new FrameDecoder(this.#maxFrameBytes).push(frames.subarray(pos), (body) => {
        const message: unknown = this.#codec.decode(body, this.#large);
        if (checkWorkerMessage(message) !== null) throw new ProtocolError('not a worker message');
        messages.push(message as WorkerMessage);
      });
    } catch {
      // A damaged tail: what decoded before it stands.
    }
    return messages;
  }

  /** Let the host's event loop exit while this channel is idle (or hold it open again). */
  setRef(ref: boolean): void {
    if (ref) this.#socket.ref?.();
    else this.#socket.unref?.();
  }

  /** Close the channel; the worker reads EOF. */
  close(): void {
    if (this.#closed) return;
    this.#flush(); // frames sent this tick (a shutdown) go before the end
    this.#socket.end();
    this.#socket.destroy();
    this.#finish({});
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#decoder.push(chunk, (body) => this.#onFrame(body));
    } catch (err) {
      this.#fail(err instanceof ProtocolError ? err : new ProtocolError(String(err), { cause: err }));
    }
  }

  #onFrame(body: Buffer): void {
    if (this.#closed) return;
    let message: unknown;
    try {
      message = this.#codec.decode(body, this.#large);
    } catch (err) {
      if (err instanceof UndecodableValue && this.#handler.onUndecodable?.(err)) {
        this.#read += FRAME_HEADER_BYTES + body.length; // a frame the worker wrote, handled: read
        return;
      }
      const head = body.subarray(0, 16).toString('hex');
      throw new ProtocolError(
        `cannot decode a ${body.length}-byte ${this.#codec.name} frame (starts ${head}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    const problem = checkWorkerMessage(message);
    if (problem) throw new ProtocolError(`bad message from worker: ${problem}`);
    this.#read += FRAME_HEADER_BYTES + body.length;
    this.#handler.onMessage(message as WorkerMessage);
  }

  #fail(error: ProtocolError): void {
    if (this.#closed) return;
    // The handler first: it stops the worker (SIGKILL) before the worker can see end of file and react to it.
    this.#finish({ error });
    this.#socket.destroy();
  }

  #finish(close: ChannelClose): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler.onClose(close);
  }
}
