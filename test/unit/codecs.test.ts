import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { msgpackCodec } from '../../src/transport/codec-msgpack.js';
import type { Codec } from '../../src/transport/codec.js';
import { PayloadTooLargeError, SerializationError } from '../../src/errors/errors.js';
import type { CallMessage } from '../../src/protocol/messages.js';

function roundTrip(codec: Codec, args: Record<string, unknown>): Record<string, unknown> {
  const msg: CallMessage = { type: 'call', id: 1, tool: 'echo', args };
  const frame = codec.encodeFrame(msg, 1 << 24);
  expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
  return (codec.decode(frame.subarray(4)) as CallMessage).args;
}

describe.each([msgpackCodec, jsonCodec])('$name codec', (codec) => {
  it('round-trips the value table', () => {
    const args = {
      nil: null,
      yes: true,
      int: 42,
      neg: -7,
      float: 1.5,
      str: 'héllo ✓',
      bytes: Buffer.from([0, 1, 2, 255]),
      list: [1, 'two', [3]],
      map: { nested: { deep: [true] } },
      big: 2n ** 80n,
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
    };
    const back = roundTrip(codec, args);
    expect(back['nil']).toBeNull();
    expect(back['yes']).toBe(true);
    expect(back['int']).toBe(42);
    expect(back['neg']).toBe(-7);
    expect(back['float']).toBe(1.5);
    expect(back['str']).toBe('héllo ✓');
    expect(Buffer.isBuffer(back['bytes'])).toBe(true);
    expect([...(back['bytes'] as Buffer)]).toEqual([0, 1, 2, 255]);
    expect(back['list']).toEqual([1, 'two', [3]]);
    expect(back['map']).toEqual({ nested: { deep: [true] } });
    expect(back['big']).toBe(2n ** 80n);
    expect(back['nan']).toBeNaN();
    expect(back['inf']).toBe(Infinity);
    expect(back['ninf']).toBe(-Infinity);
  });

  it('drops undefined object fields (an omitted keyword)', () => {
    expect(roundTrip(codec, { a: undefined, b: 1 })).toEqual({ b: 1 });
  });

  it('sends a Date as its ISO string', () => {
    expect(roundTrip(codec, { when: new Date(0) })['when']).toBe('1970-01-01T00:00:00.000Z');
  });

  it('names the path of a function', () => {
    const msg: CallMessage = {
      type: 'call',
      id: 1,
      tool: 'echo',
      args: { rows: [{ ok: 1 }, { bad: () => 1 }] },
    };
    expect(() => codec.encodeFrame(msg, 1 << 20)).toThrow(SerializationError);
    try {
      codec.encodeFrame(msg, 1 << 20);
    } catch (err) {
      expect((err as SerializationError).path).toBe('args.rows[1].bad');
    }
  });

  it('names the path of a cycle', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop['self'] = loop;
    try {
      codec.encodeFrame({ type: 'call', id: 1, tool: 'echo', args: { loop } }, 1 << 20);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SerializationError);
      expect((err as SerializationError).path).toBe('args.loop.self');
    }
  });

  it('refuses a frame over the limit before writing it', () => {
    const msg: CallMessage = { type: 'call', id: 1, tool: 'echo', args: { blob: Buffer.alloc(2048) } };
    expect(() => codec.encodeFrame(msg, 1024)).toThrow(PayloadTooLargeError);
  });
});

describe('JSON codec wire form', () => {
  it('carries bytes as raw attachments, not base64', () => {
    const frame = jsonCodec.encodeFrame(
      { type: 'call', id: 1, tool: 'echo', args: { b: Buffer.from('RAWBYTES') } },
      1 << 20,
    );
    const body = frame.subarray(4);
    expect(body[0]).toBe(0x01);
    expect(body.includes(Buffer.from('RAWBYTES'))).toBe(true);
    expect(body.toString('latin1')).not.toContain(Buffer.from('RAWBYTES').toString('base64'));
  });

  it('marks tagged messages and leaves plain ones as plain JSON', () => {
    const plain = jsonCodec
      .encodeFrame({ type: 'call', id: 1, tool: 't', args: { a: 1 } }, 1 << 20)
      .subarray(4)
      .toString();
    expect(JSON.parse(plain)).toEqual({ type: 'call', id: 1, tool: 't', args: { a: 1 } });
    const tagged = jsonCodec
      .encodeFrame({ type: 'call', id: 1, tool: 't', args: { a: NaN } }, 1 << 20)
      .subarray(4)
      .toString();
    expect(JSON.parse(tagged)).toMatchObject({
      tagged: true,
      args: { a: { __snakepit__: 'float', value: 'NaN' } },
    });
  });
});
