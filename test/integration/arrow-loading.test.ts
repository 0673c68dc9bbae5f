/**
 * When apache-arrow is loaded (docs/DATA.md): not when a pool starts (its import takes ~350 ms), only when a table
 * crosses. Observed in a fresh Node process: the module loader's log (test/fixtures/import-log) and `require.cache`,
 * which holds what `require` loaded, an ES module loaded by `require` included.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { FIXTURES_PYTHONPATH, nodeJsonLines, requireOptional } from '../helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = resolvePython(undefined).executable;
const HAS_PYARROW = spawnSync(PYTHON, ['-c', 'import pyarrow, pandas'], { stdio: 'ignore' }).status === 0;

interface Stage {
  stage: string;
  /** Files of apache-arrow in require.cache. */
  required: string[];
  /** URLs of apache-arrow the module loader loaded so far. */
  imported: string[];
  [key: string]: unknown;
}

/**
 * Run `script` (ES module text; `Snakepit`, `stage(name, extra)` and the pool's `options` in scope) in a fresh
 * Node, with snakepit loaded from `root` (the repository, or a copy of its layout made of links).
 */
function stages(script: string, root = REPO, nodeArgs: string[] = []): Promise<Stage[]> {
  const dist = join(root, 'dist', 'src', 'index.js');
  if (!existsSync(dist)) throw new Error('dist is not built: run `npm run build` (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-arrow-load-'));
  const log = join(dir, 'imports.log');
  const prelude = `
    import { Snakepit } from ${JSON.stringify(dist)};
    import { createRequire } from 'node:module';
    import { readFileSync } from 'node:fs';
    const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
    const arrowFiles = (list) => list.filter((p) => p.includes('/apache-arrow/'));
    const stage = (name, extra = {}) => console.log(JSON.stringify({
      stage: name,
      required: arrowFiles(Object.keys(require.cache)),
      imported: arrowFiles(readFileSync(process.env.SNAKEPIT_IMPORT_LOG, 'utf8').split('\\n')),
      ...extra,
    }));
    const options = {
      adapter: 'snakepit_fixtures.shared_memory:ShmAdapter', size: 1, logger: false,
      pythonPath: [${JSON.stringify(FIXTURES_PYTHONPATH)}],
    };
  `;
  return nodeJsonLines<Stage>(
    [
      ...nodeArgs,
      '--import',
      join(REPO, 'test', 'fixtures', 'import-log', 'register.mjs'),
      '--input-type=module',
      '-e',
      `${prelude}\n${script}`,
    ],
    { env: { ...process.env, SNAKEPIT_IMPORT_LOG: log } },
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const loaded = (s: Stage): boolean => s.required.length > 0 || s.imported.length > 0;

describe('apache-arrow is loaded when a table first crosses', () => {
  it('not at start, nor by calls without tables; then once a table comes back from a worker', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const [started, table] = await stages(`
      const pit = await Snakepit.start(options);
      await pit.execute('frame_info', { frame: { x: [1, 2] } }).catch(() => undefined);
      stage('started');
      const out = await pit.execute('make_table', { n: 5, kind: 'pyarrow' });
      stage('table', { rows: out.numRows, x: out.getChild('x').get(4) });
      await pit.close();
    `);
    expect(started!.stage).toBe('started');
    expect(loaded(started!)).toBe(false);
    expect(table).toMatchObject({ stage: 'table', rows: 5, x: 2 });
    expect(loaded(table!)).toBe(true);
  });

  it("a Table the program made crosses with the program's own apache-arrow (no second copy loaded)", async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const [made, sent] = await stages(`
      const pit = await Snakepit.start(options);
      const arrow = await import('apache-arrow');
      stage('made');
      const info = await pit.execute('frame_info', { frame: arrow.tableFromArrays({ x: Float64Array.of(1, 2, 3) }) });
      const back = await pit.execute('make_table', { n: 3, kind: 'pyarrow' });
      stage('sent', { info, sameClass: back instanceof arrow.Table && back.constructor === arrow.Table });
      await pit.close();
    `);
    expect(made!.required).toEqual([]); // the program's own import, not a require
    expect(sent).toMatchObject({ info: { type: 'pandas.DataFrame', rows: 3, x_sum: 6 } });
    // Where Node can require an ES module, the program's module is the one used: the Table that came back is of
    // the program's own class, and apache-arrow's CommonJS build was never loaded.
    if ((process.features as { require_module?: boolean }).require_module) {
      expect(sent!['sameClass']).toBe(true);
      expect(sent!.required.filter((p) => p.endsWith('.js'))).toEqual([]);
    }
  });
});

