/**
 * Validate a SnakepitConfig and fill in defaults, once, at the edge. Every problem is a ConfigError that names
 * the key (`pools[1].size`), what was expected and what was given.
 *
 * `resolveConfig` is pure: no file is read, no process run, nothing of the host consulted but the HostFacts it
 * is given (the environment, the working directory, the default pool size and registry folder). What must be
 * found on this machine — each pool's interpreter, the bridge's folder, the Node runtime's entry, TLS files — is
 * left described in the CheckedConfig; `locateConfig` (locate-config.ts), run by `Snakepit.start`, finds it
 * asynchronously.
 *
 * This file is the top level: which keys may appear, one pool or many, and the assembly. Each section is checked
 * by its own module: pool-config.ts (a pool), supervision-config.ts (heartbeat, recycle, restart),
 * library-config.ts, grpc-config.ts, python-config.ts, host-config.ts (logger, signals, registry, sessions,
 * tools, telemetry); the shared checkers are in checks.ts and every default in defaults.ts.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/errors.js';
import { describe, isPlainObject, positiveInt, rejectUnknownKeys } from './checks.js';
import type {
  CheckedConfig,
  CheckedPoolConfig,
  HostFacts,
  SnakepitConfig,
  StartPolicy,
} from './config-types.js';
import { DEFAULTS } from './defaults.js';
import {
  resolveHandleSignals,
  resolveLogger,
  resolveRegistryDir,
  resolveSessions,
  resolveTelemetry,
  resolveTools,
} from './host-config.js';
import { POOL_KEYS, resolvePool } from './pool-config.js';
import { checkPythonConfig } from './python-config.js';

export { DEFAULTS };

/**
 * The keys that are about the whole Snakepit, listed once. A top-level config may also hold one pool's keys
 * (POOL_KEYS) as a shorthand for a pool named `default`; `python` is in both lists, and at the top it is the
 * section every pool starts from.
 */
export const TOP_KEYS = [
  'python',
  'pools',
  'logger',
  'logLevel',
  'closeTimeoutMs',
  'killGraceMs',
  'sessions',
  'handleSignals',
  'registryDir',
  'tools',
  'telemetry',
  'startPolicy',
] as const satisfies readonly (keyof SnakepitConfig)[];
/** Compiles only while TOP_KEYS and POOL_KEYS together name every key of SnakepitConfig. */
const _everyTopKeyListed: Exclude<
  keyof SnakepitConfig,
  (typeof TOP_KEYS)[number] | (typeof POOL_KEYS)[number]
> extends never
  ? true
  : never = true;
void _everyTopKeyListed;

const TOP_KEY_SET: ReadonlySet<string> = new Set<string>(TOP_KEYS);
const ALLOWED_KEYS: ReadonlySet<string> = new Set<string>([...POOL_KEYS, ...TOP_KEYS]);
/** The pool keys that, at the top level, mean the shorthand pool (every pool key but `python`). */
const SHORTHAND_KEYS: ReadonlySet<string> = new Set<string>(POOL_KEYS.filter((k) => !TOP_KEY_SET.has(k)));

/** The facts of this process that `resolveConfig` reads when it is given none. */
export function currentHost(): HostFacts {
  return {
    env: process.env,
    cwd: process.cwd(),
    parallelism: availableParallelism(),
    defaultRegistryDir: join(tmpdir(), `snakepit-${process.getuid?.() ?? 'user'}`),
  };
}

/**
 * Validate and complete a configuration. Pure: the same input and host give the same result, and nothing is
 * read from disk (see `locateConfig` for that).
 * @throws ConfigError naming the key at fault
 */
export function resolveConfig(input: SnakepitConfig, host: HostFacts = currentHost()): CheckedConfig {
  if (!isPlainObject(input)) throw new ConfigError('(root)', `must be an object, got ${describe(input)}`);
  rejectUnknownKeys('', input, ALLOWED_KEYS);
  const python = checkPythonConfig('python', input.python, true);
  const killGraceMs = positiveInt('killGraceMs', input.killGraceMs, DEFAULTS.killGraceMs);
  const defaults = { python, killGraceMs };
  const shorthand = Object.keys(input).filter((k) => SHORTHAND_KEYS.has(k));

  let pools: CheckedPoolConfig[];
  if (input.pools !== undefined) {
    if (!Array.isArray(input.pools) || input.pools.length === 0) {
      throw new ConfigError(
        'pools',
        `must be a non-empty array of pool configs, got ${describe(input.pools)}`,
      );
    }
    if (shorthand.length > 0) {
      throw new ConfigError(shorthand[0]!, 'is a pool option; with `pools` given, put it inside a pool');
    }
    pools = input.pools.map((p, i) => resolvePool(p, `pools[${i}]`, defaults, host));
  } else if (
    input.adapter !== undefined ||
    input.libraries !== undefined ||
    input.runtime !== undefined ||
    input.command !== undefined
  ) {
    const single = Object.fromEntries(Object.entries(input).filter(([k]) => SHORTHAND_KEYS.has(k))) as Record<
      string,
      unknown
    >;
    pools = [resolvePool({ name: 'default', ...single }, 'pool', defaults, host)];
  } else {
    throw new ConfigError(
      'pools',
      'no pool configured: give `adapter` or `libraries` (one pool), `runtime: "node"` with `module`, ' +
        '`command`, or `pools: [{ name, adapter, ... }]` ' +
        '(e.g. adapter: "snakepit_bridge.adapters.showcase:ShowcaseAdapter")',
    );
  }
  const seen = new Set<string>();
  pools.forEach((p, i) => {
    if (seen.has(p.name)) throw new ConfigError(`pools[${i}].name`, `duplicates the pool name "${p.name}"`);
    seen.add(p.name);
  });
  return {
    pools,
    logger: resolveLogger(input, host),
    closeTimeoutMs: positiveInt('closeTimeoutMs', input.closeTimeoutMs, DEFAULTS.closeTimeoutMs),
    killGraceMs,
    handleSignals: resolveHandleSignals(input.handleSignals),
    registryDir: resolveRegistryDir(input.registryDir, host),
    sessions: resolveSessions(input.sessions),
    tools: resolveTools(input.tools),
    telemetry: resolveTelemetry(input.telemetry),
    startPolicy: resolveStartPolicy(input.startPolicy),
  };
}

function resolveStartPolicy(value: unknown): StartPolicy {
  if (value === undefined) return DEFAULTS.startPolicy;
  if (value !== 'all' && value !== 'available') {
    throw new ConfigError('startPolicy', `must be "all" or "available", got ${describe(value)}`);
  }
  return value;
}
