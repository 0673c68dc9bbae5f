/**
 * Run the built CLI (`node bin/snakepit.js ...`, after `npm run build`) as a subprocess, as a user would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

// Each CLI test starts a fresh Node process that starts Python workers (doctor starts every pool and probes the
// machine: ~1 s alone, several on a loaded 2-core machine). The suite's 30 s default is for in-process tests; a
// CLI test gets as long as one runCli may take.
vi.setConfig({ testTimeout: 120_000 });

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO, 'bin', 'snakepit.js');
/** The repository's venv (made by `npm test`'s pretest): pytest, msgpack, numpy. */
export const REPO_PYTHON = join(REPO, '.venv', 'bin', 'python');
export const FIXTURES = join(REPO, 'test', 'fixtures', 'python');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Replaces the environment (after NO_COLOR=1) when `replaceEnv` is set, else is added to it. */
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  timeoutMs?: number;
}

/** The environment without variables that would change which Python the CLI picks. */
export function neutralEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['SNAKEPIT_PYTHON'];
  delete env['VIRTUAL_ENV'];
  return env;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('the CLI is not built: run `npm run build` (npm test does)');
  }
  const base = options.replaceEnv ? {} : neutralEnv();
  const env: NodeJS.ProcessEnv = { ...base, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? REPO, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
