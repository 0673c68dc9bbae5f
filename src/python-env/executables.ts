/**
 * Finding executables: on PATH, by path, inside a virtual environment. Shared by interpreter resolution and uv.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface ResolveOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `"uv"`: use a uv-managed interpreter at step 5. Default `"auto"` (no uv step). */
  strategy?: 'auto' | 'uv';
  /** The Python version asked of uv (`"3.12"`, `">=3.11"`). Only with `strategy: "uv"`. */
  version?: string;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function isExecutableFileAsync(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Where `command` may be: itself when it contains a slash, else each directory of PATH, in order. */
function candidates(command: string, options: ResolveOptions): string[] {
  if (command.includes('/')) {
    return [isAbsolute(command) ? command : resolve(options.cwd ?? process.cwd(), command)];
  }
  const pathVar = (options.env ?? process.env)['PATH'] ?? '';
  return pathVar
    .split(delimiter)
    .filter((dir) => dir)
    .map((dir) => join(dir, command));
}

/** The absolute path of `command`: itself when it contains a slash, else the first match on PATH. */
export function findExecutable(command: string, options: ResolveOptions = {}): string | undefined {
  return candidates(command, options).find(isExecutableFile);
}

/** `findExecutable` without blocking the event loop. */
export async function findExecutableAsync(
  command: string,
  options: ResolveOptions = {},
): Promise<string | undefined> {
  for (const candidate of candidates(command, options)) {
    if (await isExecutableFileAsync(candidate)) return candidate;
  }
  return undefined;
}

/** The interpreter inside a virtual environment directory, when there is one. */
export function venvPython(venvDir: string): string | undefined {
  for (const name of ['python', 'python3']) {
    const candidate = join(venvDir, 'bin', name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** `venvPython` without blocking the event loop. */
export async function venvPythonAsync(venvDir: string): Promise<string | undefined> {
  for (const name of ['python', 'python3']) {
    const candidate = join(venvDir, 'bin', name);
    if (await isExecutableFileAsync(candidate)) return candidate;
  }
  return undefined;
}
