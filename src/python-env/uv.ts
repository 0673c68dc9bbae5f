/**
 * uv (https://docs.astral.sh/uv/), when it is on PATH: a faster venv/pip, and managed Python installs.
 * snakepit never requires it; `snakepit setup` and `PythonPackages.ensure` use it when present, and interpreter
 * resolution asks it for a managed Python only when `python.strategy` is `"uv"`.
 */
import { spawnSync } from 'node:child_process';
import { findExecutable, type ResolveOptions } from './executables.js';

const UV_FIND_TIMEOUT_MS = 15_000;

/** The uv executable: `SNAKEPIT_UV` when set (a path, or `0` to never use uv), else `uv` on PATH. */
export function findUv(options: ResolveOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const wanted = env['SNAKEPIT_UV'];
  if (wanted === '0' || wanted === 'false') return undefined;
  return findExecutable(wanted || 'uv', options);
}

/** Ask uv for a uv-managed interpreter (`uv python find --python-preference only-managed [version]`). */
export function uvFindPython(
  uv: string,
  version: string | undefined,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): { executable?: string; message: string } {
  const r = spawnSync(uv, uvFindArgs(version), {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: UV_FIND_TIMEOUT_MS,
  });
  const out = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status === 0 && out) return { executable: out, message: '' };
  const message = (r.error?.message ?? (r.stderr || r.stdout || `exit code ${String(r.status)}`)).trim();
  return { message: message.split('\n').slice(-3).join(' ') };
}

/** Arguments of `uv python find` for a managed interpreter. */
export function uvFindArgs(version: string | undefined): string[] {
  return ['python', 'find', '--python-preference', 'only-managed', ...(version ? [version] : [])];
}

/** Arguments of `uv venv`: a venv at `dir` made from `python` (a path, or a version request such as `3.12`). */
export function uvVenvArgs(dir: string, python: string): string[] {
  return ['venv', '--python', python, dir];
}

/** Arguments of `uv pip install` into the environment of `python`. */
export function uvPipInstallArgs(python: string, specs: string[], requirementFiles: string[] = []): string[] {
  return ['pip', 'install', '--python', python, ...specs, ...requirementFiles.flatMap((f) => ['-r', f])];
}
