/**
 * Validate a SnakepitConfig and fill in defaults, once, at the edge. Every problem is a ConfigError that names
 * the key (`pools[1].size`), what was expected and what was given.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/errors.js';
import { resolvePython } from '../python/interpreter.js';
import { consoleLogger, isLogLevel, silentLogger, type Logger } from '../util/logger.js';
import type {
  PoolConfig,
  PythonConfig,
  ResolvedConfig,
  ResolvedPoolConfig,
  SnakepitConfig,
} from './config-types.js';
import { resolveGrpcConfig, resolveSnakepitStyle, resolveTransport } from './grpc-config.js';
import { checkPythonConfig, mergePythonConfig } from './python-config.js';
import {
  GENERIC_ADAPTER,
  GENERIC_CONFIG_ENV,
  genericConfigJson,
  resolveLibraries,
} from './library-config.js';

export const DEFAULTS = {
  startupTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  streamTimeoutMs: 300_000,
  queueMax: 10_000,
  workerConcurrency: 1,
  pipelineDepth: 32,
  maxFrameBytes: 64 * 1024 * 1024,
  closeTimeoutMs: 10_000,
  killGraceMs: 2_000,
  maxPoolSize: 1_000,
  sessionTtlMs: 3_600_000,
  sessionCleanupIntervalMs: 60_000,
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 30_000,
  hostTimeoutMs: 60_000,
  recycleCheckIntervalMs: 1_000,
  maxRetries: 1,
  restartMaxAttempts: 10,
  restartInitialBackoffMs: 100,
  restartMaxBackoffMs: 30_000,
  toolsMaxDepth: 8,
} as const;

/** `module.path:Class` or `module.path.Class`: identifiers only, so nothing odd reaches the command line. */
const ADAPTER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*([:.][A-Za-z_][A-Za-z0-9_]*)$/;
const POOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const POOL_KEYS = new Set([
  'name',
  'adapter',
  'libraries',
  'size',
  'pythonPath',
  'env',
  'startupTimeoutMs',
  'requestTimeoutMs',
  'streamTimeoutMs',
  'queue',
  'codec',
  'workerConcurrency',
  'pipelineDepth',
  'maxFrameBytes',
  'python',
  'cwd',
  'affinity',
  'heartbeat',
  'recycle',
  'maxRetries',
  'restart',
  'transport',
  'endpoints',
  'grpc',
  'snakepit',
]);
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
]);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function positiveInt(key: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(key, `must be an integer from 1 to ${max}, got ${describe(value)}`);
  }
  return value;
}

function optionalPositiveInt(key: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInt(key, value, 0);
}

function stringList(key: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new ConfigError(key, `must be an array of non-empty strings, got ${describe(value)}`);
  }
  return value as string[];
}

