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
 * so it stays cheap enough to run once per pool at start-up; `Snakepit.start` runs it asynchronously
 * (`findPython`), after the pure `resolveConfig`.
 */
import { join, resolve } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import type { ResolvedPython } from '../config/config-types.js';
import {
  findExecutable,
  findExecutableAsync,
  type ResolveOptions,
  venvPython,
  venvPythonAsync,
} from './executables.js';
import { findUv, findUvAsync, uvFindPython, uvFindPythonAsync } from './uv.js';

const FIX_NO_PYTHON =
  'install Python 3.9 or newer, or point snakepit at one: python.executable in the config, ' +
  'the SNAKEPIT_PYTHON environment variable, or a ./.venv made with `npx snakepit setup`';

/**
 * One probe of the filesystem the resolution needs answered: an executable by name or path, the interpreter of a
 * virtual environment, or uv's managed Python. The order below is written once and asks its questions through
 * these, so the same steps run synchronously (`resolvePython`, for the CLI) or without blocking the event loop
 * (`findPython`, for `Snakepit.start`).
 */
type Probe =
  | { kind: 'executable'; command: string }
  | { kind: 'venv'; dir: string }
  | { kind: 'uv' }
  | { kind: 'uv-python'; uv: string; version: string | undefined };
type Answer = string | undefined | { executable?: string; message: string };

function* resolutionSteps(
  explicit: string | undefined,
  options: ResolveOptions,
): Generator<Probe, ResolvedPython, Answer> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const notes: string[] = [];
  const done = (executable: string, source: string): ResolvedPython =>
    notes.length > 0 ? { executable, source, notes } : { executable, source };

  if (explicit !== undefined) {
    const found = (yield { kind: 'executable', command: explicit }) as string | undefined;
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
    const found = (yield { kind: 'executable', command: fromEnv }) as string | undefined;
    if (!found) {
      throw new PythonEnvError(
        `SNAKEPIT_PYTHON="${fromEnv}" is not an executable file`,
        'point SNAKEPIT_PYTHON at a Python interpreter, or unset it',
      );
    }
    return done(found, 'SNAKEPIT_PYTHON');
  }
  const project = (yield { kind: 'venv', dir: join(cwd, '.venv') }) as string | undefined;
  if (project) return done(project, './.venv');

  const active = env['VIRTUAL_ENV'];
  if (active) {
    const found = (yield { kind: 'venv', dir: resolve(cwd, active) }) as string | undefined;
    if (found) return done(found, `active virtual environment (VIRTUAL_ENV=${active})`);
    notes.push(`VIRTUAL_ENV=${active} has no bin/python; ignored`);
  }

  if (options.strategy === 'uv') {
    const uv = (yield { kind: 'uv' }) as string | undefined;
    if (!uv) {
      notes.push('python.strategy is "uv" but uv is not on PATH; fell back to PATH');
    } else {
      const found = (yield { kind: 'uv-python', uv, version: options.version }) as {
        executable?: string;
        message: string;
      };
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
    const found = (yield { kind: 'executable', command: name }) as string | undefined;
    if (found) return done(found, `${name} on PATH`);
  }
  throw new PythonEnvError(
    'no Python interpreter found (tried SNAKEPIT_PYTHON, ./.venv, VIRTUAL_ENV, python3, python)',
    FIX_NO_PYTHON,
  );
}

/**
 * Resolve the interpreter, blocking (the CLI, helpers, tests). `Snakepit.start` uses `findPython`.
 * @param explicit the `python.executable` option, if any
 * @throws PythonEnvError naming what was tried and how to fix it
 */
export function resolvePython(explicit: string | undefined, options: ResolveOptions = {}): ResolvedPython {
  const steps = resolutionSteps(explicit, options);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let next = steps.next();
  while (!next.done) {
    const probe = next.value;
    const answer: Answer =
      probe.kind === 'executable'
        ? findExecutable(probe.command, options)
        : probe.kind === 'venv'
          ? venvPython(probe.dir)
          : probe.kind === 'uv'
            ? findUv(options)
            : uvFindPython(probe.uv, probe.version, { cwd, env });
    next = steps.next(answer);
  }
  return next.value;
}

/**
 * Resolve the interpreter without blocking the event loop: the same order as `resolvePython`, its file checks
 * and `uv python find` (up to 15 s) asynchronous. `Snakepit.start` runs it once per pool, after the pure
 * `resolveConfig`.
 * @throws PythonEnvError naming what was tried and how to fix it
 */
export async function findPython(
  explicit: string | undefined,
  options: ResolveOptions = {},
): Promise<ResolvedPython> {
  const steps = resolutionSteps(explicit, options);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let next = steps.next();
  while (!next.done) {
    const probe = next.value;
    const answer: Answer =
      probe.kind === 'executable'
        ? await findExecutableAsync(probe.command, options)
        : probe.kind === 'venv'
          ? await venvPythonAsync(probe.dir)
          : probe.kind === 'uv'
            ? await findUvAsync(options)
            : await uvFindPythonAsync(probe.uv, probe.version, { cwd, env });
    next = steps.next(answer);
  }
  return next.value;
}
