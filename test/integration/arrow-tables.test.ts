/**
 * apache-arrow Tables ↔ pandas / polars DataFrames with real workers (docs/DATA.md): through shared memory when
 * the worker is local, inline otherwise; DataFrame results as Arrow on request (`_return: "arrow"`, `dataframes:
 * "arrow"`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tableFromArrays, Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerializationError, Snakepit, type SnakepitConfig } from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';

const PYTHON = resolvePython(undefined).executable;
const has = (module: string): boolean =>
  spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
const HAS_PYARROW = has('pyarrow') && has('pandas');
const HAS_POLARS = has('polars');

function table(n: number): Table {
  return tableFromArrays({
    x: Float64Array.from({ length: n }, (_, i) => i / 2),
    i: Int32Array.from({ length: n }, (_, i) => i),
    s: Array.from({ length: n }, (_, i) => `row ${i % 100}`),
  });
}
const xSum = (n: number): number => ((n - 1) * n) / 4;

describe.each([
  ['local (shared memory)', {}],
  ['shared memory off (inline)', { sharedMemory: false }],
  ['JSON codec (inline)', { codec: 'json' }],
] as const)('Arrow tables, %s', (_, extra) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await Snakepit.start({
      logger: false,
      pools: [
        {
          name: 'default',
          adapter: 'snakepit_fixtures.shared_memory:ShmAdapter',
          size: 1,
          pythonPath: [FIXTURES_PYTHONPATH],
          ...extra,
        },
        {
          name: 'generic',
          size: 1,
          pythonPath: [FIXTURES_PYTHONPATH],
          ...extra,
          libraries: [
            { name: 'frames', module: 'snakepit_fixtures.shared_memory', expose: 'public' },
            {
              name: 'arrowframes',
              module: 'snakepit_fixtures.shared_memory',
              expose: 'public',
              dataframes: 'arrow',
            },
          ],
        },
      ],
    } as unknown as SnakepitConfig);
  });
  afterAll(async () => {
    await pit?.close();
  });

  it('a Table reaches the tool as a pandas DataFrame', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const n = 200_000;
    const before = pit.stats('default').transfer;
    const info = await pit.execute('frame_info', { frame: table(n) });
    expect(info).toEqual({ type: 'pandas.DataFrame', rows: n, columns: ['x', 'i', 's'], x_sum: xSum(n) });
    const after = pit.stats('default').transfer;
    // the IPC stream (a few MB) went through shared memory when the worker could map it, inline otherwise
    if (Object.keys(extra).length === 0) expect(after.sharedValues).toBe(before.sharedValues + 1);
    else expect([after.sharedValues, after.inlineValues]).toEqual([0, before.inlineValues + 1]);
  });

  it('DataFrame and pyarrow results come back as Tables', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const n = 100_000;
    for (const kind of ['pandas', 'pyarrow', ...(HAS_POLARS ? ['polars'] : [])]) {
      const out = (await pit.execute('make_table', { n, kind })) as Table;
      expect(out).toBeInstanceOf(Table);
      expect(out.numRows).toBe(n);
      expect(out.getChild('x')!.get(n - 1)).toBe((n - 1) / 2);
      expect(out.getChild('s')!.get(7)).toBe('row 7');
    }
    const doubled = (await pit.execute('double_x', { frame: table(n) })) as Table;
    expect(doubled.getChild('x')!.get(n - 1)).toBe(n - 1);
  });

  it('the generic adapter: _return: "arrow" and dataframes: "arrow"', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const asked = (await pit.execute(
      'python.frames.make_frame',
      { n: 1000, _return: 'arrow' },
      { pool: 'generic' },
    )) as Table;
    expect(asked).toBeInstanceOf(Table);
    expect(asked.numRows).toBe(1000);
    const rows = (await pit.execute('python.frames.make_frame', { n: 2 }, { pool: 'generic' })) as unknown[];
    expect(rows).toEqual([
      { x: 0, i: 0, s: 'row 0' },
      { x: 0.5, i: 1, s: 'row 1' },
    ]);
    const byConfig = (await pit.execute(
      'python.arrowframes.make_frame',
      { n: 10 },
      { pool: 'generic' },
    )) as Table;
    expect(byConfig.numRows).toBe(10);
    const err = await pit
      .execute('python.frames.blob', { n: 10, _return: 'arrow' }, { pool: 'generic' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toMatch(/_return: "arrow" needs a pandas or polars DataFrame/);
  });
});

describe('Arrow without pyarrow in the worker', () => {
  it('fails the call with an error that names the package', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const pit = await Snakepit.start({
      size: 1,
      logger: false,
      adapter: 'snakepit_fixtures.shared_memory:ShmAdapter',
      // a package named pyarrow that cannot be imported shadows the real one
      pythonPath: [join(FIXTURES_PYTHONPATH, '..', 'no-pyarrow'), FIXTURES_PYTHONPATH],
    } as unknown as SnakepitConfig);
    try {
      const pid = pit.workers()[0]!.pid;
      const err = await pit.execute('frame_info', { frame: table(10) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toMatch(/pyarrow/);
      expect(pit.workers()[0]!.pid).toBe(pid);
    } finally {
      await pit.close();
    }
  });
});
