/**
 * The top-level settings that are not about one pool — the logger, signals, the process registry, sessions,
 * host tools and telemetry — checked here so resolve-config stays about pools.
 */
import { ConfigError } from '../errors/errors.js';
import { consoleLogger, isLogLevel, silentLogger, type Logger } from '../util/logger.js';
import { boolean, describe, isPlainObject, positiveInt, rejectUnknownKeys } from './checks.js';
import type { CheckedConfig, HostFacts, SnakepitConfig } from './config-types.js';
import { DEFAULTS } from './defaults.js';

export function resolveLogger(config: SnakepitConfig, host: HostFacts): Logger {
  const level = config.logLevel ?? host.env['SNAKEPIT_LOG_LEVEL'] ?? DEFAULTS.logLevel;
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

export function resolveHandleSignals(value: unknown): boolean {
  if (value === undefined) return DEFAULTS.handleSignals;
  return boolean('handleSignals', value);
}

export function resolveRegistryDir(value: unknown, host: HostFacts): string | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (typeof value !== 'string' || !value)) {
    throw new ConfigError('registryDir', `must be a directory path or false, got ${describe(value)}`);
  }
  if (value !== undefined) return value;
  const fromEnv = host.env['SNAKEPIT_REGISTRY_DIR'];
  if (fromEnv) return fromEnv;
  return host.defaultRegistryDir;
}

export function resolveTools(raw: unknown): CheckedConfig['tools'] {
  const tools = raw ?? {};
  if (!isPlainObject(tools)) throw new ConfigError('tools', `must be an object, got ${describe(raw)}`);
  rejectUnknownKeys('tools.', tools, new Set(['maxDepth']));
  return { maxDepth: positiveInt('tools.maxDepth', tools['maxDepth'], DEFAULTS.toolsMaxDepth, 64) };
}

export function resolveTelemetry(raw: unknown): CheckedConfig['telemetry'] {
  if (raw === undefined || raw === true) return { ...DEFAULTS.telemetry };
  if (raw === false) return { calls: false, tracing: false };
  if (!isPlainObject(raw)) {
    throw new ConfigError('telemetry', `must be true, false or an object, got ${describe(raw)}`);
  }
  rejectUnknownKeys('telemetry.', raw, new Set(['calls', 'tracing']));
  const calls = boolean('telemetry.calls', raw['calls'] ?? DEFAULTS.telemetry.calls);
  const tracing = raw['tracing'] ?? DEFAULTS.telemetry.tracing;
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

export function resolveSessions(raw: unknown): CheckedConfig['sessions'] {
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
