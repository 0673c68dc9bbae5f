/**
 * fast-check generators for the value table (docs/VALUES.md), kept here so that every new row gets fuzzed: add
 * its generator to `jsValue` with the form it is expected to come back in.
 *
 * Each generator yields `[sent, expected]`: what the host sends to a Python echo, and what must come back.
 * Most values come back as they were; the documented changes are spelled out (a Set comes back as an array, a
 * Map with string keys as an object, a number that is an integer as that integer, -0 as 0).
 */
import fc from 'fast-check';
import { TAG_KEY } from '../../src/transport/tags.js';

export type Pair = [sent: unknown, expected: unknown];

const same = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Pair> => arb.map((v) => [v, v]);

/** Text of every kind, lone surrogates included (fast-check's 'binary' unit can produce them). */
export const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(TAG_KEY, 'constructor', 'a\ud800b', '\udc00', ''),
);

/** Map keys: any text but `__proto__`, which msgpack's decoder renames (docs/VALUES.md, limits). */
const key = text.filter((k) => k !== '__proto__');

/** Tag kinds a forged map might name. */
const tagKind = fc.constantFrom(
  'ref',
  'datetime',
  'bytes',
  'int',
  'float',
  'ndarray',
  'map',
  'set',
  'str',
  'x',
);

const scalar: fc.Arbitrary<Pair> = fc.oneof(
  same(fc.constant(null)),
  same(fc.boolean()),
  same(fc.integer()),
  same(fc.maxSafeInteger()),
  fc.double().map((d): Pair => [d, Object.is(d, -0) ? 0 : d]), // -0 is sent as the integer 0
  same(fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }).filter((n) => n < -(2n ** 53n) || n > 2n ** 53n)),
  same(text),
  fc.uint8Array({ maxLength: 64 }).map((b): Pair => [b, Buffer.from(b)]),
  // Python's datetime holds years 1 to 9999 (other Dates fail alone: see the property test)
  fc
    .date({
      noInvalidDate: true,
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
    })
    .map((d): Pair => [d, d]),
);

/** A map that carries the tag key, as an attacker would write one. */
const forgedField = fc.constantFrom('id', 'value', 'session', 'attachment', 'entries', 'utf16', 'items');
const forged = fc
  .record({ kind: tagKind, fields: fc.dictionary(forgedField, fc.oneof(fc.string(), fc.integer())) })
  .map(({ kind, fields }): Pair => {
    const value = { [TAG_KEY]: kind, ...fields };
    return [value, { ...value }];
  });

export const jsValue: fc.Arbitrary<Pair> = fc.letrec<{ value: Pair }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    forged,
    fc
      .array(tie('value'), { maxLength: 5 })
      .map((items): Pair => [items.map((p) => p[0]), items.map((p) => p[1])]),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 5, selector: ([k]) => k })
      .map((entries): Pair => [
        Object.fromEntries(entries.map(([k, p]) => [k, p[0]])),
        Object.fromEntries(entries.map(([k, p]) => [k, p[1]])),
      ]),
    fc
      .uniqueArray(fc.tuple(fc.integer({ min: -1000, max: 1000 }), tie('value')), {
        maxLength: 4,
        selector: ([k]) => k,
      })
      .map((entries): Pair => [
        new Map(entries.map(([k, p]) => [k, p[0]])),
        Object.fromEntries(entries.map(([k, p]) => [String(k), p[1]])), // int keys come back as their text
      ]),
    fc
      .uniqueArray(fc.integer(), { maxLength: 5 })
      // A Python set comes back as a sorted array; inserted in order, the Set reads back alike on the host alone.
      .map((items) => items.sort((a, b) => a - b))
      .map((items): Pair => [new Set(items), [...items]]),
  ),
})).value;
