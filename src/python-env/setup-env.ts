/**
 * `snakepit setup`: create or reuse a virtual environment and install what the workers need, idempotently.
 *
 * The venv is made with `uv venv` when uv is on PATH, else `python -m venv`; packages go in with `uv pip
 * install` or pip the same way. A stamp file in the venv records the interpreter version and the exact package
 * list (requirement files hashed by content); when nothing changed, setup returns at once without an installer.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import { installPackages } from './install.js';
import { findExecutable, venvPython } from './executables.js';
import { runProcess } from './run-process.js';
import { findUv, uvVenvArgs } from './uv.js';

export interface SetupOptions {
  cwd: string;
  /** Interpreter that creates the venv. Default: SNAKEPIT_PYTHON, else python3 on PATH. */
  python?: string | undefined;
  /** A Python version for uv to create the venv with (`3.12`), when uv is used and `python` is not given. */
  pythonVersion?: string | undefined;
  /** Venv directory, relative to cwd. Default `.venv`. */
  venv?: string;
  /** Packages (pip requirement specifiers). */
  packages: string[];
  /** Requirement files (`pip install -r`). */
  requirementFiles: string[];
  /** Use uv when it is on PATH. Default true. */
  useUv?: boolean;
  /** Progress lines (what is happening now). */
  onProgress: (line: string) => void;
  /** The installer's own output lines. */
  onOutput?: (line: string) => void;
  /** Give up on one installer (or venv creation) run after this long. Default 300 s. */
  timeoutMs?: number;
  /**
   * The folder holding `snakepit_bridge/`, made importable in the venv by a `.pth` file (so editors, type checkers
   * and scripts resolve `from snakepit_bridge import ...`) without writing anything into it. Omit to skip.
   */
  bridgeDir?: string;
}

export interface SetupResult {
  venv: string;
  python: string;
  pythonVersion: string;
  /** False when the stamp matched and nothing was run. */
  changed: boolean;
  /** What installed the packages (`none` when nothing ran). */
  installer: 'pip' | 'uv' | 'none';
}

const STAMP_FILE = '.snakepit-setup.json';
const VERSION_TIMEOUT_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 300_000;
/** The `.pth` file that puts the bundled bridge on the venv's `sys.path`. */
export const BRIDGE_PTH = 'snakepit_bridge.pth';

function baseInterpreter(explicit: string | undefined, cwd: string): string {
  const wanted = explicit ?? process.env['SNAKEPIT_PYTHON'];
  const candidates = wanted ? [wanted] : ['python3', 'python'];
  for (const c of candidates) {
    const found = findExecutable(c, { cwd });
    if (found) return found;
  }
  throw new PythonEnvError(
    wanted ? `"${wanted}" is not an executable Python interpreter` : 'no python3 or python on PATH',
    'install Python 3.9 or newer (e.g. `apt-get install python3 python3-venv`), or pass --python /path/to/python',
  );
}

/** `3.11.7` of an interpreter, checked to be at least 3.9. */
export async function pythonVersion(python: string): Promise<string> {
  const r = await runProcess(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    timeoutMs: VERSION_TIMEOUT_MS,
  });
  const version = r.stdout.trim();
  if (r.code !== 0 || !/^\d+\.\d+\.\d+$/.test(version)) {
    const why = r.spawnError?.message ?? r.output.join(' ').slice(0, 300);
    throw new PythonEnvError(`cannot run ${python}: ${why}`, 'check the interpreter path');
  }
  const [major, minor] = version.split('.').map(Number) as [number, number];
  if (major < 3 || (major === 3 && minor < 9)) {
    throw new PythonEnvError(
      `${python} is Python ${version}; snakepit needs 3.9 or newer`,
      'pass --python with a newer interpreter',
    );
  }
  return version;
}

async function createVenv(venv: string, options: SetupOptions, uv: string | undefined): Promise<void> {
  const progress = options.onProgress;
  const onLine = options.onOutput ? { onLine: options.onOutput } : {};
  if (uv) {
    const python = options.python ?? options.pythonVersion ?? baseInterpreter(undefined, options.cwd);
    progress(`creating ${venv} with uv (Python ${python})`);
    const r = await runProcess(uv, uvVenvArgs(venv, python), {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...onLine,
    });
    if (r.code !== 0) {
      throw new PythonEnvError(
        `uv could not create a virtual environment at ${venv}:\n  ${r.output.slice(-5).join('\n  ')}`,
        `check the Python request (--python), or set SNAKEPIT_UV=0 to use \`python -m venv\``,
      );
    }
    return;
  }
  const base = baseInterpreter(options.python, options.cwd);
  const version = await pythonVersion(base);
  progress(`creating ${venv} with Python ${version} (${base})`);
  const r = await runProcess(base, ['-m', 'venv', venv], {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...onLine,
  });
  if (r.code !== 0) {
    throw new PythonEnvError(
      `could not create a virtual environment at ${venv}:\n  ${r.output.slice(-5).join('\n  ')}`,
      'on Debian/Ubuntu install the venv module (`apt-get install python3-venv`), or pass --python',
    );
  }
}

