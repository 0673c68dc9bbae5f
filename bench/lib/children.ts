/** Running bench children (fresh Node processes) with a deadline, collecting their RESULT / EVENT lines. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The children are the compiled scripts in dist/bench, whether this module runs compiled or from source (tests).
const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = HERE.includes('/dist/bench') ? join(HERE, '..') : join(HERE, '..', '..', 'dist', 'bench');

export interface ChildRun {
  /** Parsed `RESULT` line, if any. */
  result: unknown;
  /** Parsed `EVENT` lines, in order. */
  events: Array<Record<string, unknown>>;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the deadline passed and the child was killed. */
  timedOut: boolean;
  /** Milliseconds from the last event (or start) to the child's exit. */
  exitAfterLastEventMs: number;
  stderr: string;
}

export function runChild(
  script: 'child.js' | 'robust-child.js',
  args: string[],
  deadlineMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const run: ChildRun = {
      result: undefined,
      events: [],
      code: null,
      signal: null,
      timedOut: false,
      exitAfterLastEventMs: 0,
      stderr: '',
    };
    let lastEvent = performance.now();
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('RESULT ')) run.result = JSON.parse(line.slice(7));
        else if (line.startsWith('EVENT ')) {
          run.events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
          lastEvent = performance.now();
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (run.stderr.length < 20_000) run.stderr += chunk;
    });
    const timer = setTimeout(() => {
      run.timedOut = true;
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, deadlineMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      run.exitAfterLastEventMs = performance.now() - lastEvent;
      resolve(run);
    });
  });
}

/** True while a process with this pid is running (a zombie waiting to be reaped has exited: not alive). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
