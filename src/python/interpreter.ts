/**
 * Which Python runs the workers. One resolution order, shared by pools and the CLI:
 * explicit option → `SNAKEPIT_PYTHON` → `./.venv` → `python3` on PATH → `python` on PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import type { ResolvedPython } from '../config/config-types.js';

export interface ResolveOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of `command`: itself when it contains a slash, else the first match on PATH. */
export function findExecutable(command: string, options: ResolveOptions = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutableFile(path) ? path : undefined;
  }
  const pathVar = (options.env ?? process.env)['PATH'] ?? '';
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

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
  if (explicit !== undefined) {
    const found = findExecutable(explicit, options);
    if (!found) {
      throw new PythonEnvError(
        `python.executable "${explicit}" is not an executable file`,
        'fix the path in python.executable, or remove it to let snakepit find an interpreter',
      );
    }
    return { executable: found, source: 'python.executable option' };
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
    return { executable: found, source: 'SNAKEPIT_PYTHON' };
  }
  const venv = join(cwd, '.venv', 'bin', 'python');
  if (isExecutableFile(venv)) return { executable: venv, source: './.venv' };
  for (const name of ['python3', 'python']) {
    const found = findExecutable(name, options);
    if (found) return { executable: found, source: `${name} on PATH` };
  }
  throw new PythonEnvError('no Python interpreter found (tried SNAKEPIT_PYTHON, ./.venv, python3, python)', FIX_NO_PYTHON);
}