describe('without apache-arrow on the host', () => {
  /** The repository's layout made of links, with every package of node_modules but apache-arrow. */
  function withoutApacheArrow(): string {
    const root = mkdtempSync(join(tmpdir(), 'snakepit-no-arrow-'));
    for (const entry of ['dist', 'python', 'package.json']) symlinkSync(join(REPO, entry), join(root, entry));
    mkdirSync(join(root, 'node_modules'));
    for (const entry of readdirSync(join(REPO, 'node_modules'))) {
      if (entry !== 'apache-arrow')
        symlinkSync(join(REPO, 'node_modules', entry), join(root, 'node_modules', entry));
    }
    return root;
  }

  it('starts, serves, and fails only the call whose result is a table, saying what to install', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const root = withoutApacheArrow();
    try {
      // --preserve-symlinks: modules resolve from the links' folder, where apache-arrow is missing
      const [done] = await stages(
        `
        const pit = await Snakepit.start(options);
        const error = await pit.execute('make_table', { n: 3, kind: 'pyarrow' }).then(() => undefined, (e) => e);
        const after = await pit.execute('echo', { value: [1, 'two'] });
        stage('done', { name: error?.name, message: error?.message, after, workers: pit.workers().length });
        await pit.close();
      `,
        root,
        ['--preserve-symlinks'],
      );
      expect(done).toMatchObject({ name: 'SerializationError', after: [1, 'two'], workers: 1 });
      expect(done!['message']).toMatch(
        /apache-arrow package is not installed on the host \(npm install apache-arrow\)/,
      );
      expect(loaded(done!)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a CommonJS program', () => {
  it('that required apache-arrow itself has its copy used: the ES module build is never loaded', async (ctx) => {
    if (!requireOptional(HAS_PYARROW, 'pyarrow and pandas')) return ctx.skip();
    const cjs = join(REPO, 'dist', 'cjs', 'index.cjs');
    const script = `
      const { Snakepit } = require(${JSON.stringify(cjs)});
      const arrow = require('apache-arrow');
      (async () => {
        const pit = await Snakepit.start({ adapter: 'snakepit_fixtures.shared_memory:ShmAdapter', size: 1,
          logger: false, pythonPath: [${JSON.stringify(FIXTURES_PYTHONPATH)}] });
        const back = await pit.execute('make_table', { n: 3, kind: 'pyarrow' });
        const info = await pit.execute('frame_info', { frame: arrow.tableFromArrays({ x: Float64Array.of(1, 2) }) });
        console.log(JSON.stringify({ sameClass: back.constructor === arrow.Table, x_sum: info.x_sum,
          loaded: Object.keys(require.cache).filter((p) => p.includes('/apache-arrow/Arrow.node')) }));
        await pit.close();
      })();
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { cwd: REPO, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const result = JSON.parse(out.trim().split('\n').pop()!) as {
      sameClass: boolean;
      x_sum: number;
      loaded: string[];
    };
    expect(result).toEqual({
      sameClass: true,
      x_sum: 3,
      loaded: [join(REPO, 'node_modules', 'apache-arrow', 'Arrow.node.js')],
    });
  });
});
