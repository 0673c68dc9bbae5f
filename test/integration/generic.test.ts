// The generic adapter end to end: libraries from configuration alone, real workers, both codecs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  InvalidArgumentsError,
  NDArray,
  PyRef,
  PythonValueError,
  SerializationError,
  Snakepit,
  type SnakepitConfig,
  UnknownToolError,
  WorkerStartError,
} from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { FIXTURES_PYTHONPATH, recordingLogger, requireOptional } from '../helpers.js';

const PYTHON = resolvePython(undefined).executable;
function importable(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}
const HAS_NUMPY = importable('numpy');
const HAS_PANDAS = importable('pandas');

const LIB = { name: 'lib', module: 'snakepit_fixtures.generic_lib', expose: 'public' as const };

function startLibraries(config: Partial<SnakepitConfig>): Promise<Snakepit> {
  return Snakepit.start({
    size: 1,
    logger: false,
    pythonPath: [FIXTURES_PYTHONPATH],
    ...config,
  } as SnakepitConfig);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as Error,
  );
}

describe.each(['msgpack', 'json'] as const)('generic adapter over %s', (codec) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await startLibraries({
      codec,
      workerConcurrency: 4, // async functions overlap on the worker's event loop
      libraries: [
        { name: 'math', module: 'math', expose: 'public', aliases: { root: 'sqrt' } },
        { name: 'json', module: 'json', expose: 'public' },
        { name: 'statistics', module: 'statistics', namespace: 'stats', expose: 'public' },
        {
          name: 'datetime',
          module: 'datetime',
          functions: ['date', 'datetime', 'datetime.fromisoformat', 'timedelta'],
        },
        { name: 'hashlib', module: 'hashlib', functions: ['pbkdf2_hmac', 'sha256'] },
        LIB,
        { name: 'lazy', module: 'snakepit_fixtures.generic_lazy', lazy: true, expose: 'public' },
      ],
    });
  });
  afterAll(() => pit?.close());

  it('calls stdlib functions with positional and keyword arguments', async () => {
    expect(await pit.execute('python.math.sqrt', { _args: [16] })).toBe(4);
    expect(await pit.execute('python.math.root', { _args: [2.25] })).toBe(1.5); // an alias
    expect(await pit.execute('python.math.isnan', { _args: [NaN] })).toBe(true);
    expect(await pit.execute('python.json.dumps', { _args: [{ b: 1, a: [2] }], sort_keys: true })).toBe(
      '{"a": [2], "b": 1}',
    );
    expect(await pit.execute('python.json.loads', { s: '{"x": [1, 2.5, null]}' })).toEqual({
      x: [1, 2.5, null],
    });
    expect(await pit.execute('python.stats.mean', { _args: [[1, 2, 3, 4]] })).toBe(2.5);
    expect(await pit.execute('python.stats.median', { data: [3, 1, 2] })).toBe(2);
    const key = (await pit.execute('python.hashlib.pbkdf2_hmac', {
      _args: ['sha256', Buffer.from('secret'), Buffer.from('salt'), 1000],
    })) as Buffer;
    expect(Buffer.isBuffer(key) && key.toString('hex')).toBe(
      spawnSync(PYTHON, [
        '-c',
        "import hashlib; print(hashlib.pbkdf2_hmac('sha256', b'secret', b'salt', 1000).hex())",
      ])
        .stdout.toString()
        .trim(),
    );
  });

  it('maps dates, decimals, enums, sets and dataclasses by value, NaN and bytes intact', async () => {
    expect(await pit.execute('python.datetime.date', { _args: [2024, 2, 29] })).toBe('2024-02-29');
    const parsed = (await pit.execute('python.datetime.datetime.fromisoformat', {
      _args: ['2024-01-02T03:04:05.678+00:00'],
    })) as Date;
    expect(parsed).toBeInstanceOf(Date);
    expect(parsed.toISOString()).toBe('2024-01-02T03:04:05.678Z');
    const back = (await pit.execute('python.datetime.datetime', { _args: [2030, 5, 6, 7, 8, 9] })) as Date;
    expect(back.toISOString()).toBe('2030-05-06T07:08:09.000Z');
    expect(await pit.execute('python.datetime.timedelta', { minutes: 2 })).toBe(120);
    const v = (await pit.execute('python.lib.values')) as Record<string, unknown>;
    expect(v).toMatchObject({
      decimal: '1.10',
      uuid: '12345678-1234-5678-1234-567812345678',
      date: '2024-02-29',
      time: '12:30:05',
      timedelta: 60.5,
      enum: 'green',
      set: [1, 2, 3],
      frozenset: ['a', 'b'],
      tuple: [1, 'two'],
      namedtuple: { left: 1, right: 2 },
      dataclass: { x: 3, y: 4 },
      inf: -Infinity,
      nested: [{ d: '2' }],
      int_keys: { 1: 'one', 2: 'two' },
    });
    expect(v['nan']).toBeNaN();
    expect((v['datetime'] as Date).toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect((v['naive'] as Date).toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect([...(v['bytes'] as Buffer)]).toEqual([0, 255]);
  });

  it('sends a Date in as an aware datetime, and typed arrays as arrays', async () => {
    const when = new Date(Date.UTC(2024, 6, 1, 12, 0, 0, 250));
    expect(await pit.execute('python.lib.type_of', { _args: [when] })).toBe('datetime.datetime');
    expect(await pit.execute('python.lib.iso', { _args: [when] })).toBe('2024-07-01T12:00:00.250000+00:00');
    const echoed = (await pit.execute('python.lib.variadic', { _args: [when] })) as { args: Date[] };
    expect(echoed.args[0]!.getTime()).toBe(when.getTime());
    expect(await pit.execute('python.lib.type_of', { _args: [new Float64Array(3)] })).toBe(
      HAS_NUMPY ? 'numpy.ndarray' : 'builtins.list',
    );
    expect(await pit.execute('python.lib.type_of', { _args: [Buffer.from('x')] })).toBe('builtins.bytes');
  });

  it('refuses bad arguments before the call, naming the signature', async () => {
    const err = (await failure(pit.execute('python.lib.add', { _args: [1, 2, 3] }))) as InvalidArgumentsError;
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.signature).toBe('add(a: int, b: int = 1, *, scale: int = 1) -> int');
    expect(err.message).toContain('takes 2 positional arguments but 3 were given');
    expect(err.message).toContain('expected add(a: int, b: int = 1, *, scale: int = 1) -> int');
    const missing = (await failure(pit.execute('python.lib.add', { scale: 2 }))) as InvalidArgumentsError;
    expect(missing.problem).toBe("missing required argument 'a'");
    const unexpected = (await failure(
      pit.execute('python.math.sqrt', { _args: [4], y: 1 }),
    )) as InvalidArgumentsError;
    expect(unexpected.problem).toContain("unexpected keyword argument 'y'");
    const noSignature = (await failure(pit.execute('python.math.log', {}))) as InvalidArgumentsError;
    expect(noSignature).toBeInstanceOf(InvalidArgumentsError);
    expect(noSignature.signature).toMatch(/^log\(x/);
    const raised = await failure(pit.execute('python.lib.fail', { message: 'boom' }));
    expect(raised).toBeInstanceOf(PythonValueError);
    expect((raised as PythonValueError).traceback).toContain('generic_lib.py');
  });

  it('answers unknown functions and namespaces with what is there', async () => {
    const close = (await failure(pit.execute('python.math.sqr', {}))) as UnknownToolError;
    expect(close).toBeInstanceOf(UnknownToolError);
    expect(close.available).toContain('python.math.sqrt');
    expect(close.message).toContain("no public function 'sqr'");
    const ns = (await failure(pit.execute('python.nope.x', {}))) as UnknownToolError;
    expect(ns.message).toContain("no library has the namespace 'nope'");
  });

  it('refuses escapes through attributes', async () => {
    for (const tool of [
      'python.lib.os.system', // a module the library imported
      'python.lib._private', // a private name
      'python.lib.evaluate', // builtins.eval re-exported
      'python.lib.add.__globals__', // a dunder chain
      'python.lib.Point.norm', // a nested path that was not listed
    ]) {
      const err = await failure(pit.execute(tool, { _args: ['echo pwned'] }));
      expect(err, tool).toBeInstanceOf(UnknownToolError);
    }
    const moduleResult = (await failure(pit.execute('python.lib.returns_module', {}))) as SerializationError;
    expect(moduleResult).toBeInstanceOf(SerializationError);
    expect(moduleResult.message).toContain('a module cannot be returned');
  });

  it('streams a generator, and refuses it through execute', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of pit.executeStream('python.lib.count', { _args: [3] })) chunks.push(chunk);
    expect(chunks.map((c) => (c as { i: number }).i)).toEqual([0, 1, 2]);
    expect(((chunks[2] as { when: Date }).when as Date).toISOString()).toBe('2024-01-01T00:00:02.000Z');
    const asyncChunks: unknown[] = [];
    for await (const chunk of pit.executeStream('python.lib.acount', { n: 3 })) asyncChunks.push(chunk);
    expect(asyncChunks).toEqual([0, 1, 2]);
    const returned: unknown[] = [];
    for await (const chunk of pit.executeStream('python.lib.make_generator', { _args: [4] }))
      returned.push(chunk);
    expect(returned).toEqual([0, 1, 4, 9]);
    const err = (await failure(pit.execute('python.lib.count', { _args: [3] }))) as InvalidArgumentsError;
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.message).toContain('use a stream call');
    const gen = (await failure(
      pit.execute('python.lib.make_generator', { _args: [3] }),
    )) as InvalidArgumentsError;
    expect(gen.message).toContain('executeStream');
  });

  it('awaits async functions, several at once on one worker', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((x) => pit.execute('python.lib.slow_double', { _args: [x] })),
    );
    expect(results).toEqual([2, 4, 6]);
    const peaks = await Promise.all(
      [1, 2, 3, 4].map(() => pit.execute('python.lib.overlapping', { delay: 0.3 })),
    );
    expect(Math.max(...(peaks as number[]))).toBeGreaterThanOrEqual(2); // they ran on the event loop together
  });

  it('loads a lazy library on first use only', async () => {
    const before = pit.libraries().find((l) => l.name === 'lazy')!;
    expect(before).toMatchObject({ lazy: true, loaded: false, functions: 0 });
    expect(await pit.execute('python.lib.is_imported', { _args: ['snakepit_fixtures.generic_lazy'] })).toBe(
      false,
    );
    expect(await pit.execute('python.lazy.ping')).toBe('pong');
    expect(await pit.execute('python.lib.is_imported', { _args: ['snakepit_fixtures.generic_lazy'] })).toBe(
      true,
    );
  });

  it('describes a namespace, a function, and the libraries', () => {
    const math = pit.describe('python.math');
    expect(math.length).toBeGreaterThan(40);
    const sqrt = pit.describe('python.math.sqrt')[0]!;
    expect(sqrt).toMatchObject({
      name: 'python.math.sqrt',
      signature: 'sqrt(x, /)',
      library: 'math',
      function: 'sqrt',
    });
    expect(sqrt.description).toBe('Return the square root of x.');
    expect(pit.describe('python.lib.add')[0]!.description).toBe('Add two numbers, then scale the sum.');
    expect(() => pit.describe('python.nope')).toThrow(UnknownToolError);
    expect(pit.describe().length).toBeGreaterThan(math.length); // the pool: every library's functions
    expect(pit.libraries().map((l) => l.namespace)).toEqual([
      'math',
      'json',
      'stats',
      'datetime',
      'hashlib',
      'lib',
      'lazy',
    ]);
  });

  it('returns objects with no by-value form as references in a session, and a clear error without one', async () => {
    const err = (await failure(
      pit.execute('python.hashlib.sha256', { _args: [Buffer.from('x')] }),
    )) as SerializationError;
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toMatch(
      /cannot return _?hashlib\.HASH by value at result; in a session it is returned as an object reference/,
    );
    const hash = await pit.executeInSession<PyRef>('h1', 'python.hashlib.sha256', {
      _args: [Buffer.from('abc')],
    });
    expect(hash).toBeInstanceOf(PyRef);
    expect(hash.type).toBe('HASH');
    expect(await pit.callMethod(hash, 'hexdigest')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(await pit.getAttr(hash, 'digest_size')).toBe(32);
    const four = await pit.executeInSession<PyRef>('h1', 'python.math.sqrt', { _args: [16], _return: 'ref' });
    expect([four.type, await pit.executeInSession('h1', 'python.math.sqrt', { _args: [four] })]).toEqual([
      'float',
      2,
    ]);
    pit.sessions.delete('h1');
  });
});

