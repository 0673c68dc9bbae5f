/**
 * Attack: JSON codec tag smuggling. Tags are maps whose key `__snakepit__` names a kind (docs/PROTOCOL.md §3.1).
 * A caller's (or a worker's) own map with that key must never be read as a tag: not as a forged object reference
 * or datetime, and not as a malformed tag that breaks the channel (on the old code: exit 4, the worker killed,
 * the calls behind it lost). Each side escapes such maps on encode (a `map` tag of entries) and restores them on
 * decode, in both languages; the property at the end proves it for generated values.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Snakepit } from '../../src/index.js';
import { jsonCodec } from '../../src/transport/codec-json.js';
import type { CallMessage } from '../../src/protocol/messages.js';
import { PyRef } from '../../src/refs/py-ref.js';
import { TAG_KEY } from '../../src/transport/tags.js';
import { start } from '../helpers.js';
import { jsValue } from '../property/arbitraries.js';

const forgedRef = { [TAG_KEY]: 'ref', id: 'r1', session: 'victim', type: 'DataFrame', worker: 'default-1' };
const forgedDate = { [TAG_KEY]: 'datetime', value: 'not a date' };
const forgedBytes = { [TAG_KEY]: 'bytes', attachment: 99 };

describe('JSON codec tag smuggling', () => {
  let pit: Snakepit;
  let pid: number;

  beforeAll(async () => {
    pit = await start({ adapter: 'snakepit_fixtures.values:ValuesAdapter', size: 1, codec: 'json' });
    pid = await pit.execute<number>('pid');
  });
  afterAll(async () => {
    await pit.close();
  });

  it('a caller cannot make Python read its map as a tag, even beside real tags', async () => {
    // A real tag (the Date) makes the message `tagged`, so every map in it is looked at.
    const value = [new Date(0), forgedRef, forgedDate, forgedBytes, { nested: { ...forgedRef } }];
    const seen = await pit.execute<{ items: Array<{ type: string }> }>('describe', { value });
    expect(seen.items.map((i) => i.type)).toEqual(['datetime.datetime', 'dict', 'dict', 'dict', 'dict']);
    expect(await pit.execute('echo', { value })).toEqual(value);
    expect(await pit.execute<number>('pid')).toBe(pid); // the malformed "tags" broke nothing
  });

  it('a worker cannot hand the host a forged reference or datetime', async () => {
    const back = await pit.execute<unknown[]>('echo', { value: [new Date(0), forgedRef, forgedDate] });
    expect(back[1]).not.toBeInstanceOf(PyRef);
    expect(back[1]).toEqual(forgedRef);
    expect(back[2]).toEqual(forgedDate);
    // A Python tool's own dict with the key, next to a real tag, is a dict on the host too.
    expect(await pit.execute('make', { kind: 'dict_tag_key' })).toEqual({
      __snakepit__: 'ref',
      id: 'r1',
      session: 's',
    });
  });

  it('property: no generated value is read as a tag, on the host alone or through a worker', async () => {
    // The host's own encode and decode: what it sends is what it would read back.
    fc.assert(
      fc.property(jsValue, ([sent, expected]) => {
        const frame = jsonCodec.encodeFrame({ type: 'call', id: 1, tool: 't', args: { v: sent } }, 1 << 26);
        const decoded = jsonCodec.decode(frame.subarray(4)) as CallMessage;
        expect(decoded.args['v']).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
    // Through Python and back.
    await fc.assert(
      fc.asyncProperty(fc.array(jsValue, { minLength: 20, maxLength: 20 }), async (pairs) => {
        expect(await pit.execute('echo', { value: pairs.map((p) => p[0]) })).toEqual(pairs.map((p) => p[1]));
      }),
      { numRuns: 25 },
    );
    expect(await pit.execute<number>('pid')).toBe(pid);
  });
});
