// Pure pieces of the gRPC transports against fakes: the byte stream's batching and splitting, Snakepit's value
// conventions both ways, and the adapter-name comparison.
import { describe, expect, it } from 'vitest';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { SerializationError } from '../../src/errors/errors.js';
import type { ChannelInMessage, ChannelOutMessage } from '../../src/remote/grpc-proto.js';
import { GrpcByteStream, MAX_MESSAGE_BYTES } from '../../src/remote/grpc-stream.js';
import {
  decodeAny,
  decodeChunkData,
  encodeParameters,
  errorInfoFromJson,
  resultAny,
  STRING_VALUE_URL,
  toJson,
} from '../../src/interop/snakepit-values.js';
import { sameAdapter } from '../../src/remote/remote-link.js';

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

describe("Snakepit's value conventions", () => {
  it('parameters: JSON in Any, top-level bytes as binary parameters', () => {
    const { parameters, binary_parameters } = encodeParameters({
      n: 1.5,
      s: 'x',
      nested: { b: Buffer.from([1, 2]), when: new Date('2024-01-02T03:04:05.000Z'), big: 2n ** 70n },
      raw: Buffer.from([0, 255]),
    });
    expect(parameters['n']).toEqual({ type_url: STRING_VALUE_URL, value: Buffer.from('1.5') });
    expect(JSON.parse(parameters['nested']!.value.toString())).toEqual({
      b: 'AQI=',
      when: '2024-01-02T03:04:05.000Z',
      big: '1180591620717411303424',
    });
    expect(binary_parameters).toEqual({ raw: Buffer.from([0, 255]) });
    expect(() => toJson({ f: () => 1 }, 'args')).toThrow(SerializationError);
  });

  it('results: tagged type_url; decoded whatever the type_url, packed StringValue too', () => {
    expect(resultAny({ a: 1 }, 'r').type_url).toBe('type.googleapis.com/snakepit.map');
    expect(resultAny([1], 'r').type_url).toBe('type.googleapis.com/snakepit.list');
    expect(resultAny(3, 'r').type_url).toBe('type.googleapis.com/snakepit.float');
    expect(resultAny(true, 'r').type_url).toBe('type.googleapis.com/snakepit.boolean');
    expect(resultAny('s', 'r').type_url).toBe('type.googleapis.com/snakepit.string');
    expect(decodeAny({ type_url: 'anything', value: Buffer.from('{"k":[1,2]}') })).toEqual({ k: [1, 2] });
    const text = '{"v":1}';
    const packed = Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text)]);
    expect(decodeAny({ type_url: STRING_VALUE_URL, value: packed })).toEqual({ v: 1 });
    expect(decodeAny(null)).toBeNull();
    expect(() => decodeAny({ type_url: 'x', value: Buffer.from([0xff, 0x00]) })).toThrow();
  });

  it('chunks: by encoding when given, else JSON, else text, else bytes', () => {
    expect(decodeChunkData(Buffer.from('{"i":1}'), 'json')).toEqual({ i: 1 });
    expect(decodeChunkData(Buffer.from('123'), 'utf8')).toBe('123');
    expect(decodeChunkData(Buffer.from([0, 1]), 'raw')).toEqual(Buffer.from([0, 1]));
    expect(decodeChunkData(Buffer.from('[1]'), undefined)).toEqual([1]);
    expect(decodeChunkData(Buffer.from('plain words'), undefined)).toBe('plain words');
    expect(decodeChunkData(Buffer.from([0xff, 0xfe]), undefined)).toEqual(Buffer.from([0xff, 0xfe]));
  });

  it('errors: the error JSON (with snakepit context) or plain text', () => {
    const info = errorInfoFromJson(
      JSON.stringify({
        type: 'UnknownToolError',
        message: 'no tool',
        traceback: '',
        context: { kind: 'unknown_tool', details: { available: ['a'] } },
      }),
      't',
    );
    expect(info).toMatchObject({
      kind: 'unknown_tool',
      type: 'UnknownToolError',
      details: { available: ['a'] },
    });
    const foreign = errorInfoFromJson(
      JSON.stringify({ type: 'ValueError', message: 'bad', stacktrace: 'tb' }),
      't',
    );
    expect(foreign).toMatchObject({
      kind: 'python',
      type: 'ValueError',
      mro: ['ValueError'],
      traceback: 'tb',
    });
    expect(errorInfoFromJson('it broke', 't')).toMatchObject({
      kind: 'python',
      type: 'RemoteError',
      message: 'it broke',
    });
  });
});

describe('sameAdapter', () => {
  it('treats module:Class and module.Class as one', () => {
    expect(sameAdapter('a.b:C', 'a.b:C')).toBe(true);
    expect(sameAdapter('a.b.C', 'a.b:C')).toBe(true);
    expect(sameAdapter('a.b:C', 'a.b:D')).toBe(false);
    expect(sameAdapter('a.b:C', undefined)).toBe(false);
  });
});
