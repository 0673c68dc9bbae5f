// GrpcByteStream (src/remote/grpc-stream.ts) against a fake duplex call: batching and splitting the channel's bytes.
import { describe, expect, it } from 'vitest';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ChannelInMessage, ChannelOutMessage } from '../../src/remote/grpc-proto.js';
import { GrpcByteStream, MAX_MESSAGE_BYTES } from '../../src/remote/grpc-stream.js';

/** A stand-in for grpc-js's duplex call: records each message; calls back when asked. */
function fakeCall(): {
  call: ClientDuplexStream<ChannelInMessage, ChannelOutMessage>;
  sent: Buffer[];
  ended: () => boolean;
} {
  const sent: Buffer[] = [];
  let ended = false;
  const call = {
    write(message: ChannelInMessage, cb?: () => void): boolean {
      sent.push(Buffer.from(message.data));
      if (cb) setImmediate(cb);
      return true;
    },
    end(): void {
      ended = true;
    },
  } as unknown as ClientDuplexStream<ChannelInMessage, ChannelOutMessage>;
  return { call, sent, ended: () => ended };
}

describe('GrpcByteStream', () => {
  it('sends the writes of one corked tick as one message, and waits for the call before sending', async () => {
    const stream = new GrpcByteStream();
    const { call, sent } = fakeCall();
    stream.cork();
    stream.write(Buffer.from('ab'));
    stream.write(Buffer.from('cd'));
    process.nextTick(() => stream.uncork());
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([]); // not attached yet: held
    stream.attach(call);
    await new Promise((r) => setTimeout(r, 10));
    expect(sent.map((b) => b.toString())).toEqual(['abcd']);
  });

  it('splits what is larger than a message into pieces that rebuild the bytes', async () => {
    const stream = new GrpcByteStream();
    const { call, sent } = fakeCall();
    stream.attach(call);
    const big = Buffer.alloc(MAX_MESSAGE_BYTES * 2 + 5, 9);
    await new Promise<void>((r) => stream.write(big, () => r()));
    expect(sent.map((b) => b.length)).toEqual([MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES, 5]);
    expect(Buffer.concat(sent).equals(big)).toBe(true);
  });

  it('delivers bytes, ends on finish(), closes without an end on fail()', async () => {
    const ok = new GrpcByteStream();
    const got: string[] = [];
    ok.on('data', (d: Buffer) => got.push(d.toString()));
    const ended = new Promise((r) => ok.on('end', r));
    ok.deliver(Buffer.from('x'));
    ok.finish();
    await ended;
    expect(got).toEqual(['x']);

    const lost = new GrpcByteStream();
    let sawEnd = false;
    lost.on('end', () => (sawEnd = true));
    lost.resume();
    const closed = new Promise((r) => lost.on('close', r));
    lost.fail();
    await closed;
    expect(sawEnd).toBe(false);
  });

  it('half-closes the call when the writable side ends', async () => {
    const stream = new GrpcByteStream();
    const { call, ended } = fakeCall();
    stream.attach(call);
    await new Promise<void>((r) => stream.end(() => r()));
    expect(ended()).toBe(true);
  });
});
