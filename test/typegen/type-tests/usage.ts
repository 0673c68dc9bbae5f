/**
 * Type tests of a generated client: test/typegen/types.test.ts writes the client next to this file and runs
 * `tsc --strict` on both. Each `@ts-expect-error` must meet an error (tsc fails on an unused one), so a wrong
 * argument or a misspelled tool that compiled would fail the test; `expectTypeOf` pins the result types.
 */
import type { NDArray, PyDict, PyRef, PyValue, Snakepit } from 'snakepit';
import { expectTypeOf } from 'vitest';
import { type Color, type Label, type Order, typed } from './index.js';

declare const pit: Snakepit;
const api = typed(pit, { timeoutMs: 5000 });
const { tools, py } = api;

export async function adapterTools(): Promise<void> {
  expectTypeOf(tools.classify({ text: 'good' })).toEqualTypeOf<Promise<Label>>();
  expectTypeOf(await tools.classify({ text: 'good', top: 2 }, { timeoutMs: 100 })).toEqualTypeOf<Label>();
  expectTypeOf(await tools.scale({ values: [1, 2] })).toEqualTypeOf<number[]>();
  expectTypeOf(tools.count({ n: 3 })).toEqualTypeOf<AsyncIterableIterator<Record<string, number>>>();
  for await (const chunk of tools.ticks()) expectTypeOf(chunk).toEqualTypeOf<number>();
  expectTypeOf(await tools.paint({ color: 'red' })).toEqualTypeOf<Color>();
  expectTypeOf(await tools.when()).toEqualTypeOf<Date>();
  expectTypeOf(await tools.today()).toEqualTypeOf<string>();
  expectTypeOf(await tools.order({ order: { item: 'tea' } })).toEqualTypeOf<Order>();
  expectTypeOf(await tools.grid()).toEqualTypeOf<PyDict<[number, number], string>>();
  expectTypeOf(await tools.digest({ data: new Uint8Array([1]) })).toEqualTypeOf<Buffer>();
  expectTypeOf(await tools.huge({ exponent: 60 })).toEqualTypeOf<number | bigint>();
  expectTypeOf(await tools.point({ p: [1, 2] })).toEqualTypeOf<[number, number]>();
  await tools.point({ p: { x: 1, y: 2 } });
  await tools.book({ day: '2024-01-02', when: new Date(), seats: new Set([1, 2]), price: '1.10' });
  await tools.book({ day: new Date(), when: '2024-01-02T03:04:05Z', seats: [1, 2n], price: 2 });
  const model = await api.session('s').tools.load();
  expectTypeOf(model).toEqualTypeOf<PyRef<'snakepit_fixtures.typegen_adapter.Model'>>();
  expectTypeOf(await tools.predict({ model, text: 'hi' })).toEqualTypeOf<string>();
  expectTypeOf(await tools.anything({ value: 1, extra: true })).toEqualTypeOf<PyValue>();

  // @ts-expect-error a misspelled tool does not exist
  await tools.clasify({ text: 'good' });
  // @ts-expect-error a wrong argument type
  await tools.classify({ text: 42 });
  // @ts-expect-error a required argument is missing
  await tools.classify({});
  // @ts-expect-error an argument the tool does not take
  await tools.classify({ text: 'x', topp: 1 });
  // @ts-expect-error a value outside a Literal / Enum
  await tools.paint({ color: 'blue' });
  // @ts-expect-error a reference to another class
  await tools.predict({ model: {} as PyRef<'other.Thing'>, text: 'x' });
}

export async function libraries(): Promise<void> {
  expectTypeOf(py.math.sqrt(16)).toEqualTypeOf<Promise<number>>();
  expectTypeOf(await py.math.log(8, 2)).toEqualTypeOf<number>();
  expectTypeOf(await py.math.hypot([3, 4])).toEqualTypeOf<number>();
  expectTypeOf(await py.math.isclose(1, 1.0000001, { rel_tol: 1e-3 })).toEqualTypeOf<boolean>();
  expectTypeOf(await py.statistics.mean([1, 2, 3])).toEqualTypeOf<number>();
  expectTypeOf(await py.statistics.quantiles([1, 2, 3, 4], { n: 4 })).toEqualTypeOf<number[]>();
  expectTypeOf(await py.json.dumps({ a: 1 }, { indent: 2, sort_keys: true })).toEqualTypeOf<string>();
  expectTypeOf(await py.json.loads('{"a": 1}')).toEqualTypeOf<PyValue>(); // typeshed says Any
  expectTypeOf(await py.numpy.mean([1, 2, 3, 4])).toEqualTypeOf<number>();
  expectTypeOf(await py.numpy.mean(new Float64Array([1, 2]))).toEqualTypeOf<number>();
  expectTypeOf(
    await py.numpy.std([
      [1, 2],
      [3, 4],
    ]),
  ).toEqualTypeOf<number>();
  expectTypeOf(await py.numpy.ones([2, 3])).toEqualTypeOf<NDArray>();
  expectTypeOf(await py.numpy.arange(5)).toEqualTypeOf<NDArray>();
  expectTypeOf(await py.numpy.dot([1, 2], [3, 4])).toEqualTypeOf<PyValue>(); // numpy's stub says Any
  expectTypeOf(await py.lib.area(2, { height: 3, rounded: true })).toEqualTypeOf<number>();
  expectTypeOf(await py.lib.total([1, 2, 3], { start: 1 })).toEqualTypeOf<number>();
  expectTypeOf(await py.lib.span(1, 3)).toEqualTypeOf<{ start: number; end: number }>();
  expectTypeOf(py.lib.countdown(3)).toEqualTypeOf<AsyncIterableIterator<number>>();
  expectTypeOf(await py.lib.weekday(new Date())).toEqualTypeOf<number>();
  expectTypeOf(await py.lib.find(['a'], 'a')).toEqualTypeOf<number | null>();
  expectTypeOf(await py.lib.Box(2)).toMatchTypeOf<{ width: number; label: string }>();

  // @ts-expect-error a misspelled function
  await py.math.sqr(16);
  // @ts-expect-error a library that is not configured
  await py.os.system('true');
  // @ts-expect-error a function of math that the config does not list
  await py.math.cos(0);
  // @ts-expect-error a wrong argument type
  await py.math.sqrt('16');
  // @ts-expect-error text is not an array of numbers
  await py.numpy.mean('1 2 3');
  // @ts-expect-error a misspelled keyword argument
  await py.lib.area(2, { heigth: 3 });
  // @ts-expect-error a keyword-only argument given positionally
  await py.lib.area(2, 3);
  // @ts-expect-error a library function does not turn ISO text into a date
  await py.lib.weekday('2024-01-02');
}