function stringMap(key: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value))
    throw new ConfigError(key, `must be an object of string values, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new ConfigError(
        `${key}.${k}`,
        `must be a string, got ${describe(v)} (environment values are strings)`,
      );
    }
  }
  return value as Record<string, string>;
}

function rejectUnknownKeys(where: string, obj: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      throw new ConfigError(
        `${where}${key}`,
        `is not a known option (known: ${[...allowed].sort().join(', ')})`,
      );
    }
  }
}

function section(key: string, value: unknown, keys: string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(key, `must be an object, got ${describe(value)}`);
  rejectUnknownKeys(`${key}.`, value, new Set(keys));
  return value;
}

function resolveHeartbeat(key: string, value: unknown): ResolvedPoolConfig['heartbeat'] {
  if (value === false) return undefined;
  const raw = section(key, value, ['intervalMs', 'timeoutMs', 'hostTimeoutMs']);
  const intervalMs = positiveInt(`${key}.intervalMs`, raw['intervalMs'], DEFAULTS.heartbeatIntervalMs);
  const atLeast = (name: string, fallback: number): number => {
    const ms = positiveInt(`${key}.${name}`, raw[name], Math.max(fallback, 2 * intervalMs));
    if (ms < 2 * intervalMs) {
      throw new ConfigError(
        `${key}.${name}`,
        `must be at least 2 × heartbeat.intervalMs (${2 * intervalMs} ms), got number ${ms}`,
      );
    }
    return ms;
  };
  return {
    intervalMs,
    timeoutMs: atLeast('timeoutMs', DEFAULTS.heartbeatTimeoutMs),
    hostTimeoutMs: atLeast('hostTimeoutMs', DEFAULTS.hostTimeoutMs),
  };
}

function resolveRecycle(key: string, value: unknown): ResolvedPoolConfig['recycle'] {
  const raw = section(key, value, ['ttlMs', 'maxRequests', 'maxRssMb', 'checkIntervalMs']);
  return {
    ttlMs: optionalPositiveInt(`${key}.ttlMs`, raw['ttlMs']),
    maxRequests: optionalPositiveInt(`${key}.maxRequests`, raw['maxRequests']),
    maxRssMb: optionalPositiveInt(`${key}.maxRssMb`, raw['maxRssMb']),
    checkIntervalMs: positiveInt(
      `${key}.checkIntervalMs`,
      raw['checkIntervalMs'],
      DEFAULTS.recycleCheckIntervalMs,
    ),
  };
}

function resolveRestart(key: string, value: unknown): ResolvedPoolConfig['restart'] {
  const raw = section(key, value, ['maxAttempts', 'initialBackoffMs', 'maxBackoffMs']);
  const initialBackoffMs = positiveInt(
    `${key}.initialBackoffMs`,
    raw['initialBackoffMs'],
    DEFAULTS.restartInitialBackoffMs,
  );
  const maxBackoffMs = positiveInt(
    `${key}.maxBackoffMs`,
    raw['maxBackoffMs'],
    Math.max(DEFAULTS.restartMaxBackoffMs, initialBackoffMs),
  );
  if (maxBackoffMs < initialBackoffMs) {
    throw new ConfigError(
      `${key}.maxBackoffMs`,
      `must be at least restart.initialBackoffMs (${initialBackoffMs} ms), got number ${maxBackoffMs}`,
    );
  }
  return {
    maxAttempts: positiveInt(`${key}.maxAttempts`, raw['maxAttempts'], DEFAULTS.restartMaxAttempts, 1_000),
    initialBackoffMs,
    maxBackoffMs,
  };
}

function nonNegativeInt(key: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ConfigError(key, `must be an integer from 0 to ${max}, got ${describe(value)}`);
  }
  return value;
}

function resolveHandleSignals(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new ConfigError('handleSignals', `must be true or false, got ${describe(value)}`);
  }
  return value;
}

function resolveRegistryDir(value: unknown): string | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (typeof value !== 'string' || !value)) {
    throw new ConfigError('registryDir', `must be a directory path or false, got ${describe(value)}`);
  }
  if (value !== undefined) return value;
  const fromEnv = process.env['SNAKEPIT_REGISTRY_DIR'];
  if (fromEnv) return fromEnv;
  return join(tmpdir(), `snakepit-${process.getuid?.() ?? 'user'}`);
}

function resolvePool(
  raw: unknown,
  where: string,
  defaults: { python: PythonConfig; killGraceMs: number },
): ResolvedPoolConfig {
  if (!isPlainObject(raw)) throw new ConfigError(where, `must be an object, got ${describe(raw)}`);
  const pool = raw as Partial<PoolConfig> & Record<string, unknown>;
  rejectUnknownKeys(`${where}.`, pool, POOL_KEYS);
  if (typeof pool.name !== 'string' || !POOL_NAME_PATTERN.test(pool.name)) {
    throw new ConfigError(
      `${where}.name`,
      `must be 1-64 letters, digits, "_", "." or "-", got ${describe(pool.name)}`,
    );
  }
  const transport = resolveTransport(where, pool);
  const libraries = resolveLibraries(pool.libraries, where);
  const adapterGiven = pool.adapter !== undefined || libraries.length === 0;
  if (adapterGiven && (typeof pool.adapter !== 'string' || !ADAPTER_PATTERN.test(pool.adapter))) {
    throw new ConfigError(
      `${where}.adapter`,
      `must name a Python class as "package.module:Class", got ${describe(pool.adapter)} ` +
        `(e.g. "snakepit_bridge.adapters.showcase:ShowcaseAdapter"), or give libraries instead`,
    );
  }
  const env = { ...stringMap(`${where}.env`, pool.env) };
  if (libraries.length > 0) {
    if (GENERIC_CONFIG_ENV in env) {
      throw new ConfigError(
        `${where}.env.${GENERIC_CONFIG_ENV}`,
        'is set by snakepit from `libraries`; remove it',
      );
    }
    env[GENERIC_CONFIG_ENV] = genericConfigJson(pool.adapter, libraries, where);
  }
  const queue = pool.queue ?? {};
  if (!isPlainObject(queue))
    throw new ConfigError(`${where}.queue`, `must be an object, got ${describe(queue)}`);
  rejectUnknownKeys(`${where}.queue.`, queue, new Set(['max', 'timeoutMs']));
  const codec = pool.codec ?? 'auto';
  if (codec !== 'auto' && codec !== 'msgpack' && codec !== 'json') {
    throw new ConfigError(`${where}.codec`, `must be "auto", "msgpack" or "json", got ${describe(codec)}`);
  }
  if (transport === 'snakepit' && codec === 'msgpack') {
    throw new ConfigError(
      `${where}.codec`,
      'transport "snakepit" carries values as JSON; use "auto" or "json"',
    );
  }
  const python = mergePythonConfig(defaults.python, checkPythonConfig(`${where}.python`, pool.python, false));
  if (pool.cwd !== undefined && (typeof pool.cwd !== 'string' || !pool.cwd)) {
    throw new ConfigError(`${where}.cwd`, `must be a directory path, got ${describe(pool.cwd)}`);
  }
  const affinity = pool.affinity ?? 'strict';
  if (affinity !== 'strict' && affinity !== 'prefer') {
    throw new ConfigError(`${where}.affinity`, `must be "strict" or "prefer", got ${describe(affinity)}`);
  }
  const grpc = transport === 'grpc' ? resolveGrpcConfig(where, pool.endpoints, pool.grpc) : undefined;
  return {
    name: pool.name,
    adapter: libraries.length > 0 ? GENERIC_ADAPTER : (pool.adapter as string),
    libraries,
    size: grpc
      ? nonNegativeInt(`${where}.size`, pool.size, 0, DEFAULTS.maxPoolSize) // local workers beside the remote ones
      : positiveInt(`${where}.size`, pool.size, availableParallelism(), DEFAULTS.maxPoolSize),
    pythonPath: stringList(`${where}.pythonPath`, pool.pythonPath),
    env,
    startupTimeoutMs: positiveInt(
      `${where}.startupTimeoutMs`,
      pool.startupTimeoutMs,
      DEFAULTS.startupTimeoutMs,
    ),
    requestTimeoutMs: positiveInt(
      `${where}.requestTimeoutMs`,
      pool.requestTimeoutMs,
      DEFAULTS.requestTimeoutMs,
    ),
    streamTimeoutMs: positiveInt(`${where}.streamTimeoutMs`, pool.streamTimeoutMs, DEFAULTS.streamTimeoutMs),
    queue: {
      max: positiveInt(`${where}.queue.max`, queue['max'], DEFAULTS.queueMax),
      timeoutMs: optionalPositiveInt(`${where}.queue.timeoutMs`, queue['timeoutMs']),
    },
    codec,
    workerConcurrency: positiveInt(
      `${where}.workerConcurrency`,
      pool.workerConcurrency,
      DEFAULTS.workerConcurrency,
      10_000,
    ),
    pipelineDepth: positiveInt(`${where}.pipelineDepth`, pool.pipelineDepth, DEFAULTS.pipelineDepth, 1_000),
    maxFrameBytes: positiveInt(
      `${where}.maxFrameBytes`,
      pool.maxFrameBytes,
      DEFAULTS.maxFrameBytes,
      2 ** 32 - 1,
    ),
    python: resolvePython(python.executable, {
      ...(pool.cwd ? { cwd: pool.cwd } : {}),
      ...(python.strategy ? { strategy: python.strategy } : {}),
      ...(python.version ? { version: python.version } : {}),
    }),
    cwd: pool.cwd,
    killGraceMs: defaults.killGraceMs,
    affinity,
    heartbeat: resolveHeartbeat(`${where}.heartbeat`, pool.heartbeat),
    recycle: resolveRecycle(`${where}.recycle`, pool.recycle),
    maxRetries: nonNegativeInt(`${where}.maxRetries`, pool.maxRetries, DEFAULTS.maxRetries, 100),
    restart: resolveRestart(`${where}.restart`, pool.restart),
    transport,
    grpc,
    snakepit: transport === 'snakepit' ? resolveSnakepitStyle(where, pool.snakepit) : undefined,
  };
}

function resolveLogger(config: SnakepitConfig): Logger {
  const level = config.logLevel ?? process.env['SNAKEPIT_LOG_LEVEL'] ?? 'info';
  if (!isLogLevel(level)) {
    const key = config.logLevel === undefined ? 'SNAKEPIT_LOG_LEVEL' : 'logLevel';
    throw new ConfigError(key, `must be debug, info, warn, error or silent, got ${describe(level)}`);
  }
  if (config.logger === false) return silentLogger;
  if (config.logger !== undefined) {
    const l = config.logger as unknown as Record<string, unknown>;
    for (const method of ['debug', 'info', 'warn', 'error']) {
      if (typeof l[method] !== 'function') {
        throw new ConfigError(
          'logger',
          `must have debug/info/warn/error methods (pino-compatible); "${method}" is missing`,
        );
      }
    }
    return config.logger;
  }
  return consoleLogger(level);
}

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
  } else if (input.adapter !== undefined || input.libraries !== undefined) {
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
      ...single
    } = input;
    pools = [resolvePool({ name: 'default', ...single }, 'pool', defaults)];
  } else {
    throw new ConfigError(
      'pools',
      'no pool configured: give `adapter` or `libraries` (one pool) or `pools: [{ name, adapter, ... }]` ' +
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
  };
}

function resolveTools(raw: unknown): ResolvedConfig['tools'] {
  const tools = raw ?? {};
  if (!isPlainObject(tools)) throw new ConfigError('tools', `must be an object, got ${describe(raw)}`);
  rejectUnknownKeys('tools.', tools, new Set(['maxDepth']));
  return { maxDepth: positiveInt('tools.maxDepth', tools['maxDepth'], DEFAULTS.toolsMaxDepth, 64) };
}

function resolveTelemetry(raw: unknown): ResolvedConfig['telemetry'] {
  if (raw === undefined || raw === true) return { calls: true, tracing: 'auto' };
  if (raw === false) return { calls: false, tracing: false };
  if (!isPlainObject(raw)) {
    throw new ConfigError('telemetry', `must be true, false or an object, got ${describe(raw)}`);
  }
  rejectUnknownKeys('telemetry.', raw, new Set(['calls', 'tracing']));
  const calls = raw['calls'] ?? true;
  if (typeof calls !== 'boolean') {
    throw new ConfigError('telemetry.calls', `must be true or false, got ${describe(calls)}`);
  }
  const tracing = raw['tracing'] ?? 'auto';
  if (tracing !== true && tracing !== false && tracing !== 'auto') {
    throw new ConfigError('telemetry.tracing', `must be true, false or "auto", got ${describe(tracing)}`);
  }
  if (!calls && tracing === true) {
    throw new ConfigError(
      'telemetry.tracing',
      'is true, but spans are per call: set telemetry.calls to true too',
    );
  }
  return { calls, tracing: calls ? tracing : false };
}

function resolveSessions(raw: unknown): ResolvedConfig['sessions'] {
  const sessions = raw ?? {};
  if (!isPlainObject(sessions)) throw new ConfigError('sessions', `must be an object, got ${describe(raw)}`);
  rejectUnknownKeys('sessions.', sessions, new Set(['ttlMs', 'cleanupIntervalMs']));
  return {
    ttlMs: positiveInt('sessions.ttlMs', sessions['ttlMs'], DEFAULTS.sessionTtlMs),
    cleanupIntervalMs: positiveInt(
      'sessions.cleanupIntervalMs',
      sessions['cleanupIntervalMs'],
      DEFAULTS.sessionCleanupIntervalMs,
      2 ** 31 - 1,
    ),
  };
}
