// Snakepit's value conventions (src/interop/snakepit-values.ts), both ways.
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../src/errors/errors.js';
import {
  decodeAny,
  decodeChunkData,
  encodeParameters,
  errorInfoFromJson,
  resultAny,
  STRING_VALUE_URL,
  toJson,
} from '../../src/interop/snakepit-values.js';

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
