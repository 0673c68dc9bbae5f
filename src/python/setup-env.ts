/**
 * `snakepit setup`: create or reuse a virtual environment and install what the workers need, idempotently.
 *
 * A stamp file in the venv records the interpreter version and the exact package list (requirement files
 * hashed by content); when nothing changed, setup returns at once without running pip.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import { findExecutable } from './interpreter.js';

export interface SetupOptions {
  cwd: string;
  /** Interpreter that creates the venv. Default: SNAKEPIT_PYTHON, else python3 on PATH. */
  python?: string | undefined;
  /** Venv directory, relative to cwd. Default `.venv`. */
  venv?: string;
  /** Packages (pip requirement specifiers). */
  packages: string[];
  /** Requirement files (`pip install -r`). */
  requirementFiles: string[];
  /** Progress lines (what is happening now). */
  onProgress: (line: string) => void;
  /** pip's own output lines. */
  onOutput?: (line: string) => void;
}

export interface SetupResult {
  venv: string;
  python: string;
  /** False when the stamp matched and nothing was run. */
  changed: boolean;
}

const STAMP_FILE = '.snakepit-setup.json';

interface RunResult {
  code: number | null;
  output: string[];
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        output.push(line);
        if (output.length > 200) output.shift();
        onLine?.(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => {
      output.push(String(err));
      resolvePromise({ code: null, output });
    });
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

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

async function pythonVersion(python: string): Promise<string> {
  const r = await run(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], process.env);
  const version = r.output[0]?.trim() ?? '';
  if (r.code !== 0 || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new PythonEnvError(`cannot run ${python}: ${r.output.join(' ').slice(0, 300)}`, 'check the interpreter path');
  }
  const [major, minor] = version.split('.').map(Number) as [number, number];
  if (major < 3 || (major === 3 && minor < 9)) {
    throw new PythonEnvError(`${python} is Python ${version}; snakepit needs 3.9 or newer`, 'pass --python with a newer interpreter');
  }
  return version;
}

export async function setupEnvironment(options: SetupOptions): Promise<SetupResult> {
  const venv = resolve(options.cwd, options.venv ?? '.venv');
  const venvPython = join(venv, 'bin', 'python');
  const progress = options.onProgress;

  if (!existsSync(venvPython)) {
    const base = baseInterpreter(options.python, options.cwd);
    const version = await pythonVersion(base);
    progress(`creating ${venv} with Python ${version} (${base})`);
    const r = await run(base, ['-m', 'venv', venv], process.env, options.onOutput);
    if (r.code !== 0) {
      throw new PythonEnvError(
        `could not create a virtual environment at ${venv}:\n  ${r.output.slice(-5).join('\n  ')}`,
        'on Debian/Ubuntu install the venv module (`apt-get install python3-venv`), or pass --python',
      );
    }
  }
  const version = await pythonVersion(venvPython);

  const files = options.requirementFiles.map((f) => resolve(options.cwd, f));
  for (const f of files) {
    if (!existsSync(f)) throw new PythonEnvError(`requirements file ${f} does not exist`, 'fix the path or drop the option');
  }
  const hash = createHash('sha256');
  hash.update(version);
  for (const p of [...options.packages].sort()) hash.update(`\0pkg:${p}`);
  for (const f of files) hash.update(`\0file:${f}\0`).update(readFileSync(f));
  const stamp = hash.digest('hex');
  const stampPath = join(venv, STAMP_FILE);
  if (existsSync(stampPath)) {
    try {
      if ((JSON.parse(readFileSync(stampPath, 'utf8')) as { stamp?: string }).stamp === stamp) {
        progress(`${venv} is up to date (Python ${version})`);
        return { venv, python: venvPython, changed: false };
      }
    } catch {
      /* a damaged stamp just means we install again */
    }
  }

  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', ...options.packages];
  for (const f of files) args.push('-r', f);
  if (options.packages.length === 0 && files.length === 0) {
    progress('nothing to install');
  } else {
    progress(`installing ${[...options.packages, ...files.map((f) => `-r ${f}`)].join(', ')}`);
    // Without these, pip on a machine with no route to its index retries for minutes before failing.
    const env = { ...process.env, PIP_RETRIES: process.env['PIP_RETRIES'] ?? '1', PIP_TIMEOUT: process.env['PIP_TIMEOUT'] ?? '15' };
    const r = await run(venvPython, args, env, options.onOutput);
    if (r.code !== 0) {
      const tail = r.output.slice(-8).join('\n  ');
      const offline = /(Could not find a version|No matching distribution|Failed to establish|Network is unreachable|Temporary failure in name resolution)/.test(tail);
      throw new PythonEnvError(
        `pip could not install the packages:\n  ${tail}`,
        offline
          ? 'pip cannot reach a package index: check the network, or point pip at a mirror (PIP_INDEX_URL / PIP_FIND_LINKS)'
          : 'read pip\'s message above; fix the requirement, then run setup again',
      );
    }
  }
  writeFileSync(stampPath, JSON.stringify({ stamp, python: version, packages: options.packages, files }, null, 2));
  progress(`${venv} is ready (Python ${version})`);
  return { venv, python: venvPython, changed: true };
}