describe('generic adapter with numpy and pandas', () => {
  let pit: Snakepit | undefined;
  let dir: string;
  beforeAll(async () => {
    if (!requireOptional(HAS_NUMPY && HAS_PANDAS, 'numpy and pandas')) return;
    dir = mkdtempSync(join(tmpdir(), 'snakepit-generic-'));
    pit = await startLibraries({
      libraries: [
        { name: 'numpy', module: 'numpy', expose: 'public' },
        { name: 'np_lists', module: 'numpy', functions: ['arange'], arrays: 'lists' },
        { name: 'pandas', module: 'pandas', functions: ['read_csv', 'DataFrame', 'DataFrame.describe'] },
        { name: 'pd_columns', module: 'pandas', functions: ['read_csv'], dataframes: 'columns' },
      ],
    });
  });
  afterAll(async () => {
    await pit?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('numpy: mean, and arrays with dtype and shape intact', async (ctx) => {
    if (!pit) return ctx.skip('numpy and pandas are not importable (see the warning above)');
    expect(await pit.execute('python.numpy.mean', { _args: [[1, 2, 3, 4]] })).toBe(2.5);
    const m = (await pit.execute('python.numpy.ones', { _args: [[2, 3]], dtype: 'int32' })) as NDArray;
    expect(m).toBeInstanceOf(NDArray);
    expect([m.dtype, m.shape, m.data.constructor.name]).toEqual(['int32', [2, 3], 'Int32Array']);
    expect(m.toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const roots = (await pit.execute('python.numpy.sqrt', {
      _args: [new Float64Array([1, 4, 9])],
    })) as NDArray;
    expect([...roots.data]).toEqual([1, 2, 3]);
    const t = (await pit.execute('python.numpy.transpose', {
      _args: [new NDArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])],
    })) as NDArray;
    expect([t.dtype, t.shape, t.toArray()]).toEqual([
      'float32',
      [3, 2],
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    ]);
    expect(await pit.execute('python.np_lists.arange', { _args: [4] })).toEqual([0, 1, 2, 3]);
    const big = (await pit.execute('python.numpy.zeros', { _args: [1_000_000] })) as NDArray;
    expect(big.size).toBe(1_000_000);
  });

  it('pandas: read_csv on a CSV the test writes, by value as records or columns', async (ctx) => {
    if (!pit) return ctx.skip('numpy and pandas are not importable (see the warning above)');
    const csv = join(dir, 'people.csv');
    writeFileSync(csv, 'name,age,score\nada,36,9.5\ngrace,45,8.25\n');
    const rows = await pit.execute('python.pandas.read_csv', { _args: [csv] });
    expect(rows).toEqual([
      { name: 'ada', age: 36, score: 9.5 },
      { name: 'grace', age: 45, score: 8.25 },
    ]);
    const columns = (await pit.execute('python.pd_columns.read_csv', { _args: [csv] })) as Record<
      string,
      unknown
    >;
    expect(columns['name']).toEqual(['ada', 'grace']);
    expect((columns['age'] as NDArray).toArray()).toEqual([36, 45]);
    const frame = await pit.execute('python.pandas.DataFrame', { _args: [{ a: [1, 2], b: ['x', 'y'] }] });
    expect(frame).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
  });

  it('pandas: read_csv as a reference, then describe() on it', async (ctx) => {
    if (!pit) return ctx.skip('numpy and pandas are not importable (see the warning above)');
    const csv = join(dir, 'numbers.csv');
    writeFileSync(csv, 'x,y\n1,10\n2,20\n3,60\n');
    const df = await pit.executeInSession<PyRef>('frames', 'python.pandas.read_csv', {
      _args: [csv],
      _return: 'ref',
    });
    expect(df).toBeInstanceOf(PyRef);
    expect(df.type).toBe('DataFrame');
    expect(df.module).toMatch(/^pandas/);
    expect(await pit.getAttr(df, 'shape')).toEqual([3, 2]);
    // describe() through the reference: a DataFrame result comes back by value, as records (docs/VALUES.md) ...
    const described = await pit.callMethod<Array<Record<string, unknown>>>(df, 'describe');
    expect(described[1]).toEqual({ index: 'mean', x: 2, y: 30 });
    expect(await pit.callMethod(df, 'to_dict')).toMatchObject({ x: { 0: 1, 2: 3 }, y: { 1: 20 } });
    // ... and through the generic adapter (DataFrame.describe is listed) it comes back by value.
    const rows = (await pit.executeInSession('frames', 'python.pandas.DataFrame.describe', {
      _args: [df],
    })) as Array<Record<string, unknown>>;
    expect(rows[0]).toEqual({ index: 'count', x: 3, y: 3 });
    expect(rows[1]).toEqual({ index: 'mean', x: 2, y: 30 });
    await pit.sessions.delete('frames');
  });
});

describe('generic adapter configuration and start-up', () => {
  it('rejects a module that does not exist, naming the package and the command', async () => {
    const err = (await failure(
      startLibraries({ libraries: [{ name: 'x', module: 'snakepit_no_such_module', functions: ['f'] }] }),
    )) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toContain("cannot import module 'snakepit_no_such_module'");
    expect(err.message).toContain('-m pip install snakepit_no_such_module');
  });

  it('refuses a listed function that escapes the module, at start', async () => {
    const err = (await failure(
      startLibraries({ libraries: [{ ...LIB, functions: ['add', 'os.system'] }] }),
    )) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toContain('outside the configured module');
  });

  it('combines an adapter with libraries in one pool', async () => {
    const pit = await startLibraries({
      adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
      libraries: [{ name: 'math', module: 'math', functions: ['sqrt', 'hypot'] }],
    });
    try {
      expect(await pit.execute('add', { a: 2, b: 3 })).toBe(5);
      expect(await pit.execute('python.math.hypot', { _args: [3, 4] })).toBe(5);
      const names = pit.describe().map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['add', 'echo', 'python.math.sqrt', 'python.math.hypot']));
      const chunks: unknown[] = [];
      for await (const c of pit.executeStream('count', { n: 2 })) chunks.push(c);
      expect(chunks).toHaveLength(2);
      expect(await failure(pit.execute('nope'))).toBeInstanceOf(UnknownToolError);
    } finally {
      await pit.close();
    }
  });

  it('cancels a running library function on timeout, and a stream when the consumer stops', async () => {
    const pit = await startLibraries({
      libraries: [
        { name: 'time', module: 'time', functions: ['sleep', 'monotonic'] },
        { ...LIB, functions: ['count'] },
      ],
    });
    try {
      const t0 = performance.now();
      const err = await failure(pit.execute('python.time.sleep', { _args: [30] }, { timeoutMs: 300 }));
      expect(err).toBeInstanceOf(CallTimeoutError);
      expect(typeof (await pit.execute('python.time.monotonic'))).toBe('number'); // the worker is free again
      expect(performance.now() - t0).toBeLessThan(10_000);
      let seen = 0;
      for await (const _chunk of pit.executeStream('python.lib.count', { _args: [1_000_000] })) {
        if (++seen === 3) break;
      }
      expect(await pit.execute('python.time.monotonic')).toBeTypeOf('number');
      expect(pit.stats('default').workers).toBe(1);
    } finally {
      await pit.close();
    }
  });

  it('runs hooks: timing events, a cache, and a hook of your own', async () => {
    const pit = await startLibraries({
      libraries: [
        {
          ...LIB,
          functions: ['pure_square', 'squared_runs', 'audit_events'],
          hooks: ['timing', 'cache', 'snakepit_fixtures.generic_hooks:AuditHook'],
        },
      ],
    });
    const events: Array<{ name: string[]; metadata: Record<string, unknown> }> = [];
    pit.on('python:event', (e) => events.push(e));
    try {
      expect(await pit.execute('python.lib.pure_square', { _args: [7] })).toBe(49);
      expect(await pit.execute('python.lib.pure_square', { _args: [7] })).toBe(49);
      expect(await pit.execute('python.lib.squared_runs')).toEqual([7]); // the second came from the cache
      const audit = (await pit.execute('python.lib.audit_events')) as Array<Record<string, unknown>>;
      expect(audit.slice(0, 2)).toEqual([
        { when: 'before', tool: 'python.lib.pure_square', args: [7] },
        { when: 'after', tool: 'python.lib.pure_square', ok: true, result: 49 },
      ]);
      const timing = events.filter((e) => e.name.join('.') === 'snakepit.generic.call');
      expect(timing.length).toBeGreaterThanOrEqual(3);
      expect(timing[1]!.metadata).toMatchObject({
        library: 'lib',
        function: 'pure_square',
        ok: true,
        cached: true,
      });
    } finally {
      await pit.close();
    }
  });

  it('installs a missing package on start into a fresh environment, with progress lines', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'snakepit-install-'));
    try {
      const made = spawnSync(PYTHON, ['-m', 'venv', venv], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const python = join(venv, 'bin', 'python');
      expect(spawnSync(python, ['-c', 'import msgpack']).status).not.toBe(0); // missing before
      const logger = recordingLogger();
      const pit = await Snakepit.start({
        size: 1,
        logger,
        python: { executable: python },
        libraries: [
          {
            name: 'mp',
            module: 'msgpack',
            functions: ['packb'],
            install: { package: 'msgpack', version: '>=1' },
          },
        ],
      });
      try {
        const packed = (await pit.execute('python.mp.packb', { _args: [[1, 2]] })) as Buffer;
        expect([...packed]).toEqual([0x92, 0x01, 0x02]);
        expect(pit.workers()[0]!.codec).toBe('msgpack'); // the bridge uses what was just installed, too
      } finally {
        await pit.close();
      }
      const said = logger.lines.map((l) => l.msg);
      expect(said.some((m) => m.includes('(msgpack): msgpack>=1 not installed; installing it'))).toBe(true);
      expect(said.some((m) => m.startsWith('running ') && m.includes("-m pip install 'msgpack>=1'"))).toBe(
        true,
      );
      expect(said.some((m) => /^installed msgpack>=1 with (pip|uv)$/.test(m))).toBe(true);
    } finally {
      rmSync(venv, { recursive: true, force: true });
    }
  }, 240_000);

  it('fails install-on-start clearly when pip cannot install the package', async () => {
    const logger = recordingLogger();
    const err = await failure(
      Snakepit.start({
        size: 1,
        logger,
        libraries: [
          {
            name: 'ghost',
            module: 'snakepit_ghost_module',
            functions: ['f'],
            install: { package: 'snakepit-ghost-package-xyz' },
          },
        ],
      }),
    );
    expect(err.name).toBe('PythonEnvError');
    expect(err.message).toContain('could not install snakepit-ghost-package-xyz');
    expect(err.message).toContain('-m pip install snakepit-ghost-package-xyz');
    expect(logger.lines.some((l) => l.msg.includes('snakepit-ghost-package-xyz not installed'))).toBe(true);
  }, 120_000);
});
