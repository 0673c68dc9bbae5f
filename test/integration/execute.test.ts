// The foundation, end to end with real Python workers, once per codec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  CallTimeoutError,
  InvalidArgumentsError,
  PythonError,
  PythonKeyError,
  PythonValueError,
  PythonZeroDivisionError,
  SerializationError,
  type Snakepit,
  UnknownToolError,
} from '../../src/index.js';
import { start } from '../helpers.js';

describe.each(['msgpack', 'json'] as const)('execute over %s', (codec) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await start({ size: 2, codec });
  });
  afterAll(() => pit?.close());

  it('negotiates the codec', () => {
    expect(pit.workers().map((w) => w.codec)).toEqual([codec, codec]);
  });

  it('returns results of every basic type', async () => {
    const value = {
      int: 42,
      negative: -3,
      float: 2.5,
      str: 'snake ✓ 🐍',
      yes: true,
      no: false,
      nothing: null,
      nested: { list: [1, [2, [3, { deep: 'x' }]]], empty: {}, emptyList: [] },
      bytes: Buffer.from([0, 1, 2, 250, 255]),
      big: 2n ** 70n,
    };
    const result = (await pit.execute('echo', value)) as Record<string, unknown>;
    expect(result).toEqual({ ...value, bytes: expect.any(Buffer) });
    expect([...(result['bytes'] as Buffer)]).toEqual([0, 1, 2, 250, 255]);
    expect(await pit.execute('add', { a: 2, b: 3 })).toBe(5);
    expect(await pit.execute('add', { a: 0.5, b: 0.25 })).toBe(0.75);
  });

  it('carries 1 MiB of bytes both ways', async () => {
    const blob = Buffer.alloc(1 << 20);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
    const back = (await pit.execute('echo', { blob })) as { blob: Buffer };
    expect(back.blob.equals(blob)).toBe(true);
  });

  it.each([
    ['ValueError', PythonValueError],
    ['KeyError', PythonKeyError],
    ['ZeroDivisionError', PythonZeroDivisionError],
    ['TypeError', PythonError],
    ['IndexError', PythonError],
    ['AttributeError', PythonError],
    ['RuntimeError', PythonError],
    ['FileNotFoundError', PythonError],
  ])('translates a Python %s with its traceback', async (errorType, ctor) => {
    const err = (await pit
      .execute('error_demo', { error_type: errorType, message: 'it broke' })
      .catch((e: unknown) => e)) as PythonError;
    expect(err).toBeInstanceOf(ctor);
    expect(err).toBeInstanceOf(PythonError);
    expect(err.pythonType).toBe(errorType);
    expect(err.message).toContain('it broke');
    expect(err.traceback).toContain('Traceback (most recent call last)');
    expect(err.traceback).toContain('error_demo');
    expect(err.workerId).toMatch(/^default-\d+$/);
    expect(err.stack).toContain('execute.test.ts');
  });

  it('names the tools that exist when the tool does not', async () => {
    const err = (await pit.execute('no_such_tool').catch((e: unknown) => e)) as UnknownToolError;
    expect(err).toBeInstanceOf(UnknownToolError);
    expect(err.available).toEqual(
      expect.arrayContaining(['ping', 'echo', 'add', 'error_demo', 'sleep', 'count']),
    );
  });

  it('names the expected signature for bad arguments', async () => {
    const err = (await pit.execute('add', { a: 1 }).catch((e: unknown) => e)) as InvalidArgumentsError;
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.signature).toMatch(/^add\(a.*b.*\)/);
    expect(err.problem).toMatch(/b/);
    const extra = await pit.execute('add', { a: 1, b: 2, c: 3 }).catch((e: unknown) => e);
    expect(extra).toBeInstanceOf(InvalidArgumentsError);
  });

  it('refuses to send what cannot be encoded, naming the path', async () => {
    const err = (await pit
      .execute('echo', { rows: [{ fn: () => 1 }] })
      .catch((e: unknown) => e)) as SerializationError;
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.path).toBe('args.rows[0].fn');
    expect(await pit.execute('ping')).toMatchObject({ status: 'ok' });
  });

  it('rejects bad call arguments before anything is sent', async () => {
    await expect(pit.execute('add', [1, 2] as unknown as Record<string, unknown>)).rejects.toThrow(
      InvalidArgumentsError,
    );
    await expect(pit.execute('', {})).rejects.toThrow(InvalidArgumentsError);
    await expect(pit.execute('add', {}, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
    await expect(pit.execute('add', {}, { pool: 'nope' })).rejects.toThrow(/no pool named "nope"/);
    expect(() => pit.executeStream('count', {}, { window: 0 })).toThrow(InvalidArgumentsError);
  });

  it('times out, cancels the Python call, and the worker serves the next call at once', async () => {
    const started = performance.now();
    const err = await pit.execute('sleep', { seconds: 10 }, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(performance.now() - started).toBeLessThan(1000);
    // Both workers must be usable: the cancelled one was interrupted, not left sleeping.
    const pings = await Promise.all([
      pit.execute('ping'),
      pit.execute('ping'),
      pit.execute('ping'),
      pit.execute('ping'),
    ]);
    expect(pings).toHaveLength(4);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(pit.stats('default').timeouts).toBeGreaterThanOrEqual(1);
  });

  it('aborts with an AbortSignal, before and during the call', async () => {
    const pre = AbortSignal.abort(new Error('never mind'));
    const early = (await pit.execute('ping', {}, { signal: pre }).catch((e: unknown) => e)) as AbortError;
    expect(early).toBeInstanceOf(AbortError);
    expect((early.cause as Error).message).toBe('never mind');

    const ctrl = new AbortController();
    const pending = pit.execute('sleep', { seconds: 10 }, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(await pit.execute('add', { a: 1, b: 1 })).toBe(2);
  });

  it('answers 500 concurrent calls, each with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => pit.execute('add', { a: i, b: i })),
    );
    expect(results).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i));
  });

  it('streams chunks in order', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of pit.executeStream('count', { n: 5 })) chunks.push(chunk);
    expect(chunks).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
  });

  it('describes the adapter tools', () => {
    const add = pit.describe().find((t) => t.name === 'add');
    expect(add?.description.length).toBeGreaterThan(0);
    expect(add?.parameters.map((p) => p.name)).toEqual(['a', 'b']);
    expect(pit.describe().find((t) => t.name === 'count')?.supportsStreaming).toBe(true);
  });
});
