import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/transport/codec-json.js';
import { msgpackCodec } from '../../src/transport/codec-msgpack.js';
import { type Codec, UndecodableValue } from '../../src/transport/codec.js';
import { PayloadTooLargeError, SerializationError } from '../../src/errors/errors.js';
import type { CallMessage } from '../../src/protocol/messages.js';
import { RawTag, TAG_KEY } from '../../src/transport/tags.js';
import { NDArray, parsePythonDateTime } from '../../src/transport/extended-values.js';

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
      bytesAfterTags: Buffer.from([9]),
    };
    const back = roundTrip(codec, args);
    expect(Buffer.isBuffer(back['bytesAfterTags'])).toBe(true); // a nested unpack must not turn bins into Uint8Arrays
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

  it('sends a Date as a datetime tag and revives it as a Date', () => {
    const back = roundTrip(codec, { when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), bad: new Date(NaN) });
    expect(back['when']).toBeInstanceOf(Date);
    expect((back['when'] as Date).toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect(Number.isNaN((back['bad'] as Date).getTime())).toBe(true);
  });

  it('sends numeric typed arrays and NDArrays as ndarray tags, dtype and shape intact', () => {
    const back = roundTrip(codec, {
      f64: new Float64Array([1.5, -2, NaN]),
      i32: new Int32Array([1, -2, 3]),
      big: new BigInt64Array([1n, -(2n ** 60n)]),
      matrix: new NDArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
      flags: new NDArray(new Uint8Array([1, 0]), [2], 'bool'),
      bytes: new Uint8Array([7, 8]),
    });
    const f64 = back['f64'] as NDArray;
    expect(f64).toBeInstanceOf(NDArray);
    expect(f64.dtype).toBe('float64');
    expect(f64.shape).toEqual([3]);
    expect(f64.data).toBeInstanceOf(Float64Array);
    expect([...f64.data]).toEqual([1.5, -2, NaN]);
    expect((back['i32'] as NDArray).toArray()).toEqual([1, -2, 3]);
    expect((back['big'] as NDArray).toArray()).toEqual([1, -(2n ** 60n)]);
    const matrix = back['matrix'] as NDArray;
    expect([matrix.dtype, matrix.shape]).toEqual(['float32', [2, 3]]);
    expect(matrix.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect((back['flags'] as NDArray).toArray()).toEqual([true, false]);
    expect(Buffer.isBuffer(back['bytes'])).toBe(true);
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

describe('extended values', () => {
  it('reads Python isoformat text as a Date (naive = UTC, fraction cut to ms)', () => {
    expect(parsePythonDateTime('2024-01-02T03:04:05')!.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(parsePythonDateTime('2024-01-02T03:04:05.123456+02:00')!.toISOString()).toBe(
      '2024-01-02T01:04:05.123Z',
    );
    expect(parsePythonDateTime('2024-01-02 03:04:05.000000001')!.toISOString()).toBe(
      '2024-01-02T03:04:05.000Z',
    );
    expect(Number.isNaN(parsePythonDateTime('NaT')!.getTime())).toBe(true);
    expect(parsePythonDateTime('yesterday')).toBeUndefined();
  });

  it('refuses an NDArray whose shape does not hold its items', () => {
    expect(() => new NDArray(new Float64Array(5), [2, 3])).toThrow(RangeError);
    expect(() => new NDArray(new Float64Array(2), [2], 'int32')).toThrow(RangeError);
  });

  it('leaves a malformed ndarray tag as the map it was', () => {
    const msg: CallMessage = {
      type: 'call',
      id: 1,
      tool: 'echo',
      args: {
        x: new RawTag({ [TAG_KEY]: 'ndarray', dtype: 'float64', shape: [3], data: new Uint8Array(5) }),
      },
    };
    const frame = msgpackCodec.encodeFrame(msg, 1 << 20);
    const back = (msgpackCodec.decode(frame.subarray(4)) as CallMessage).args['x'] as Record<string, unknown>;
    expect(back[TAG_KEY]).toBe('ndarray');
  });
});

describe('values that cannot be decoded, and the msgpack header reader', () => {
  it('reads type and id past values it cannot build, and nothing from garbage', async () => {
    const { readMsgpackHeader } = await import('../../src/transport/msgpack-header.js');
    const { pack } = await import('msgpackr');
    const body = Buffer.concat([
      Buffer.from([0x83]),
      pack('type'),
      pack('result'),
      pack('value'),
      Buffer.from([0xc7, 0x02, 0x53, 0x92, 0x01]), // ext 83 holding msgpack cut short
      pack('id'),
      pack(4242),
    ]);
    expect(readMsgpackHeader(body)).toEqual({ type: 'result', id: 4242 });
    expect(readMsgpackHeader(Buffer.from([0xc1, 0xc1]))).toEqual({});
    expect(() => msgpackCodec.decode(body)).toThrow(UndecodableValue);
    expect(() => msgpackCodec.decode(Buffer.from([0xc1, 0xc1]))).not.toThrow(UndecodableValue);
  });

  it('a JSON frame whose tag cannot be revived names its message', () => {
    const text = '{"tagged":true,"type":"result","id":7,"value":{"__snakepit__":"bytes","attachment":3}}';
    const err = (() => {
      try {
        jsonCodec.decode(Buffer.from(text));
      } catch (e) {
        return e;
      }
      return undefined;
    })() as UndecodableValue;
    expect(err).toBeInstanceOf(UndecodableValue);
    expect([err.type, err.id]).toEqual(['result', 7]);
  });

  it('a map of arbitrary keys from a worker is a PyDict (msgpack), and huge ints travel as hex', async () => {
    const { PyDict } = await import('../../src/transport/container-values.js');
    const { pack } = await import('msgpackr');
    // {"type": "result", "id": 1, "value": {[1, 2]: 3}} as Python's msgpack writes it: an array as a key
    const body = Buffer.concat([
      Buffer.from([0x83]),
      pack('type'),
      pack('result'),
      pack('id'),
      pack(1),
      pack('value'),
      Buffer.from([0x81, 0x92, 0x01, 0x02, 0x03]),
    ]);
    const value = (msgpackCodec.decode(body) as { value: unknown }).value;
    expect(value).toBeInstanceOf(PyDict);
    expect([...(value as Map<unknown, unknown>)]).toEqual([[[1, 2], 3]]);
    const frame = msgpackCodec.encodeFrame(
      { type: 'call', id: 1, tool: 't', args: { n: -(7n ** 9000n) } },
      1 << 26,
    );
    expect(frame.includes(Buffer.from('-0x'))).toBe(true);
    expect((msgpackCodec.decode(frame.subarray(4)) as CallMessage).args['n']).toBe(-(7n ** 9000n));
  });
});
