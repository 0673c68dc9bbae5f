/**
 * Run one of the bridge's helper modules (`python -m snakepit_bridge.<name> ...`) with a given interpreter and
 * parse the one JSON object it prints: `packages` (requirement checks), `introspect` (a module's callables),
 * `probe` (doctor's checks). The bundled bridge directory goes first on PYTHONPATH, as for workers.
 */
import { join } from 'node:path';
import { PythonEnvError } from '../errors/errors.js';
import { bridgeDirectory } from './bridge-path.js';
import { runProcess, type RunResult } from './run-process.js';

export interface HelperOptions {
  cwd?: string;
  /** Extra directories after the bridge's own on PYTHONPATH. */
  pythonPath?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Default 60 s. */
  timeoutMs?: number;
}

const DEFAULT_HELPER_TIMEOUT_MS = 60_000;

/** The environment a helper (or a probe of the user's modules) runs in: the bridge, then `pythonPath`. */
export function helperEnv(options: HelperOptions = {}): NodeJS.ProcessEnv {
  const pythonPath = [bridgeDirectory(), ...(options.pythonPath ?? []), process.env['PYTHONPATH'] ?? '']
    .filter(Boolean)
    .join(':');
  return { ...process.env, ...options.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' };
}

export interface HelperRun<T> {
  /** The parsed JSON, when the helper printed one. */
  value: T | undefined;
  run: RunResult;
}

/**
 * Run `python -m snakepit_bridge.<module> args...`.
 * @throws PythonEnvError when the interpreter cannot be started or prints no JSON (with its output)
 */
export function runBridgeHelper<T>(
  python: string,
  module: 'packages' | 'introspect' | 'typegen',
  args: string[],
  options: HelperOptions = {},
): Promise<HelperRun<T>> {
  return runJsonHelper<T>(
    python,
    ['-m', `snakepit_bridge.${module}`, ...args],
    `-m snakepit_bridge.${module}`,
    options,
  );
}

/**
 * Run doctor's probe (`python .../snakepit_bridge/probe.py args...`), by path so that it works even when the
 * package cannot be imported.
 */
export function runProbe<T>(
  python: string,
  args: string[],
  options: HelperOptions = {},
): Promise<HelperRun<T>> {
  return runJsonHelper<T>(
    python,
    [join(bridgeDirectory(), 'snakepit_bridge', 'probe.py'), ...args],
    'probe.py',
    options,
  );
}

async function runJsonHelper<T>(
  python: string,
  argv: string[],
  label: string,
  options: HelperOptions,
): Promise<HelperRun<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  const run = await runProcess(python, argv, {
    env: helperEnv(options),
    timeoutMs,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (run.spawnError) {
    throw new PythonEnvError(
      `cannot run ${python}: ${run.spawnError.message}`,
      'check the interpreter path (python.executable, SNAKEPIT_PYTHON), or run `npx snakepit doctor`',
    );
  }
  if (run.timedOut) {
    throw new PythonEnvError(
      `${python} ${label} did not finish within ${timeoutMs} ms`,
      'a module import hangs or the machine is overloaded; run `npx snakepit doctor` to see which import is slow',
    );
  }
  const last = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return { value: JSON.parse(last) as T, run };
  } catch {
    throw new PythonEnvError(
      `${python} ${label} failed (exit code ${String(run.code)}):\n  ` + run.output.slice(-6).join('\n  '),
      'check that the interpreter is Python 3.9 or newer and can import snakepit_bridge (`npx snakepit doctor`)',
    );
  }
}
