/**
 * Run a short-lived helper process (python, pip, uv) with an argument vector, never a shell: collect its output
 * line by line, stop it after a deadline, and always resolve (a spawn failure or a timeout is part of the result).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the process (SIGKILL) after this long. Default: no limit. */
  timeoutMs?: number;
  /** Called for each non-empty output line, stdout and stderr alike. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Lines of combined output kept for error messages. Default 200. */
  keepLines?: number;
}

export interface RunResult {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  /** stdout, whole. */
  stdout: string;
  /** The last `keepLines` lines of stdout and stderr, interleaved as they came. */
  output: string[];
  /** Set when the process could not be started (e.g. ENOENT). */
  spawnError?: Error;
  timedOut: boolean;
  durationMs: number;
}

/** Run `command args` and resolve with what happened. */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const keep = options.keepLines ?? 200;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const stdout: string[] = [];
    let timedOut = false;
    let spawnError: Error | undefined;
    const partial = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stream === 'stdout') stdout.push(text);
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) emit(line, stream);
    };
    const emit = (line: string, stream: 'stdout' | 'stderr'): void => {
      const clean = line.replace(/\r$/, '');
      if (!clean.trim()) return;
      output.push(clean);
      if (output.length > keep) output.shift();
      options.onLine?.(clean, stream);
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      emit(partial.stdout, 'stdout');
      emit(partial.stderr, 'stderr');
      resolve({
        code: spawnError ? null : code,
        stdout: stdout.join(''),
        output,
        ...(spawnError ? { spawnError } : {}),
        timedOut,
        durationMs: performance.now() - started,
      });
    });
  });
}
