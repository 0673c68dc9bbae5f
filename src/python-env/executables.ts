/**
 * Finding executables: on PATH, by path, inside a virtual environment. Shared by interpreter resolution and uv.
 */
import { accessSync, constants, statSync } from 'node:fs';
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

/** The interpreter inside a virtual environment directory, when there is one. */
export function venvPython(venvDir: string): string | undefined {
  for (const name of ['python', 'python3']) {
    const candidate = join(venvDir, 'bin', name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
