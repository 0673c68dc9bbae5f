/**
 * GrpcByteStream: a Node Duplex whose bytes travel in a WorkerChannel stream, so a FrameChannel runs over gRPC
 * exactly as it runs over a socket pair.
 *
 *   FrameChannel ── write (corked per tick) ──► _writev: one ChannelIn per ≤ 1 MiB ──► grpc call
 *   FrameChannel ◄── 'data' ◄── push(ChannelOut.data) ◄─────────────────────────────── grpc call
 *
 * FrameChannel corks its writes for a tick, so the frames of one tick arrive here together and leave as one
 * gRPC message: under load several calls share one message (a message costs ~100 µs of Node CPU; a frame inside
 * it costs almost nothing). A write waits for grpc-js to take the previous one, which is the back-pressure.
 *
 * The stream is attached once the call is open; writes made before wait for it. `fail()` ends the readable side
 * without 'end' (only 'close'), so a connection that dies inside a frame is not mistaken for a peer that broke
 * the protocol.
 */
import { Duplex } from 'node:stream';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ChannelInMessage, ChannelOutMessage } from './grpc-proto.js';

/** Most channel bytes in one ChannelIn message (gRPC's default receive limit is 4 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

type Call = ClientDuplexStream<ChannelInMessage, ChannelOutMessage>;

export class GrpcByteStream extends Duplex {
  #call: Call | undefined;
  #waiting: Array<() => void> = [];
  #failed = false;

  /** Start moving bytes over `call` (its ChannelOut data is pushed by the owner with `deliver`). */
  attach(call: Call): void {
    this.#call = call;
    for (const resume of this.#waiting.splice(0)) resume();
  }

  /** Bytes from the worker. */
  deliver(data: Buffer): void {
    if (data.length > 0 && !this.#failed) this.push(data);
  }

  /** The worker's side ended cleanly (its exit status arrived): end of file for the reader. */
  finish(): void {
    if (!this.#failed) this.push(null);
  }

  /** The connection is gone: close without an end of file, and drop what is still queued. */
  fail(): void {
    if (this.#failed) return;
    this.#failed = true;
    for (const resume of this.#waiting.splice(0)) resume();
    this.destroy();
  }

  override _read(): void {
    /* data is pushed as it arrives; a FrameChannel reads in flowing mode */
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send([chunk], callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.#send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#call?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const resume of this.#waiting.splice(0)) resume();
    callback(error);
  }

  #send(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    const call = this.#call;
    if (this.#failed) return callback();
    if (!call) {
      this.#waiting.push(() => this.#send(buffers, callback));
      return;
    }
    const data = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
    if (data.length === 0) return callback();
    for (let offset = 0; offset < data.length; offset += MAX_MESSAGE_BYTES) {
      const piece = data.subarray(offset, offset + MAX_MESSAGE_BYTES);
      const last = offset + MAX_MESSAGE_BYTES >= data.length;
      // grpc-js calls back once it has taken the message; a call that already ended calls back with nothing.
      if (last) call.write({ data: piece }, () => callback());
      else call.write({ data: piece });
    }
  }
}
