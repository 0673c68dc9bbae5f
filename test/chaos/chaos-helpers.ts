/**
 * Shared pieces of the chaos suite. Every case asserts the same two things at the end:
 * - no lost or hung call: each call settles (resolves, or rejects with the error the case expects) within a
 *   generous bound — `settleAll`;
 * - no leftover process: once the host closed, nothing carries its run id — `expectNoLeftovers`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import type { Snakepit, SnakepitConfig } from '../../src/index.js';
import { isRunning } from '../../src/util/proc.js';
import { eventually, processesMatching, start } from '../helpers.js';

export const CHAOS = 'snakepit_fixtures.chaos:ChaosAdapter';
export const FLAKY = 'snakepit_fixtures.flaky_import:FlakyAdapter';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOST_SCRIPT = join(ROOT, 'test', 'fixtures', 'hosts', 'chaos-host.ts');

export function startChaos(config: Partial<SnakepitConfig> = {}): Promise<Snakepit> {
  return start({ adapter: CHAOS, ...config });
}

/** A fresh temporary directory, removed when the current test ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `snakepit-test-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Live (non-zombie) processes carrying this run id on their command line. */
export function runProcesses(runId: string): number[] {
  return processesMatching('snakepit_bridge', `--run-id ${runId}`);
}

/** After close: no process of this run is left (polled: the kernel reaps asynchronously), nor a segment in /dev/shm. */
export async function expectNoLeftovers(runId: string, withinMs = 2_000): Promise<void> {
  await eventually(() => runProcesses(runId).length === 0, withinMs, `no process left of run ${runId}`);
  if (existsSync('/dev/shm'))
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${runId}-`))).toEqual([]);
}

export async function expectGone(pids: number[], withinMs = 2_000): Promise<void> {
  await eventually(() => pids.every((p) => !isRunning(p)), withinMs, `pids ${pids.join(', ')} to exit`);
}

/** Processes a test made (through a host it killed) are killed when the test ends, whatever its outcome. */
export function killOnFinish(pids: number[]): void {
  onTestFinished(() => {
    for (const pid of pids) {
      try {
        if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Wait for every promise to settle, failing the test if any is still pending after `withinMs` (a hung call).
 */
export async function settleAll<T>(promises: Array<Promise<T>>, withinMs = 20_000): Promise<Outcome<T>[]> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a call hung: not settled after ${withinMs} ms`)), withinMs);
  });
  try {
    return await Promise.race([
      Promise.all(
        promises.map((p) =>
          p.then(
            (value): Outcome<T> => ({ ok: true, value }),
            (error: Error): Outcome<T> => ({ ok: false, error }),
          ),
        ),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `promise`, or a failure if it has not settled after `withinMs` (something hung). */
export async function bounded<T>(promise: Promise<T>, withinMs = 30_000, what = 'the calls'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung: not settled after ${withinMs} ms`)), withinMs);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error of a call that was expected to fail (a success fails the test, showing its value). */
export function errorOf<E extends Error = Error>(outcome: Outcome<unknown> | undefined): E {
  if (!outcome) throw new Error('no outcome');
  if (outcome.ok) throw new Error(`expected the call to fail; it returned ${JSON.stringify(outcome.value)}`);
  return outcome.error as E;
}

/** The errors among outcomes (so a failing assertion shows them). */
export function failures<T>(outcomes: Outcome<T>[]): Error[] {
  return outcomes.filter((o): o is { ok: false; error: Error } => !o.ok).map((o) => o.error);
}

/** Run `count` calls with `inFlight` at a time; resolves with every outcome. */
export async function load<T>(
  count: number,
  inFlight: number,
  call: (i: number) => Promise<T>,
): Promise<Outcome<T>[]> {
  const outcomes: Outcome<T>[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        outcomes[i] = { ok: true, value: await call(i) };
      } catch (error) {
        outcomes[i] = { ok: false, error: error as Error };
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return outcomes;
}

export async function poolBackToFull(pit: Snakepit, size: number, withinMs = 10_000): Promise<void> {
  await eventually(
    () => pit.workers().filter((w) => w.state === 'ready').length === size,
    withinMs,
    `pool back to ${size} ready workers`,
  );
}

// ── child hosts ──────────────────────────────────────────────────────────────────────────────────────────────

export interface ChildHost {
  child: ChildProcess;
  /** JSON lines the host printed, in order. */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first line whose `event` is `name`. */
  waitFor(name: string, withinMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Run test/fixtures/hosts/chaos-host.ts in its own Node process (through tsx), so the test can SIGKILL or signal a
 * real host. `scenario` and `options` are passed as JSON. Call it inside a test: the host is killed when the test
 * ends.
 */
export function startHost(scenario: string, options: Record<string, unknown> = {}): ChildHost {
  const child = spawn(process.execPath, ['--import', 'tsx', HOST_SCRIPT, scenario, JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SNAKEPIT_LOG_LEVEL: 'error' },
  });
  // Whatever the test's outcome, the host does not outlive it (its workers then follow it).
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ event: 'text', text: line });
    }
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  const waitFor = async (name: string, withinMs = 20_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const found = lines.find((l) => l['event'] === name);
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`host never printed "${name}"; lines: ${JSON.stringify(lines)}; stderr:\n${err}`);
      }
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { child, lines, waitFor, exited, stderr: () => err };
}

export function expectAllOk<T>(outcomes: Outcome<T>[]): void {
  expect(failures(outcomes)).toEqual([]);
  expect(outcomes.every((o) => o?.ok)).toBe(true);
}
