/**
 * Shared helpers for tests that start real Python workers.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import type { Logger } from '../src/util/logger.js';

export const SHOWCASE = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
export const FIXTURES_PYTHONPATH = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'python');
/** The directory holding the bridge package (`snakepit_bridge`). */
export const BRIDGE_PYTHONPATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that records lines for assertions instead of printing them. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (fields: object, msg?: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function start(config: Partial<SnakepitConfig>): Promise<Snakepit> {
  return Snakepit.start({
    adapter: SHOWCASE,
    size: 1,
    logger: false,
    pythonPath: [FIXTURES_PYTHONPATH],
    ...config,
  } as SnakepitConfig);
}

/** True while a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line contains every one of `needles`. */
export function processesMatching(...needles: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      if (needles.every((n) => cmdline.includes(n))) found.push(Number(entry));
    } catch {
      /* the process went away while we looked */
    }
  }
  return found;
}

/** Wait until `predicate` holds, polling; fail after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Whether an optional Python package is importable by the test interpreter. Tests that need one skip with a
 * printed reason when it is missing, unless SNAKEPIT_REQUIRE_OPTIONAL=1 (CI), which makes the skip a failure.
 */
export function requireOptional(
  available: boolean,
  what: string,
  install = 'install it in the test interpreter: `npx snakepit setup --dev`',
): boolean {
  if (available) return true;
  if (process.env['SNAKEPIT_REQUIRE_OPTIONAL'] === '1') {
    throw new Error(`${what} is required (SNAKEPIT_REQUIRE_OPTIONAL=1) but missing; ${install}`);
  }
  console.warn(`skipping: ${what} is missing (${install})`);
  return false;
}

/**
 * Run Node with `args` (e.g. `-e <module text>`) and give back each line of its stdout that holds a JSON object,
 * parsed: a fresh process reports what it loaded at each stage, one object per line.
 */
export function nodeJsonLines<T>(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<T[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: join(dirname(fileURLToPath(import.meta.url)), '..'),
        env: options.env ?? process.env,
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(
          stdout
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as T),
        );
      },
    );
  });
}
