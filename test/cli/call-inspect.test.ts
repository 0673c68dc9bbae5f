// `snakepit gen adapter`, `call` and `inspect` as subprocesses, from config files of each kind or the command line.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_PYTHON, runCli } from './cli-helpers.js';

const SHOWCASE = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
const python = ['--python', REPO_PYTHON];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snakepit-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string> = {}): string {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(p, f), text);
  return p;
}

describe('snakepit gen adapter', () => {
  it('scaffolds an adapter whose own test passes, and which runs through the CLI', async () => {
    const cwd = folder('gen');
    const r = await runCli(['gen', 'adapter', 'ImageTools'], { cwd });
    expect(r.code).toBe(0);
    for (const f of ['__init__.py', 'adapter.py', 'test_adapter.py']) {
      expect(existsSync(join(cwd, 'python', 'image_tools', f))).toBe(true);
    }
    expect(r.stdout).toContain("adapter: 'image_tools.adapter:ImageToolsAdapter'");
    expect(r.stdout).toContain("pythonPath: ['./python']");
    expect(r.stdout).toContain("pit.executeStream('progress', { steps: 3 })");

    // The generated test passes with the command printed, run verbatim: no venv here, so a plain python3
    // without pytest (PYTHONNOUSERSITE, no PYTHONPATH); the test finds the bundled bridge itself.
    const printed = /Test it:\n {2}(.+?) {2,}/.exec(r.stdout)?.[1];
    expect(printed).toBe('python3 -m unittest discover -s python/image_tools -t python');
    const unittest = await promisify(execFile)('sh', ['-c', printed!], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', PYTHONNOUSERSITE: '1' },
    });
    expect(unittest.stderr).toMatch(/Ran 3 tests[\s\S]*\nOK\n/);
    // pytest runs the same file.
    const pytest = await promisify(execFile)(
      REPO_PYTHON,
      ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/image_tools'],
      { cwd, env: { PATH: process.env['PATH'] ?? '' } },
    );
    expect(pytest.stdout).toMatch(/3 passed/);
    // With a project venv the command names it.
    mkdirSync(join(cwd, '.venv', 'bin'), { recursive: true });
    symlinkSync(REPO_PYTHON, join(cwd, '.venv', 'bin', 'python'));
    const withVenv = await runCli(['gen', 'adapter', 'Other'], { cwd });
    expect(withVenv.stdout).toContain('.venv/bin/python -m unittest discover -s python/other -t python');

    // And the host runs it: the command the generator printed.
    const target = [
      '--adapter',
      'image_tools.adapter:ImageToolsAdapter',
      '--python-path',
      './python',
      ...python,
    ];
    const greet = await runCli(['call', 'greet', '{"name": "Ada"}', ...target], { cwd });
    expect(greet.stderr).toBe('');
    expect(JSON.parse(greet.stdout)).toEqual({ message: 'Hello, Ada!' });
    const progress = await runCli(['call', 'progress', '{"steps": 2}', ...target], { cwd });
    expect(progress.stdout).toBe('{"step":1,"of":2}\n{"step":2,"of":2}\n');

    const again = await runCli(['gen', 'adapter', 'image_tools'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has __init__\.py, adapter\.py.*pass --force/);
    expect((await runCli(['gen', 'adapter', 'image_tools', '--force'], { cwd })).code).toBe(0);
  }, 60_000);

  it.each([['class'], ['9lives'], ['a;b'], ['snakepit_bridge']])('refuses the name %j', async (name) => {
    const r = await runCli(['gen', 'adapter', name], { cwd: folder(`bad-${name.length}`) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not usable as an adapter name/);
  });
});

describe('snakepit call', () => {
  it('runs a tool of the config file, a chosen pool, and a stream', async () => {
    const cwd = folder('json-config', {
      'snakepit.config.json': JSON.stringify({
        python: { executable: REPO_PYTHON },
        pools: [
          { name: 'first', adapter: SHOWCASE, size: 4 },
          { name: 'second', adapter: SHOWCASE },
        ],
      }),
    });
    const add = await runCli(['call', 'add', '{"a": 1, "b": 2}'], { cwd });
    expect(add).toEqual({ code: 0, stdout: '3\n', stderr: '' });
    const echo = await runCli(['call', 'echo', '{"x": [1, "two", null]}', '--pool', 'second', '--compact'], {
      cwd,
    });
    expect(echo.stdout).toBe('{"x":[1,"two",null]}\n');
    const count = await runCli(['call', 'count', '{"n": 3}'], { cwd });
    expect(count.stdout).toBe('{"i":0}\n{"i":1}\n{"i":2}\n');
    const missingPool = await runCli(['call', 'add', '--pool', 'third'], { cwd });
    expect(missingPool.code).toBe(1);
    expect(missingPool.stderr).toMatch(/no pool named "third" .*\(pools: first, second\)/);
  });

  it('reads snakepit.config.mjs (a function) and snakepit.config.ts', async () => {
    const mjs = folder('mjs-config', {
      'snakepit.config.mjs': `export default async () => ({ adapter: '${SHOWCASE}', python: { executable: '${REPO_PYTHON}' } });\n`,
    });
    expect((await runCli(['call', 'add', '{"a": 2, "b": 3}'], { cwd: mjs })).stdout).toBe('5\n');
    const ts = folder('ts-config', {
      'snakepit.config.ts':
        `interface Cfg { adapter: string; python: { executable: string } }\n` +
        `const config: Cfg = { adapter: '${SHOWCASE}', python: { executable: '${REPO_PYTHON}' } };\nexport default config;\n`,
    });
    const r = await runCli(['call', 'add', '{"a": 20, "b": 22}'], { cwd: ts });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\n');
  });

  it('prints a Python error with its type and traceback, and exits 1', async () => {
    const r = await runCli([
      'call',
      'error_demo',
      '{"error_type": "KeyError", "message": "nope"}',
      '--adapter',
      SHOWCASE,
      ...python,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: KeyError: .*nope/m);
    expect(r.stderr).toMatch(/Traceback \(most recent call last\)/);
  });

  it('takes positional values (JSON or text) and name=value pairs', async () => {
    const positional = await runCli(['call', 'add', '1', '2.5', '--adapter', SHOWCASE, ...python]);
    expect(positional.stderr).toBe('');
    expect(positional.stdout).toBe('3.5\n');
    const named = await runCli(['call', 'add', 'b=2', 'a=1', '--adapter', SHOWCASE, ...python]);
    expect(named.stdout).toBe('3\n');
    const text = await runCli([
      'call',
      'echo',
      'word=hello',
      'list=[1,2]',
      '--compact',
      '--adapter',
      SHOWCASE,
      ...python,
    ]);
    expect(JSON.parse(named.stdout)).toBe(3);
    expect(JSON.parse(text.stdout)).toEqual({ word: 'hello', list: [1, 2] });
    const generic = await runCli(['call', 'python.math.sqrt', '16'], { cwd: folder('generic-positional') });
    expect(generic.stderr).toBe('');
    expect(generic.stdout).toBe('4\n');
  });

  it('refuses bad arguments and unknown tools with the fix', async () => {
    const bad = await runCli(['call', 'add', '{a: 1}', '--adapter', SHOWCASE, ...python]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/the arguments are not valid JSON .*e\.g\. '\{"name": "Ada"\}'/);
    const many = await runCli(['call', 'add', '1', '2', '3', '--adapter', SHOWCASE, ...python]);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/takes 2 positional values \(a, b\), got 3; use name=value/);
    const twice = await runCli(['call', 'add', '1', 'a=2', '--adapter', SHOWCASE, ...python]);
    expect(twice.stderr).toMatch(/a is given twice/);
    const unknown = await runCli(['call', 'nope', '--adapter', SHOWCASE, ...python]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nope.*add.*echo/s);
    const timeout = await runCli(['call', 'add', '--timeout', 'soon', '--adapter', SHOWCASE, ...python]);
    expect(timeout.stderr).toMatch(/--timeout: must be a positive number of milliseconds, got soon/);
  });

  it('says what to do when there is nothing to call', async () => {
    const cwd = folder('empty');
    const r = await runCli(['call', 'add'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nothing to call: write snakepit\.config\.json .* pass --adapter module:Class .* python\.<module>\.<function>/,
    );
  });

  it('calls python.<module>.<function> with no config, through the generic adapter', async () => {
    const cwd = folder('generic-on-the-fly');
    const sqrt = await runCli(['call', 'python.math.sqrt', '{"_args": [16]}'], { cwd });
    expect(sqrt.stderr).toBe('');
    expect(JSON.parse(sqrt.stdout)).toBe(4);
    const mean = await runCli(['call', 'python.statistics.mean', '{"_args": [[1, 2, 3, 4]]}', '--compact'], {
      cwd,
    });
    expect(mean.stdout.trim()).toBe('2.5');
    const bad = await runCli(['call', 'python.math.sqrt', '{"x": 4}'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sqrt/);
    const missing = await runCli(['call', 'python.snakepit_no_such_module.fn'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot import module 'snakepit_no_such_module'.*pip install/);
  });
});

describe('snakepit inspect', () => {
  it('lists public callables with signatures and first doc lines', async () => {
    const r = await runCli(['inspect', 'statistics', ...python]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^statistics \(.*statistics\.py; imported in [\d.]+ ms\)$/m);
    expect(r.stdout).toMatch(/^ {2}mean\(data\)$/m);
    expect(r.stdout).toMatch(/^ {6}Return the sample arithmetic mean of data\.$/m);
    expect(r.stdout).toMatch(/^ {2}class NormalDist\(mu=0\.0, sigma=1\.0\)$/m);
    expect(r.stdout).toMatch(/^\d+ public callables$/m);
  });

  it('uses the pool of the config file (its pythonPath) and prints JSON', async () => {
    const cwd = folder('inspect-config', {
      'snakepit.config.json': JSON.stringify({
        adapter: SHOWCASE,
        pythonPath: ['./lib'],
        python: { executable: REPO_PYTHON },
      }),
    });
    folder('inspect-config/lib', {
      'my_tools.py':
        '"""My tools."""\nasync def fetch(url: str, *, retries: int = 3) -> bytes:\n    """Fetch a URL."""\n',
    });
    const r = await runCli(['inspect', 'my_tools', '--json'], { cwd });
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout) as { module: string; doc: string; callables: unknown[] };
    expect(d.doc).toBe('My tools.');
    expect(d.callables).toEqual([
      {
        name: 'fetch',
        kind: 'function',
        signature: '(url: str, *, retries: int = 3) -> bytes',
        doc: 'Fetch a URL.',
        is_async: true,
        is_generator: false,
      },
    ]);
  });

  it('fails with the fix for a module that is not there, and refuses names that are not modules', async () => {
    const r = await runCli(['inspect', 'snakepit_no_such_module', ...python]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot import snakepit_no_such_module: ModuleNotFoundError/);
    expect(r.stderr).toMatch(
      /fix: .*cannot find snakepit_no_such_module: install it .*or add its folder with --python-path/,
    );
    const bad = await runCli(['inspect', 'os; rm -rf /', ...python]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a Python module name/);
  });
});

describe('--help', () => {
  it.each([[[]], [['setup']], [['doctor']], [['gen']], [['gen', 'adapter']], [['call']], [['inspect']]])(
    'snakepit %j --help',
    async (words) => {
      const r = await runCli([...words, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: snakepit/);
      expect(r.stdout).not.toContain('\u001b[');
    },
  );
});
