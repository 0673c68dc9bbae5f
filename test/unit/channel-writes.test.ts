/**
 * How FrameChannel writes: the frames sent in one tick leave together on the next tick, in order — small ones
 * joined into one buffer and one write (one system call for a burst of calls, and no Writable.write per frame),
 * larger bursts as one corked writev — and `close()` sends what this tick queued before the end of the stream.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameChannel } from '../../src/transport/channel.js';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { FrameDecoder } from '../../src/transport/frame-decoder.js';
import type { HostMessage } from '../../src/protocol/messages.js';

/** A byte stream that records each write the channel makes (a writev counts as one, with its chunks). */
function recordingStream(): { stream: Duplex; writes: Buffer[][] } {
  const writes: Buffer[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      writes.push([chunk]);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => c.chunk as Buffer));
      done();
    },
  });
  return { stream, writes };
}

function openChannel(stream: Duplex): FrameChannel {
  return new FrameChannel(stream, 1 << 24, { onMessage: () => {}, onClose: () => {} });
}

/** The messages in the bytes of these writes, in order. */
function messages(writes: Buffer[][]): unknown[] {
  const out: unknown[] = [];
  const decoder = new FrameDecoder(1 << 24);
  for (const chunk of writes.flat()) decoder.push(chunk, (body) => out.push(jsonCodec.decode(body)));
  return out;
}

const call = (id: number, pad = 0): HostMessage => ({
  type: 'call',
  id,
  tool: 't',
  args: { pad: 'x'.repeat(pad) },
  timeout_ms: 1000,
});

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('FrameChannel writes', () => {
  it('writes a burst of small frames sent in one tick as one buffer, on the next tick, in order', async () => {
    const { stream, writes } = recordingStream();
    const channel = openChannel(stream);
    for (let id = 1; id <= 64; id++) channel.send(call(id));
    expect(writes).toHaveLength(0); // nothing is written inside the tick that sends
    await nextTick();
    await nextTick();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(1); // one joined buffer
    expect(messages(writes).map((m) => (m as { id: number }).id)).toEqual(
      Array.from({ length: 64 }, (_, i) => i + 1),
    );
  });

  it('writes a lone frame on the next tick, and the next tick’s frames in a write of their own', async () => {
    const { stream, writes } = recordingStream();
    const channel = openChannel(stream);
    channel.send(call(1));
    await nextTick();
    await nextTick();
    channel.send(call(2));
    channel.send(call(3));
    await nextTick();
    await nextTick();
    expect(writes).toHaveLength(2);
    expect(messages(writes).map((m) => (m as { id: number }).id)).toEqual([1, 2, 3]);
  });

  it('sends a burst above 64 KiB without joining it (one writev), still in order', async () => {
    const { stream, writes } = recordingStream();
    const channel = openChannel(stream);
    for (let id = 1; id <= 5; id++) channel.send(call(id, 20_000));
    await nextTick();
    await nextTick();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(5); // the frames as they were, gathered by one writev
    expect(messages(writes).map((m) => (m as { id: number }).id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('close() sends the frames queued in this tick before it ends the stream', async () => {
    const { stream, writes } = recordingStream();
    const channel = openChannel(stream);
    channel.send({ type: 'shutdown', grace_ms: 100 });
    channel.close();
    await nextTick();
    expect(messages(writes)).toEqual([{ type: 'shutdown', grace_ms: 100 }]);
    expect(channel.closed).toBe(true);
  });
});
