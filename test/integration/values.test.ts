/**
 * The value table (docs/VALUES.md), row by row, on both codecs, with real workers: each Python value's JS form,
 * each JS value's Python form, the round trip back through a typed parameter, and the values that have no form
 * failing their own call only (the worker's pid is the same afterwards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerializationError, type Snakepit } from '../../src/index.js';
import { NDArray } from '../../src/transport/extended-values.js';
import { PyDict } from '../../src/index.js';
import { requireOptional, start } from '../helpers.js';
import { execFileSync } from 'node:child_process';

const VALUES = 'snakepit_fixtures.values:ValuesAdapter';

function importable(module: string): boolean {
  try {
    execFileSync('.venv/bin/python', ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

type Described = { type: string; repr?: string; items?: unknown[] };

describe.each(['msgpack', 'json'] as const)('values over %s', (codec) => {
  let pit: Snakepit;
  let pid: number;

  beforeAll(async () => {
    pit = await start({ adapter: VALUES, size: 1, codec });
    pid = await pit.execute<number>('pid');
  });
  afterAll(async () => {
    // No value in this file may have cost the worker its life.
    expect(await pit.execute<number>('pid')).toBe(pid);
    await pit.close();
  });

  const make = (kind: string): Promise<unknown> => pit.execute('make', { kind });
  const describeIt = (value: unknown): Promise<Described> => pit.execute<Described>('describe', { value });

  it('Python scalars: None, bool, int of any size, float with NaN, ±Infinity and -0', async () => {
    expect(await make('none')).toBeNull();
    expect(await make('true')).toBe(true);
    expect(await make('int')).toBe(42);
    expect(await make('int_2_60')).toBe(2n ** 60n);
    expect(await make('int_2_100')).toBe(-(2n ** 100n));
    expect(await make('int_5000_digits')).toBe(7n * 10n ** 4999n);
    expect(await make('float')).toBe(1.5);
    expect(await make('nan')).toBeNaN();
    expect(await make('inf')).toBe(Infinity);
    expect(Object.is(await make('neg_zero'), -0)).toBe(true);
  });

  it('text (lone surrogates too) and bytes of every kind', async () => {
    expect(await make('str')).toBe('héllo ✓');
    expect(await make('lone_surrogate')).toBe('a\ud800b');
    for (const kind of ['bytes', 'bytearray', 'memoryview'])
      expect(Buffer.isBuffer(await make(kind))).toBe(true);
    expect([...((await make('bytes')) as Buffer)]).toEqual([0, 1, 255]);
  });

  it('lists, tuples, sets and dicts by key type', async () => {
    expect(await make('list')).toEqual([1, 'two', [3.5]]);
    expect(await make('tuple')).toEqual([1, 'two']);
    expect(await make('set')).toEqual([1, 2, 3]);
    expect(await make('frozenset')).toEqual(['a', 'b']);
    expect(await make('dict_str_keys')).toEqual({ a: 1, b: [2] });
    expect(await make('dict_int_keys')).toEqual({ 1: 'one', 2: 'two' });
    expect(await make('dict_float_keys')).toEqual({ '1.5': 'x' });
    expect(await make('dict_bool_none_keys')).toEqual({ true: 't', null: 'n' });
    const tuples = (await make('dict_tuple_keys')) as PyDict;
    expect(tuples).toBeInstanceOf(PyDict);
    expect([...tuples]).toEqual([
      [[1, 2], 3],
      [[4, 5], 6],
    ]);
    expect(JSON.stringify(tuples)).toBe('{"[1,2]":3,"[4,5]":6}');
    const bytesKeyed = (await make('dict_bytes_keys')) as PyDict<Buffer, number>;
    expect([...bytesKeyed.keys()][0]).toEqual(Buffer.from('k'));
    const dated = (await make('dict_datetime_keys')) as PyDict<Date, string>;
    expect([...dated.keys()][0]!.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    // A user's dict with the tag key stays a dict (never read as a tag), in both codecs.
    expect(await make('dict_tag_key')).toEqual({ __snakepit__: 'ref', id: 'r1', session: 's' });
  });

  it('dates, times, durations, decimals, fractions, complex, UUIDs, enums, paths', async () => {
    expect(((await make('datetime_naive')) as Date).toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect(((await make('datetime_aware')) as Date).toISOString()).toBe('2024-01-02T01:04:05.000Z');
    expect(await make('date')).toBe('2024-01-02');
    expect(await make('time')).toBe('12:30:15');
    expect(await make('timedelta')).toBe(86402.5);
    expect(await make('decimal')).toBe('1.10');
    expect(await make('fraction')).toBe('1/3');
    expect(await make('complex')).toEqual({ real: 1, imag: -2 });
    expect(await make('uuid')).toBe('12345678-1234-5678-1234-567812345678');
    expect(await make('enum')).toBe('red');
    expect(await make('int_enum')).toBe(2);
    expect(await make('str_enum')).toBe('dark');
    expect(await make('path')).toBe('/tmp/x.txt');
  });

  it('dataclasses, NamedTuples and TypedDicts', async () => {
    expect(await make('dataclass')).toEqual({
      name: 'pen',
      price: '2.50',
      tags: ['office'],
      added: '2024-05-06',
    });
    expect(await make('namedtuple')).toEqual([1, 2]);
    expect(await make('typeddict')).toEqual({ title: 'Alien', year: 1979 });
  });

  it('numpy scalars and arrays of every dtype', async (ctx) => {
    if (!requireOptional(importable('numpy'), 'numpy')) return ctx.skip();
    const out = (await make('numpy')) as Record<string, unknown>;
    expect(out['f64']).toBeInstanceOf(NDArray);
    expect((out['f64'] as NDArray).toArray()).toEqual([[1.5, 2]]);
    expect(JSON.stringify(out['i64'])).toBe(`["${2n ** 60n}"]`); // toJSON: int64 beyond 2^53 as text
    expect((out['bool'] as NDArray).toArray()).toEqual([true, false]);
    expect(out['c128']).toEqual([{ real: 1, imag: 2 }]);
    expect((out['dt64'] as Date[])[0]!.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(out['td64']).toEqual([1.5]);
    expect(out['obj']).toEqual([1, 'a', null]);
    expect(out['str']).toEqual(['x', 'yz']);
    expect(out['rec']).toEqual([{ a: 1, b: 2.5 }]);
    expect(out['scalars']).toEqual([7, 0.5, true, null, 's']);
  });

  it('pandas DataFrame, Series, Index, Timestamp, NaT, Categorical, and a groupby result', async (ctx) => {
    if (!requireOptional(importable('pandas'), 'pandas')) return ctx.skip();
    const out = (await make('pandas')) as Record<string, unknown>;
    const frame = out['frame'] as Array<Record<string, unknown>>;
    expect(frame[0]!['a']).toBe(1);
    expect((frame[1]!['when'] as Date).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect((out['series'] as NDArray).toArray()).toEqual([1.5, 2.5]);
    expect(out['labelled']).toEqual({ x: 1, y: 2 });
    expect(out['index']).toEqual(['p', 'q']);
    expect((out['timestamp'] as Date).toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(Number.isNaN((out['nat'] as Date).getTime())).toBe(true);
    expect(out['categorical']).toEqual(['lo', 'hi', 'lo']);
    const grouped = ((await make('groupby')) as { groupby: PyDict })['groupby'];
    expect([...grouped]).toEqual([
      [[1, 1], 10],
      [[1, 2], 20],
      [[2, 2], 30],
    ]);
  });

  it('JS values reach Python as the table says', async () => {
    const typeOf = async (value: unknown): Promise<string> => (await describeIt(value)).type;
    expect(await typeOf(new Map<unknown, unknown>([[[1, 2], 'x']]))).toBe('dict');
    expect((await describeIt(new Map<unknown, unknown>([[[1, 2], 'x']]))).items).toEqual([
      [
        {
          type: 'tuple',
          items: [
            { type: 'int', repr: '1' },
            { type: 'int', repr: '2' },
          ],
        },
        { type: 'str', repr: "'x'" },
      ],
    ]);
    expect(await typeOf(new Set([1, 2]))).toBe('set');
    expect(await typeOf(new Date(0))).toBe('datetime.datetime');
    expect(await typeOf(new Date(NaN))).toBe('NoneType');
    expect(await typeOf(new Float64Array(2))).toBe('numpy.ndarray');
    expect(await typeOf(new Uint8Array(2))).toBe('bytes');
    expect(await typeOf(new DataView(new ArrayBuffer(2)))).toBe('bytes');
    expect(await typeOf(new ArrayBuffer(2))).toBe('bytes');
    expect(await typeOf(new SharedArrayBuffer(2))).toBe('bytes');
    expect((await describeIt(7n * 10n ** 5000n)).type).toBe('int');
    expect((await describeIt('a\ud800b')).repr).toBe("'a\\ud800b'");
    expect(
      await typeOf(
        new (class Point {
          x = 1;
        })(),
      ),
    ).toBe('dict');
    expect(await typeOf({ toJSON: () => 'x', y: 1 })).toBe('str'); // toJSON decides, as in JSON.stringify
    const withTagKey = await describeIt({ __snakepit__: 'datetime', value: 'garbage' });
    expect(withTagKey.type).toBe('dict');
  });

  it('JS values with no Python form fail their own call with SerializationError naming the path', async () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) deep = deep['a'] = {};
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const cases: Array<[unknown, RegExp]> = [
      [cycle, /cycle: args\.value\.self/],
      [() => 1, /args\.value/],
      [Symbol('s'), /args\.value/],
      [Promise.resolve(1), /Promise has no Python form/],
      [new Error('x'), /Error has no Python form/],
      [/x/, /RegExp has no Python form/],
      [new WeakMap(), /WeakMap/],
      [root, /nested more than/],
      [
        {
          get bad() {
            throw new Error('nope');
          },
        },
        /args\.value\.bad/,
      ],
      [new Proxy({}, { ownKeys: () => { throw new Error('trap'); } }), /threw/], // prettier-ignore
      [new Set([{ a: 1 }]), /Set item|cannot be decoded/],
    ];
    for (const [value, message] of cases) {
      const err = await describeIt(value).catch((e: unknown) => e);
      expect(err, String(message)).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toMatch(message);
    }
    const mapKey = await describeIt(new Map([[{ a: 1 }, 2]])).catch((e: unknown) => e);
    expect(mapKey).toBeInstanceOf(SerializationError);
    expect((mapKey as SerializationError).path).toMatch(/^args\.value/);
  });

  it('a result frame the host cannot decode fails its call alone; the worker stays up', async () => {
    const err = await pit.execute('undecodable_result').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toMatch(/cannot be decoded/);
    expect(await pit.execute<number>('pid')).toBe(pid);
    expect(await make('int')).toBe(42);
  });

  it('a Python value with no form fails alone; graceful mode (per call and per pool) sends a marker', async () => {
    const err = (await make('nested_opaque').catch((e: unknown) => e)) as SerializationError;
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.path).toBe('result.bad[0]');
    expect(await pit.execute('make', { kind: 'nested_opaque' }, { graceful: true })).toEqual({
      ok: 1,
      bad: [{ __ffi_unserializable__: true, __type__: 'snakepit_fixtures.values.Opaque' }],
    });
    expect(await pit.execute('make', { kind: 'opaque' }, { graceful: { repr: true } })).toEqual({
      __ffi_unserializable__: true,
      __type__: 'snakepit_fixtures.values.Opaque',
      __repr__: 'Opaque()',
    });
    const graceful = await start({ adapter: VALUES, size: 1, codec, graceful: true });
    try {
      expect(await graceful.execute('make', { kind: 'opaque' })).toMatchObject({
        __ffi_unserializable__: true,
      });
      await expect(graceful.execute('make', { kind: 'opaque' }, { graceful: false })).rejects.toBeInstanceOf(
        SerializationError,
      );
    } finally {
      await graceful.close();
    }
  });

  it('each value sent back to a parameter typed with its Python type arrives as that type', async () => {
    const back = async (kind: string): Promise<unknown> => make(kind);
    const got = await pit.execute<Record<string, Described>>('typed', {
      when: await back('datetime_aware'),
      day: await back('date'),
      at: await back('time'),
      span: await back('timedelta'),
      amount: await back('decimal'),
      ratio: await back('fraction'),
      z: await back('complex'),
      uid: await back('uuid'),
      color: await back('enum'),
      level: await back('int_enum'),
      mode: 'b',
      path: await back('path'),
      item: await back('dataclass'),
      point: await back('namedtuple'),
      movie: await back('typeddict'),
      tags: await back('frozenset'),
      frozen: [2, 1],
      pair: await back('tuple'),
      by_pair: await back('dict_tuple_keys'),
      by_int: await back('dict_int_keys'),
      blob: await back('bytes'),
    });
    const types = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.type]));
    expect(types).toEqual({
      when: 'datetime.datetime',
      day: 'datetime.date',
      at: 'datetime.time',
      span: 'datetime.timedelta',
      amount: 'decimal.Decimal',
      ratio: 'fractions.Fraction',
      z: 'complex',
      uid: 'uuid.UUID',
      color: 'snakepit_fixtures.values.Color',
      level: 'snakepit_fixtures.values.Level',
      mode: 'str',
      path: 'pathlib.PurePosixPath',
      item: 'snakepit_fixtures.values.Item',
      point: 'snakepit_fixtures.values.Point',
      movie: 'dict',
      tags: 'set',
      frozen: 'frozenset',
      pair: 'tuple',
      by_pair: 'dict',
      by_int: 'dict',
      blob: 'bytes',
    });
    expect(got['amount']!.repr).toBe("Decimal('1.10')");
    expect(got['by_pair']!.items![0]).toEqual([
      {
        type: 'tuple',
        items: [
          { type: 'int', repr: '1' },
          { type: 'int', repr: '2' },
        ],
      },
      { type: 'int', repr: '3' },
    ]);
    expect((got['by_int']!.items![0] as Described[])[0]).toEqual({ type: 'int', repr: '1' });
    // A value that does not convert is refused before the tool runs, naming the argument.
    await expect(pit.execute('typed', { day: 'not a date' })).rejects.toThrow(/argument day/);
  });

  it('pydantic models (v2 and v1) as results and as typed parameters', async (ctx) => {
    if (!requireOptional(importable('pydantic'), 'pydantic')) return ctx.skip();
    const models = await start({
      adapter: 'snakepit_fixtures.pydantic_tools:PydanticAdapter',
      size: 1,
      codec,
    });
    try {
      const both = await models.execute<Record<string, Record<string, unknown>>>('both');
      expect(both).toEqual({
        order: { item: 'pen', when: '2024-01-02', qty: 1 },
        legacy: { item: 'ink', qty: 2 },
      });
      const placed = await models.execute<Record<string, unknown>>('place', both);
      expect(placed['when']).toBe('2024-01-02');
      expect((placed['order'] as Described).type).toBe('snakepit_fixtures.pydantic_tools.Order');
      expect((placed['legacy'] as Described).type).toBe('snakepit_fixtures.pydantic_tools.LegacyOrder');
      const schema = models.describe().find((t) => t.name === 'place')!.inputSchema as {
        properties: Record<string, { properties?: object }>;
      };
      expect(Object.keys(schema.properties['order']!.properties!)).toEqual(['item', 'when', 'qty']);
    } finally {
      await models.close();
    }
  });
});

describe('Snakepit-style adapters', () => {
  it('start and work unchanged: @tool(required_variables=...), call_elixir_tool with a dict, dates and Decimals', async () => {
    const pit = await start({ adapter: 'snakepit_fixtures.snakepit_style:SnakepitStyleAdapter', size: 1 });
    try {
      pit.tools.register('lookup', (args) => `value of ${String(args['key'])}`, {
        description: 'look a key up',
      });
      expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
      expect(await pit.execute('search', { query: 'q' })).toEqual({
        results: [],
        query: 'q',
        limit: 10,
        at: '2024-01-02',
        price: '9.99',
      });
      expect(await pit.execute('ask_host', { key: 'k' })).toBe('value of k');
      const tools = await pit.execute<Array<{ name: string; metadata: object }>>('my_tools');
      expect(tools.find((t) => t.name === 'search')!.metadata).toEqual({ required_variables: ['api_key'] });
      expect(pit.describe().find((t) => t.name === 'search')).toMatchObject({
        metadata: { required_variables: ['api_key'] },
      });
    } finally {
      await pit.close();
    }
  });
});

describe('value classes and JSON.stringify', () => {
  it('NDArray, PyDict and Date-keyed dicts stringify without throwing', () => {
    const big = new NDArray(new BigInt64Array([1n, 2n ** 60n]), [2]);
    expect(JSON.stringify(big)).toBe(`[1,"${2n ** 60n}"]`);
    expect(JSON.stringify(new NDArray(new Float64Array([1, 2, 3, 4]), [2, 2]))).toBe('[[1,2],[3,4]]');
    const dict = new PyDict<unknown, number>([
      [[1, 2], 3],
      [new Date(0), 4],
      [Buffer.from('k'), 5],
      [7, 6],
    ]);
    expect(JSON.parse(JSON.stringify(dict))).toEqual({
      '[1,2]': 3,
      '1970-01-01T00:00:00.000Z': 4,
      'aw==': 5,
      '7': 6,
    });
  });
});
