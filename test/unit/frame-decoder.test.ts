import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/transport/frame-decoder.js';
import { ProtocolError } from '../../src/errors/errors.js';

function frame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

function collect(decoder: FrameDecoder, chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const c of chunks) decoder.push(c, (body) => out.push(body.toString()));
  return out;
}

describe('FrameDecoder', () => {
  it('decodes several frames in one chunk', () => {
    const d = new FrameDecoder(1024);
    expect(collect(d, [Buffer.concat([frame('a'), frame('bc'), frame('def')])])).toEqual(['a', 'bc', 'def']);
    expect(d.midFrame).toBe(false);
  });

  it('decodes a frame split at every byte boundary', () => {
    const all = Buffer.concat([frame('hello'), frame('world!')]);
    for (let cut = 1; cut < all.length; cut++) {
      const d = new FrameDecoder(1024);
      expect(collect(d, [all.subarray(0, cut), all.subarray(cut)])).toEqual(['hello', 'world!']);
    }
  });

  it('decodes a frame delivered one byte at a time', () => {
    const all = frame('x'.repeat(300));
    const d = new FrameDecoder(1024);
    const chunks = [...all].map((b) => Buffer.from([b]));
    expect(collect(d, chunks)).toEqual(['x'.repeat(300)]);
  });

  it('gathers a large frame from many chunks', () => {
    const body = Buffer.alloc(1 << 20, 7);
    const all = frame(body);
    const d = new FrameDecoder(2 << 20);
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i += 65536) d.push(all.subarray(i, i + 65536), (b) => got.push(b));
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(body)).toBe(true);
  });

  it('reports being mid-frame', () => {
    const d = new FrameDecoder(1024);
    collect(d, [frame('abc').subarray(0, 5)]);
    expect(d.midFrame).toBe(true);
  });

  it('rejects a zero length', () => {
    const d = new FrameDecoder(1024);
    expect(() => collect(d, [Buffer.from([0, 0, 0, 0])])).toThrow(ProtocolError);
  });

  it('rejects an oversized length before the body arrives', () => {
    const d = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4096);
    expect(() => collect(d, [header])).toThrow(/over the 1024-byte limit/);
  });
});
