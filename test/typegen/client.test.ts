/**
 * The generated client against real workers: every tool of the fixture adapter and every library function the
 * type test uses is called through `typed(pit)` with the argument forms its types allow, and what arrives is
 * what its types say (docs/TYPES.md, row by row). The client is generated into a temporary directory and
 * imported as a user would import it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentsError,
  NDArray,
  PyDict,
  PyRef,
  Snakepit,
  generateTypes,
  typedClient,
} from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { requireOptional } from '../helpers.js';
import { FULL_CONFIG } from './typegen-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC_INDEX = join(HERE, '..', '..', 'src', 'index.ts');
const imports = (module: string): boolean =>
  spawnSync(resolvePython(undefined).executable, ['-c', `import ${module}`], { stdio: 'ignore' }).status ===
  0;
const HAS_NUMPY = imports('numpy');
const HAS_MYPY = imports('mypy'); // its bundled typeshed gives math.log its (x, base) signature

// The generated module's own types are checked by types.test.ts; here it is plain JavaScript.
type AnyFn = (...args: unknown[]) => Promise<unknown> & AsyncIterable<unknown>;
type Client = {
  tools: Record<string, AnyFn>;
  py: Record<string, Record<string, AnyFn>>;
  session(id: string): Client;
};

let pit: Snakepit;
let api: Client;
let dir: string;

beforeAll(async () => {
  const config = HAS_NUMPY
    ? FULL_CONFIG
    : {
        pools: [
          {
            ...FULL_CONFIG.pools![0]!,
            libraries: FULL_CONFIG.pools![0]!.libraries!.filter((l) => l.name !== 'numpy'),
          },
        ],
      };
  dir = mkdtempSync(join(HERE, 'out-'));
  await generateTypes(config, { outDir: dir, importFrom: pathToFileURL(SRC_INDEX).href });
  pit = await Snakepit.start({ ...config, pools: [{ ...config.pools![0]!, size: 1 }], logger: false });
  const generated = (await import(pathToFileURL(join(dir, 'index.js')).href)) as {
    typed(p: Snakepit, d?: object): Client;
  };
  api = generated.typed(pit);
}, 120_000);

afterAll(async () => {
  await pit?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('a generated client, called on a real worker', () => {
  it('adapter tools: results arrive as their types say', async () => {
    const t = api.tools;
    expect(await t['classify']!({ text: 'good day', top: 5 })).toEqual({ label: 'positive', score: 1 });
    expect(await t['scale']!({ values: [1, 2.5] }, { timeoutMs: 5000 })).toEqual([2, 5]);
    expect(await collect(t['count']!({ n: 3 }))).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(await collect(t['ticks']!())).toEqual([0, 1]);
    expect(await t['paint']!({ color: 'green' })).toBe('green');
    expect(await t['when']!()).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(await t['today']!()).toBe('2024-01-02');
    expect(await t['order']!({ order: { item: 'tea' } })).toEqual({ item: 'tea', quantity: 2, tags: [] });
    expect(await t['point']!({ p: [1, 2] })).toEqual([2, 3]);
    expect(await t['point']!({ p: { x: 1, y: 2 } })).toEqual([2, 3]);
    const grid = await t['grid']!();
    expect(grid).toBeInstanceOf(PyDict);
    expect([...(grid as PyDict).entries()]).toEqual([
      [[0, 0], 'a'],
      [[0, 1], 'b'],
    ]);
    expect(await t['histogram']!({ counts: { 1: 5 } })).toEqual({ 2: 5 });
    expect(await t['histogram']!({ counts: new Map([[3, 1]]) })).toEqual({ 6: 1 });
    const digest = await t['digest']!({ data: new Uint8Array([1, 2, 3]) });
    expect(Buffer.isBuffer(digest) && [...(digest as Buffer)]).toEqual([3, 2, 1]);
    expect(await t['huge']!({ exponent: 60 })).toBe(2n ** 60n);
    expect(await t['huge']!({ exponent: 10 })).toBe(1024);
    expect(await t['maybe']!()).toBeNull();
    expect(await t['maybe']!({ value: 'abc' })).toBe(3);
    expect(await t['pair']!({ a: 1n, b: 'x' })).toEqual([1, 'x']);
    expect(await t['measure']!({ width: 2 })).toBe(2);
    expect(await t['anything']!({ value: 1, extra: true })).toEqual({ value: 1, options: { extra: true } });
  });

  it('typed parameters take every form their types allow (ISO text or Date, Set or array, text or number)', async () => {
    const a = await api.tools['book']!({
      day: '2024-01-01',
      when: new Date('2024-01-01T05:00:00Z'),
      seats: new Set([3, 1]),
      price: '1.10',
    });
    const b = await api.tools['book']!({
      day: new Date('2024-01-01T00:00:00Z'),
      when: '2024-01-01T05:00:00Z',
      seats: [3, 1n],
      price: 1.1,
    });
    expect(a).toEqual({ day: '2024-01-01', weekday: 0, hour: 5, seats: [1, 3], price: '2.20' });
    expect(b).toEqual({ ...(a as object), price: '2.2' }); // a Decimal from a number: its shortest text
  });

  it('a class that stays in the worker is a PyRef in a session, and goes back as the object', async () => {
    const s = api.session('typed-s1');
    const model = await s.tools['load']!();
    expect(model).toBeInstanceOf(PyRef);
    expect((model as PyRef).type).toBe('Model');
    expect(await s.tools['predict']!({ model, text: 'hi' })).toBe('HI');
  });

  it('library functions: positional arguments, *args as an array, keyword arguments, streams', async () => {
    const lib = api.py['lib']!;
    expect(await lib['area']!(2, { height: 3, rounded: true })).toBe(6);
    expect(await lib['area']!(2)).toBe(2);
    expect(await lib['total']!([1, 2, 3], { start: 1 })).toBe(7);
    expect(await lib['total']!()).toBe(0);
    expect(await lib['span']!(1, 3)).toEqual({ start: 1, end: 3 });
    expect(await collect(lib['countdown']!(3))).toEqual([3, 2, 1]);
    expect(await lib['weekday']!(new Date('2024-01-01T12:00:00Z'))).toBe(0);
    expect(await lib['find']!(['a', 'b'], 'b')).toBe(1);
    expect(await lib['find']!([], 'x', { default: -1 })).toBe(-1);
    expect(await lib['Box']!(2)).toEqual({ width: 2, label: 'box' });
  });

  it('math, statistics and json through their typeshed types', async () => {
    if (!requireOptional(HAS_MYPY, "mypy (typeshed's stubs)")) return;
    const { math, statistics, json } = api.py as Record<string, Record<string, AnyFn>>;
    expect(await math!['sqrt']!(16)).toBe(4);
    expect(await math!['log']!(8, 2)).toBe(3);
    expect(await math!['hypot']!([3, 4])).toBe(5);
    expect(await math!['floor']!(2.5)).toBe(2);
    expect(await math!['isclose']!(1, 1.0000001, { rel_tol: 1e-3 })).toBe(true);
    expect(await statistics!['mean']!([1, 2, 3, 4])).toBe(2.5);
    expect(await statistics!['quantiles']!([1, 2, 3, 4], { n: 2 })).toEqual([2.5]);
    expect(await json!['dumps']!({ b: 1, a: [1] }, { sort_keys: true })).toBe('{"a": [1], "b": 1}');
    expect(await json!['loads']!('{"a": 1}')).toEqual({ a: 1 });
  });

  it('numpy: arrays in, numbers and NDArrays out', async () => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return;
    const numpy = api.py['numpy']!;
    expect(await numpy['mean']!([1, 2, 3, 4])).toBe(2.5);
    expect(await numpy['mean']!(new Float64Array([1, 3]))).toBe(2);
    expect(
      await numpy['mean']!(
        [
          [1, 2],
          [3, 5],
        ],
        { axis: 0 },
      ),
    ).toEqual(new NDArray(new Float64Array([2, 3.5]), [2]));
    const ones = await numpy['ones']!([2, 3]);
    expect(ones).toBeInstanceOf(NDArray);
    expect((ones as NDArray).shape).toEqual([2, 3]);
    expect(((await numpy['arange']!(3)) as NDArray).toArray()).toEqual([0, 1, 2]);
  });

  it('a JavaScript caller that ignores the types gets InvalidArgumentsError, not a confused call', async () => {
    const area = api.py['lib']!['area']!;
    expect(() => area(1, {}, {}, 'extra')).toThrow(InvalidArgumentsError);
    expect(() => area(1, [2])).toThrow(/keyword arguments\) must be an object/);
    expect(() => api.py['lib']!['total']!(5)).toThrow(/must be an array/);
    expect(() => api.session('')).toThrow(InvalidArgumentsError);
    expect(() => typedClient(pit, { version: 2 } as never)).toThrow(
      /regenerate it with `npx snakepit types`/,
    );
  });
});
