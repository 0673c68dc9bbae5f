/**
 * Validate a SnakepitConfig and fill in defaults, once, at the edge. Every problem is a ConfigError that names
 * the key (`pools[1].size`), what was expected and what was given.
 *
 * This file is the top level: which keys may appear, one pool or many, and the assembly. Each section is checked
 * by its own module: pool-config.ts (a pool), supervision-config.ts (heartbeat, recycle, restart),
 * library-config.ts, grpc-config.ts, python-config.ts, host-config.ts (logger, signals, registry, sessions,
 * tools, telemetry); the shared checkers are in checks.ts and the defaults in defaults.ts.
 */
import { ConfigError } from '../errors/errors.js';
import { describe, isPlainObject, positiveInt, rejectUnknownKeys } from './checks.js';
import type { ResolvedConfig, ResolvedPoolConfig, SnakepitConfig, StartPolicy } from './config-types.js';
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

const TOP_KEYS = new Set([
  ...POOL_KEYS,
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
]);

/**
 * Validate and complete a configuration.
 * @throws ConfigError naming the key at fault; PythonEnvError when no interpreter can be found
 */
export function resolveConfig(input: SnakepitConfig): ResolvedConfig {
  if (!isPlainObject(input)) throw new ConfigError('(root)', `must be an object, got ${describe(input)}`);
  rejectUnknownKeys('', input, TOP_KEYS);
  const python = checkPythonConfig('python', input.python, true);
  const killGraceMs = positiveInt('killGraceMs', input.killGraceMs, DEFAULTS.killGraceMs);
  const defaults = { python, killGraceMs };

  let pools: ResolvedPoolConfig[];
  if (input.pools !== undefined) {
    if (!Array.isArray(input.pools) || input.pools.length === 0) {
      throw new ConfigError(
        'pools',
        `must be a non-empty array of pool configs, got ${describe(input.pools)}`,
      );
    }
    const shorthand = Object.keys(input).filter((k) => POOL_KEYS.has(k) && k !== 'python');
    if (shorthand.length > 0) {
      throw new ConfigError(shorthand[0]!, 'is a pool option; with `pools` given, put it inside a pool');
    }
    pools = input.pools.map((p, i) => resolvePool(p, `pools[${i}]`, defaults));
  } else if (
    input.adapter !== undefined ||
    input.libraries !== undefined ||
    input.runtime !== undefined ||
    input.command !== undefined
  ) {
    const {
      pools: _p,
      logger: _l,
      logLevel: _ll,
      closeTimeoutMs: _c,
      killGraceMs: _k,
      sessions: _s,
      tools: _t,
      python: _py,
      handleSignals: _h,
      registryDir: _r,
      telemetry: _tel,
      startPolicy: _sp,
      ...single
    } = input;
    pools = [resolvePool({ name: 'default', ...single }, 'pool', defaults)];
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
    logger: resolveLogger(input),
    closeTimeoutMs: positiveInt('closeTimeoutMs', input.closeTimeoutMs, DEFAULTS.closeTimeoutMs),
    killGraceMs,
    handleSignals: resolveHandleSignals(input.handleSignals),
    registryDir: resolveRegistryDir(input.registryDir),
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
