/** The oldest and newest Python the bridge supports, when this machine has them (for tests across versions). */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../src/python-env/executables.js';

/** python3.X on PATH, or pyenv's copy of it (pyenv's shims only answer for the selected versions). */
export function findPython(minor: string): string | undefined {
  const onPath = findExecutable(`python${minor}`);
  const pyenv = join(process.env['PYENV_ROOT'] ?? join(homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const entry of readdirSync(pyenv)) {
      const exe = join(pyenv, entry, 'bin', `python${minor}`);
      if (entry.startsWith(`${minor}.`) && existsSync(exe)) return exe;
    }
  }
  return onPath && !onPath.includes('/shims/') ? onPath : undefined;
}

/** `[label, executable]`: the test venv's Python (undefined: the default), then 3.9 and 3.13 when found. */
export function testPythons(): Array<readonly [string, string | undefined]> {
  const found: Array<readonly [string, string | undefined]> = [['default', undefined]];
  for (const minor of ['3.9', '3.13']) {
    const exe = findPython(minor);
    if (exe) found.push([minor, exe]);
    else
      console.warn(
        `skipping the Python ${minor} variant: python${minor} not found (PATH or ~/.pyenv/versions)`,
      );
  }
  return found;
}