function stampOf(version: string, packages: string[], files: string[]): string {
  const hash = createHash('sha256');
  hash.update(version);
  for (const p of [...packages].sort()) hash.update(`\0pkg:${p}`);
  for (const f of files) hash.update(`\0file:${f}\0`).update(readFileSync(f));
  return hash.digest('hex');
}

function stampMatches(path: string, stamp: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { stamp?: string }).stamp === stamp;
  } catch {
    return false; // missing or damaged: install again
  }
}

/**
 * Create or update the venv.
 * @throws PythonEnvError with the fix (no interpreter, no venv module, pip cannot reach an index, ...)
 */
export async function setupEnvironment(options: SetupOptions): Promise<SetupResult> {
  const venv = resolve(options.cwd, options.venv ?? '.venv');
  const progress = options.onProgress;
  const uv = options.useUv === false ? undefined : findUv({ cwd: options.cwd });

  if (!venvPython(venv)) await createVenv(venv, options, uv);
  const python = venvPython(venv);
  if (!python) {
    throw new PythonEnvError(
      `${venv} was created but has no bin/python`,
      `remove ${venv} and run setup again, or pass --python`,
    );
  }
  const version = await pythonVersion(python);

  const files = options.requirementFiles.map((f) => resolve(options.cwd, f));
  for (const f of files) {
    if (!existsSync(f))
      throw new PythonEnvError(`requirements file ${f} does not exist`, 'fix the path or drop the option');
  }
  if (options.bridgeDir !== undefined) await linkBridge(python, options.bridgeDir, progress);
  const stamp = stampOf(version, options.packages, files);
  const stampPath = join(venv, STAMP_FILE);
  if (stampMatches(stampPath, stamp)) {
    progress(`${venv} is up to date (Python ${version})`);
    return { venv, python, pythonVersion: version, changed: false, installer: 'none' };
  }

  let installer: SetupResult['installer'] = 'none';
  if (options.packages.length === 0 && files.length === 0) {
    progress('nothing to install');
  } else {
    const what = [...options.packages, ...files.map((f) => `-r ${f}`)];
    progress(`installing ${what.join(', ')}${uv ? ' with uv' : ''}`);
    installer = await installPackages({
      python,
      specs: options.packages,
      requirementFiles: files,
      installer: uv ? 'uv' : 'pip',
      cwd: options.cwd,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      onLine: (line) => {
        options.onOutput?.(line);
        const step = installerStep(line);
        if (step) progress(step);
      },
    });
  }
  writeFileSync(
    stampPath,
    JSON.stringify({ stamp, python: version, packages: options.packages, files, installer }, null, 2),
  );
  progress(`${venv} is ready (Python ${version})`);
  return { venv, python, pythonVersion: version, changed: true, installer };
}

/**
 * Make `snakepit_bridge` importable in the venv: a `.pth` file in its site-packages naming the folder that holds
 * it. Nothing is built or copied, and nothing is written into that folder (it may be inside node_modules); a
 * second run rewrites the file only when the folder moved.
 */
async function linkBridge(
  python: string,
  bridgeDir: string,
  progress: (line: string) => void,
): Promise<void> {
  const r = await runProcess(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], {
    timeoutMs: VERSION_TIMEOUT_MS,
  });
  const purelib = r.stdout.trim();
  if (r.code !== 0 || !purelib) {
    throw new PythonEnvError(
      `cannot find the site-packages folder of ${python}: ${r.output.slice(-3).join(' ')}`,
      'remove the venv and run setup again',
    );
  }
  const pth = join(purelib, BRIDGE_PTH);
  const line = `${resolve(bridgeDir)}\n`;
  if (existsSync(pth) && readFileSync(pth, 'utf8') === line) return;
  mkdirSync(purelib, { recursive: true });
  writeFileSync(pth, line);
  progress(`snakepit_bridge importable in the venv (${pth})`);
}

/** The installer output lines worth showing as progress (pip's and uv's own wording). */
function installerStep(line: string): string | undefined {
  const trimmed = line.trim();
  if (/^(Collecting|Successfully installed|Resolved \d+|Installed \d+|Prepared \d+)/.test(trimmed)) {
    return `  ${trimmed}`;
  }
  return undefined;
}
