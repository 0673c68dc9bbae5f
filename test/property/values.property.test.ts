/**
 * Property test of the value table (docs/VALUES.md): fast-check generates JS values of every row (nested maps,
 * arrays, Maps, Sets, bigints, text with lone surrogates, bytes, Dates, maps that carry the tag key); a real
 * Python worker echoes them on each codec. Each comes back exactly as the table says, or its call fails alone
 * with SerializationError; the worker's pid is the same at the end. 2 codecs × 60 runs × 100 values = 12,000
 * values per run of the suite (FC_NUM_RUNS raises it locally). The generators live in ./arbitraries.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerializationError, type Snakepit } from '../../src/index.js';
import { start } from '../helpers.js';
import { jsValue } from './arbitraries.js';
import { expectEchoedAsTheTableSays } from './echo-property.js';

const RUNS = Number(process.env['FC_NUM_RUNS'] ?? 60);

describe.each(['msgpack', 'json'] as const)('value round trips over %s (property)', (codec) => {
  let pit: Snakepit;
  let pid: number;

  beforeAll(async () => {
    pit = await start({ adapter: 'snakepit_fixtures.values:ValuesAdapter', size: 1, codec });
    pid = await pit.execute<number>('pid');
  });
  afterAll(async () => {
    await pit?.close();
  });

  it('every generated value comes back as the table says', { timeout: 300_000 }, async () => {
    await expectEchoedAsTheTableSays(pit, RUNS);
  });

  it('values outside the table fail their own call with SerializationError, the worker stays', async () => {
    const outside = fc.oneof(
      fc.date({ noInvalidDate: true, min: new Date('+010000-01-01T00:00:00Z') }), // beyond Python's datetime
      fc.func(fc.integer()),
      fc.constantFrom(Symbol('s'), Promise.resolve(1), new Error('e'), /re/, new WeakMap()),
      fc.constant(new Map([[{ a: 1 }, 1]])), // a key Python cannot hash
    );
    await fc.assert(
      fc.asyncProperty(outside, fc.array(jsValue, { maxLength: 3 }), async (bad, fine) => {
        const err = await pit
          .execute('echo', { value: [...fine.map((p) => p[0]), bad] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SerializationError);
        // ... and the next call on the same worker is fine.
        expect(await pit.execute('echo', { value: fine.map((p) => p[0]) })).toEqual(fine.map((p) => p[1]));
      }),
      { numRuns: 40 },
    );
    expect(await pit.execute<number>('pid')).toBe(pid);
  });
});
