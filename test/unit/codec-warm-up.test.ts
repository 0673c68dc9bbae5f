// The codec warm-up a spawn triggers (src/transport/codec-warm-up.ts) leaves nothing behind: the frames encoded
// and decoded after it are exactly those of a codec that never warmed up.
import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../src/protocol/messages.js';
import { warmUpCodecs, warmUpCodecsSoon } from '../../src/transport/codec-warm-up.js';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { msgpackCodec } from '../../src/transport/codec-msgpack.js';
import { FRAME_HEADER_BYTES } from '../../src/transport/frame-decoder.js';

const CALL = {
  type: 'call',
  id: 7,
  tool: 'add',
  args: { a: 1, b: 2.5, text: 'héllo', list: [1, null, true], nested: { bytes: Buffer.from([1, 2, 3]) } },
} as unknown as HostMessage;

describe('codec warm-up', () => {
  it.each([
    ['msgpack', msgpackCodec],
    ['json', jsonCodec],
  ])('leaves the %s codec encoding and decoding exactly as before', async (_, codec) => {
    const before = codec.encodeFrame(CALL, 1 << 20);
    const decodedBefore = codec.decode(before.subarray(FRAME_HEADER_BYTES));
    warmUpCodecs();
    warmUpCodecsSoon();
    warmUpCodecsSoon(); // once per process: the second does nothing
    await new Promise((resolve) => setImmediate(resolve));
    const after = codec.encodeFrame(CALL, 1 << 20);
    expect(after.equals(before)).toBe(true);
    expect(codec.decode(after.subarray(FRAME_HEADER_BYTES))).toEqual(decodedBefore);
  });
});
