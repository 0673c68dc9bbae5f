// Interpreter resolution, against real directories: which Python is chosen, and why, in each situation.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError, PythonEnvError } from '../../src/errors/errors.js';
import { findExecutable } from '../../src/python-env/executables.js';
import { resolvePython } from '../../src/python-env/interpreter.js';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
const realPython = findExecutable('python3')!;
let root: string;

/** A directory that looks like a venv: bin/python is a link to a real interpreter. */
function fakeVenv(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  symlinkSync(realPython, join(dir, 'bin', 'python'));
  return join(dir, 'bin', 'python');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'snakepit-interp-'));
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'project'));
  fakeVenv(join(root, 'project', '.venv'));
  fakeVenv(join(root, 'active'));
  mkdirSync(join(root, 'pathdir'));
  symlinkSync(realPython, join(root, 'pathdir', 'python3'));
  mkdirSync(join(root, 'pathdir2'));
  symlinkSync(realPython, join(root, 'pathdir2', 'python'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolvePython', () => {
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: join(root, 'pathdir'),
    ...extra,
  });

  it('takes the explicit option first', () => {
    const r = resolvePython(realPython, { cwd: join(root, 'project'), env: env({ SNAKEPIT_PYTHON: 'x' }) });
    expect(r).toEqual({ executable: realPython, source: 'python.executable option' });
  });

  it('then SNAKEPIT_PYTHON, and refuses one that does not exist', () => {
    const r = resolvePython(undefined, {
      cwd: join(root, 'project'),
      env: env({ SNAKEPIT_PYTHON: realPython }),
    });
    expect(r.source).toBe('SNAKEPIT_PYTHON');
    expect(() => resolvePython(undefined, { env: env({ SNAKEPIT_PYTHON: '/nope/python' }) })).toThrow(
      /SNAKEPIT_PYTHON="\/nope\/python" is not an executable file/,
    );
  });

  it('then ./.venv of the working directory, before an active VIRTUAL_ENV', () => {
    const r = resolvePython(undefined, {
      cwd: join(root, 'project'),
      env: env({ VIRTUAL_ENV: join(root, 'active') }),
    });
    expect(r).toEqual({ executable: join(root, 'project', '.venv', 'bin', 'python'), source: './.venv' });
  });

  it('then the active VIRTUAL_ENV', () => {
    const r = resolvePython(undefined, {
      cwd: join(root, 'empty'),
      env: env({ VIRTUAL_ENV: join(root, 'active') }),
    });
    expect(r.executable).toBe(join(root, 'active', 'bin', 'python'));
    expect(r.source).toBe(`active virtual environment (VIRTUAL_ENV=${join(root, 'active')})`);
  });

  it('notes a VIRTUAL_ENV without an interpreter, and goes on to PATH', () => {
    const r = resolvePython(undefined, {
      cwd: join(root, 'empty'),
      env: env({ VIRTUAL_ENV: join(root, 'empty') }),
    });
    expect(r.source).toBe('python3 on PATH');
    expect(r.notes).toEqual([`VIRTUAL_ENV=${join(root, 'empty')} has no bin/python; ignored`]);
  });

  it('notes strategy "uv" when uv is not on PATH', () => {
    const r = resolvePython(undefined, {
      cwd: join(root, 'empty'),
      env: env(),
      strategy: 'uv',
      version: '3.12',
    });
    expect(r.source).toBe('python3 on PATH');
    expect(r.notes).toEqual(['python.strategy is "uv" but uv is not on PATH; fell back to PATH']);
  });

  it('then python3, then python on PATH', () => {
    expect(resolvePython(undefined, { cwd: join(root, 'empty'), env: env() }).executable).toBe(
      join(root, 'pathdir', 'python3'),
    );
    const r = resolvePython(undefined, { cwd: join(root, 'empty'), env: { PATH: join(root, 'pathdir2') } });
    expect(r).toEqual({ executable: join(root, 'pathdir2', 'python'), source: 'python on PATH' });
  });

  it('fails with the fix when there is no interpreter at all', () => {
    let caught: unknown;
    try {
      resolvePython(undefined, { cwd: join(root, 'empty'), env: { PATH: join(root, 'empty') } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PythonEnvError);
    expect((caught as PythonEnvError).fix).toMatch(/install Python 3.9 or newer/);
  });
});

describe('python config section', () => {
  it('checks strategy, version and packages, and keeps packages at the top level', () => {
    const key = (config: unknown): string => {
      try {
        const c = config as Record<string, unknown>;
        resolveConfig({ ...(c['pools'] ? {} : { adapter: ADAPTER }), logger: false, ...c });
      } catch (err) {
        if (err instanceof ConfigError) return err.key;
        throw err;
      }
      return 'none';
    };
    expect(key({ python: { strategy: 'conda' } })).toBe('python.strategy');
    expect(key({ python: { version: '3.12; rm -rf /' } })).toBe('python.version');
    expect(key({ python: { packages: ['numpy', '--pre'] } })).toBe('python.packages[1]');
    expect(key({ python: { packages: 'numpy' } })).toBe('python.packages');
    expect(key({ pools: [{ name: 'a', adapter: ADAPTER, python: { packages: ['x'] } }] })).toBe(
      'pools[0].python.packages',
    );
    expect(key({ python: { packages: ['numpy>=1.26'], strategy: 'auto' } })).toBe('none');
  });

  it('lets a pool override the interpreter, and says so in the resolved config', () => {
    const config = resolveConfig({
      logger: false,
      python: { executable: realPython },
      pools: [
        { name: 'a', adapter: ADAPTER, size: 1 },
        {
          name: 'b',
          adapter: ADAPTER,
          size: 1,
          python: { executable: join(root, 'active', 'bin', 'python') },
        },
      ],
    });
    expect(config.pools[0]!.python).toEqual({ executable: realPython, source: 'python.executable option' });
    expect(config.pools[1]!.python.executable).toBe(join(root, 'active', 'bin', 'python'));
  });
});
