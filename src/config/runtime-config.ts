/**
 * What a pool's workers run (`runtime`, `module`, `command`): the Python bridge (the default), the Node.js worker
 * runtime serving a module's exports, or any executable that speaks the local protocol (docs/WORKERS.md). Checked
 * here so pool-config.ts only assembles the result.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors/errors.js';
import { describe, isPlainObject, rejectUnknownKeys, stringList } from './checks.js';

export type RuntimeKind = 'python' | 'node' | 'command';

export interface CommandConfig {
  /** The program to run: a path, or a name looked up on PATH. */
  executable: string;
  /** A script given to it as its first argument (resolved against the pool's `cwd`). */
  script?: string;
  /** More arguments, after the script. */
  args?: string[];
}

export interface ResolvedRuntime {
  runtime: RuntimeKind;
  /** Runtime `node`: the module's absolute path (locateConfig builds the command line around the runtime's entry). */
  module: string | undefined;
  /** The command line of a command worker (executable first); undefined for Python and node. */
  command: string[] | undefined;
  /** A name for logs and errors in place of a Python adapter (`node:./tools.mjs`, `command:ruby`). */
  label: string | undefined;
}

/**
 * The Node runtime's entry, `dist/src/runtimes/node/main.js` of this package, found from this module: dist/src/config/
 * (the ES build), dist/cjs/ (the CommonJS build), or src/config/ (the TypeScript sources under vitest).
 */
export function nodeRuntimeEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', 'runtimes', 'node', 'main.js'),
    join(here, '..', 'src', 'runtimes', 'node', 'main.js'),
    join(here, '..', '..', 'dist', 'src', 'runtimes', 'node', 'main.js'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new ConfigError(
      'runtime',
      `the Node worker runtime is not where this installation expects it (looked in ${candidates.join(', ')}): ` +
        'run `npm run build` in a clone, or ship dist/src/runtimes with an app bundle',
    );
  }
  return found;
}

/** A node worker's command line: this Node, the runtime's entry, the module. */
export function nodeWorkerCommand(module: string): string[] {
  return [process.execPath, nodeRuntimeEntry(), '--module', module];
}

/** @param hostCwd what relative paths are resolved against when the pool has no `cwd` */
export function resolveRuntime(
  where: string,
  pool: { runtime?: unknown; module?: unknown; command?: unknown; cwd?: unknown },
  hostCwd: string,
): ResolvedRuntime {
  const runtime = pool.runtime ?? (pool.command !== undefined ? 'command' : 'python');
  if (runtime !== 'python' && runtime !== 'node' && runtime !== 'command') {
    throw new ConfigError(
      `${where}.runtime`,
      `must be "python", "node" or "command", got ${describe(runtime)}`,
    );
  }
  const base = typeof pool.cwd === 'string' && pool.cwd ? resolve(hostCwd, pool.cwd) : hostCwd;
  if (runtime === 'python') {
    if (pool.module !== undefined)
      throw new ConfigError(`${where}.module`, 'is for runtime "node"; remove it');
    if (pool.command !== undefined) {
      throw new ConfigError(
        `${where}.command`,
        'names a worker that is not the Python bridge: set runtime "command"',
      );
    }
    return { runtime, module: undefined, command: undefined, label: undefined };
  }
  if (runtime === 'node') {
    if (pool.command !== undefined)
      throw new ConfigError(`${where}.command`, 'is for runtime "command"; remove it');
    if (typeof pool.module !== 'string' || !pool.module) {
      throw new ConfigError(
        `${where}.module`,
        `must name the JavaScript module whose exports are the tools (e.g. "./tools.mjs"), got ${describe(pool.module)}`,
      );
    }
    const module = isAbsolute(pool.module) ? pool.module : resolve(base, pool.module);
    return { runtime, module, command: undefined, label: `node:${pool.module}` };
  }
  if (pool.module !== undefined) throw new ConfigError(`${where}.module`, 'is for runtime "node"; remove it');
  if (!isPlainObject(pool.command)) {
    throw new ConfigError(
      `${where}.command`,
      `must be { executable, script?, args? } naming a worker that speaks the local protocol, got ${describe(pool.command)}`,
    );
  }
  rejectUnknownKeys(`${where}.command.`, pool.command, new Set(['executable', 'script', 'args']));
  const { executable, script } = pool.command;
  if (typeof executable !== 'string' || !executable) {
    throw new ConfigError(
      `${where}.command.executable`,
      `must be a program path or name, got ${describe(executable)}`,
    );
  }
  if (script !== undefined && (typeof script !== 'string' || !script)) {
    throw new ConfigError(`${where}.command.script`, `must be a file path, got ${describe(script)}`);
  }
  const args = stringList(`${where}.command.args`, pool.command['args']);
  const argv = [
    executable,
    ...(script ? [isAbsolute(script) ? script : resolve(base, script)] : []),
    ...args,
  ];
  return { runtime, module: undefined, command: argv, label: `command:${basename(script ?? executable)}` };
}

/** Options that only the Python bridge honours, refused for other runtimes rather than silently ignored. */
export function checkForeignRuntime(
  where: string,
  runtime: RuntimeKind,
  pool: Record<string, unknown>,
): void {
  for (const key of ['adapter', 'libraries', 'limits', 'pythonPath', 'threadsPerWorker'] as const) {
    if (pool[key] !== undefined) {
      throw new ConfigError(
        `${where}.${key}`,
        `is not supported with runtime "${runtime}" (the Python bridge applies it); remove it`,
      );
    }
  }
  if (pool['transport'] !== undefined && pool['transport'] !== 'local') {
    throw new ConfigError(`${where}.transport`, `runtime "${runtime}" runs local workers only; remove it`);
  }
  if (pool['profile'] === 'thread') {
    throw new ConfigError(
      `${where}.profile`,
      `"thread" is the Python bridge's thread pool; runtime "${runtime}" runs profile "process"`,
    );
  }
  if (runtime === 'node' && pool['codec'] === 'msgpack') {
    throw new ConfigError(`${where}.codec`, 'the Node runtime speaks the json codec; use "auto" or "json"');
  }
}
