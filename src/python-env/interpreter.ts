/**
 * Which Python runs the workers. One resolution order, shared by pools, `PythonPackages` and the CLI:
 *
 *   1. the explicit `python.executable` option (top level, or per pool)
 *   2. the `SNAKEPIT_PYTHON` environment variable
 *   3. a project `./.venv` (relative to the pool's `cwd`, else the process's)
 *   4. the active virtual environment (`VIRTUAL_ENV`, set by `source .venv/bin/activate`)
 *   5. a uv-managed interpreter, when `python.strategy` is `"uv"` and `uv` is on PATH (`uv python find`)
 *   6. `python3`, then `python`, on PATH
 *
 * The answer says why it was chosen (`source`) and what was passed over on the way (`notes`), so `pit.workers()`
 * and `snakepit doctor` can show it. Resolution never runs Python itself (only `uv python find` when asked for),
 * so it stays cheap enough to run once per pool at start-up.
 */
import { join, resolve } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import type { ResolvedPython } from '../config/config-types.js';
import { findExecutable, type ResolveOptions, venvPython } from './executables.js';
import { findUv, uvFindPython } from './uv.js';

const FIX_NO_PYTHON =
  'install Python 3.9 or newer, or point snakepit at one: python.executable in the config, ' +
  'the SNAKEPIT_PYTHON environment variable, or a ./.venv made with `npx snakepit setup`';

/**
 * Resolve the interpreter.
 * @param explicit the `python.executable` option, if any
 * @throws PythonEnvError naming what was tried and how to fix it
 */
export function resolvePython(explicit: string | undefined, options: ResolveOptions = {}): ResolvedPython {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const notes: string[] = [];
  const done = (executable: string, source: string): ResolvedPython =>
    notes.length > 0 ? { executable, source, notes } : { executable, source };

  if (explicit !== undefined) {
    const found = findExecutable(explicit, options);
    if (!found) {
      throw new PythonEnvError(
        `python.executable "${explicit}" is not an executable file`,
        'fix the path in python.executable, or remove it to let snakepit find an interpreter',
      );
    }
    return done(found, 'python.executable option');
  }
  const fromEnv = env['SNAKEPIT_PYTHON'];
  if (fromEnv) {
    const found = findExecutable(fromEnv, options);
    if (!found) {
      throw new PythonEnvError(
        `SNAKEPIT_PYTHON="${fromEnv}" is not an executable file`,
        'point SNAKEPIT_PYTHON at a Python interpreter, or unset it',
      );
    }
    return done(found, 'SNAKEPIT_PYTHON');
  }
  const project = venvPython(join(cwd, '.venv'));
  if (project) return done(project, './.venv');

  const active = env['VIRTUAL_ENV'];
  if (active) {
    const found = venvPython(resolve(cwd, active));
    if (found) return done(found, `active virtual environment (VIRTUAL_ENV=${active})`);
    notes.push(`VIRTUAL_ENV=${active} has no bin/python; ignored`);
  }

  if (options.strategy === 'uv') {
    const uv = findUv(options);
    if (!uv) {
      notes.push('python.strategy is "uv" but uv is not on PATH; fell back to PATH');
    } else {
      const found = uvFindPython(uv, options.version, { cwd, env });
      if (found.executable) {
        return done(found.executable, `uv-managed Python${options.version ? ` ${options.version}` : ''}`);
      }
      throw new PythonEnvError(
        `uv has no managed Python${options.version ? ` matching ${options.version}` : ''}: ${found.message}`,
        `install one with \`uv python install${options.version ? ` ${options.version}` : ''}\`, ` +
          'or drop python.strategy "uv"',
      );
    }
  }

  for (const name of ['python3', 'python']) {
    const found = findExecutable(name, options);
    if (found) return done(found, `${name} on PATH`);
  }
  throw new PythonEnvError(
    'no Python interpreter found (tried SNAKEPIT_PYTHON, ./.venv, VIRTUAL_ENV, python3, python)',
    FIX_NO_PYTHON,
  );
}
