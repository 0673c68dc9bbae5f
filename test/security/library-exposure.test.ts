// Attack 2 and its variants: a library exposes more than its operator meant. By default a library serves only the
// functions it lists, so numpy.savetxt cannot plant a .pth file; modules that run processes or code (os,
// subprocess, pty, posix, pickle, ...) need an explicit opt-in; a function of such a module re-exported by an
// innocent library is not served; toLlmTools hands a model only listed functions.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  Snakepit,
  type SnakepitConfig,
  toLlmTools,
  UnknownToolError,
  WorkerStartError,
} from '../../src/index.js';
import { isUnsafeModule, UNSAFE_MODULES } from '../../src/config/library-config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { bridgeDirectory } from '../../src/python-env/bridge-path.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';
import { marker, refusal } from './security-helpers.js';

const PYTHON = resolvePython(undefined).executable;
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

function libraries(libs: NonNullable<SnakepitConfig['libraries']>): SnakepitConfig {
  return { size: 1, logger: false, pythonPath: [FIXTURES_PYTHONPATH], libraries: libs };
}

describe.runIf(requireOptional(HAS_NUMPY, 'numpy (the numpy.savetxt attack)'))(
  'attack: numpy.savetxt plants a .pth file',
  () => {
    const pth = marker('pth');
    afterAll(() => pth.remove());
    const plant = (pit: Snakepit): Promise<unknown> =>
      pit.execute('python.numpy.savetxt', {
        _args: [pth.path, [[1]]], // in site-packages, as a .pth file, it would run at the next start
        header: 'import os; os.system("id")',
        comments: '',
      });

    it('with the default exposure the attack cannot start: a library must list its functions', async () => {
      const attack = async (): Promise<unknown> => {
        const pit = await Snakepit.start(libraries([{ name: 'numpy', module: 'numpy' }]));
        try {
          return await plant(pit);
        } finally {
          await pit.close();
        }
      };
      const err = (await refusal(attack())) as ConfigError;
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.key).toBe('pool.libraries[0].functions');
      expect(err.message).toMatch(/expose: "public"/);
      expect(pth.exists()).toBe(false);
    });

    it('a library that lists its functions serves nothing else: savetxt is an unknown tool, no file written', async () => {
      const pit = await Snakepit.start(libraries([{ name: 'numpy', module: 'numpy', functions: ['mean'] }]));
      try {
        const err = await refusal(plant(pit));
        expect(err).toBeInstanceOf(UnknownToolError);
        expect(err.message).toMatch(/serves only the functions listed/);
        expect(pth.exists()).toBe(false);
        expect(await pit.execute('python.numpy.mean', { _args: [[1, 2, 3]] })).toBe(2);
      } finally {
        await pit.close();
      }
    });
  },
);

describe('attack: libraries that run processes or code', () => {
  it.each([
    'os',
    'subprocess',
    'pty',
    'posix',
    'sys',
    'pickle',
    'marshal',
    'shutil',
    'os.path',
    'multiprocessing',
  ])('%s as a library needs allowUnsafe (ConfigError naming the module)', (module) => {
    expect(() => resolveConfig(libraries([{ name: 'x', module, functions: ['system'] }]))).toThrow(
      /can run processes or code: a library of it needs allowUnsafe: true/,
    );
  });

  it('builtins, importlib, runpy, code and ctypes stay refused even with allowUnsafe', () => {
    for (const module of ['builtins', 'importlib', 'runpy', 'code', 'ctypes']) {
      expect(() =>
        resolveConfig(libraries([{ name: 'x', module, functions: ['f'], allowUnsafe: true }])),
      ).toThrow(/runs arbitrary code/);
    }
  });

  it('a hand-started worker refuses them too (the worker checks its configuration again)', () => {
    const config = JSON.stringify({ libraries: [{ name: 'x', module: 'subprocess', functions: ['run'] }] });
    const out = spawnSync(
      PYTHON,
      ['-c', 'from snakepit_bridge.generic.config import load_config\nload_config()'],
      {
        env: { ...process.env, PYTHONPATH: bridgeDirectory(), SNAKEPIT_GENERIC_CONFIG: config },
        encoding: 'utf8',
      },
    );
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(
      /ConfigProblem: libraries\[0\]\.module: 'subprocess' can run processes or code/,
    );
  });

  it('with allowUnsafe the operator gets what they asked for, and only the listed function', async () => {
    const pwned = marker('unsafe');
    const pit = await Snakepit.start(
      libraries([{ name: 'osl', module: 'os', functions: ['getcwd'], allowUnsafe: true }]),
    );
    try {
      expect(typeof (await pit.execute('python.osl.getcwd'))).toBe('string');
      const err = await refusal(pit.execute('python.osl.system', { _args: [`touch ${pwned.path}`] }));
      expect(err).toBeInstanceOf(UnknownToolError);
      expect(pwned.exists()).toBe(false);
    } finally {
      await pit.close();
      pwned.remove();
    }
  });

  it('functions of such modules re-exported by an innocent library are not served', async () => {
    const pwned = marker('reexport');
    const pit = await Snakepit.start(
      libraries([{ name: 'lib', module: 'snakepit_fixtures.reexports', expose: 'public' }]),
    );
    try {
      expect(pit.describe('python.lib').map((t) => t.name)).toEqual(['python.lib.mean']);
      for (const name of ['system', 'load_model', 'run_report']) {
        const err = await refusal(pit.execute(`python.lib.${name}`, { _args: [`touch ${pwned.path}`] }));
        expect(err).toBeInstanceOf(UnknownToolError);
      }
      expect(pwned.exists()).toBe(false);
    } finally {
      await pit.close();
      pwned.remove();
    }
    // Listed by name, such a function fails the start, saying why.
    const err = await refusal(
      Snakepit.start(
        libraries([{ name: 'lib', module: 'snakepit_fixtures.reexports', functions: ['system'] }]),
      ),
    );
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toMatch(/belongs to 'posix', a module that runs processes or code/);
  });

  it('the host and the worker use the same list of unsafe modules', () => {
    const out = spawnSync(
      PYTHON,
      [
        '-c',
        'import json; from snakepit_bridge.names import UNSAFE_MODULES as M; print(json.dumps(sorted(M)))',
      ],
      { env: { ...process.env, PYTHONPATH: bridgeDirectory() }, encoding: 'utf8' },
    );
    expect(JSON.parse(out.stdout)).toEqual([...UNSAFE_MODULES].sort());
    expect(isUnsafeModule('_pickle')).toBe(true);
    expect(isUnsafeModule('numpy')).toBe(false);
  });
});

describe('toLlmTools exports only listed library functions', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await Snakepit.start(
      libraries([
        { name: 'math', module: 'math', expose: 'public', functions: ['sqrt'], aliases: { root: 'sqrt' } },
      ]),
    );
  });
  afterAll(() => pit?.close());

  it('a library with expose: "public" serves every public callable, but a model sees only the listed ones', async () => {
    const served = pit.describe().map((t) => t.name);
    expect(served).toEqual(
      expect.arrayContaining(['python.math.sqrt', 'python.math.hypot', 'python.math.root']),
    );
    expect(await pit.execute('python.math.hypot', { _args: [3, 4] })).toBe(5);
    const exported = toLlmTools(pit.describe()).map((t) => t.name);
    expect(exported.sort()).toEqual(['python.math.root', 'python.math.sqrt']);
  });
});
