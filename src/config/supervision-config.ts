/**
 * How a pool watches and replaces its workers: the `heartbeat`, `recycle` and `restart` sections of a pool,
 * checked here so resolve-config stays about pools.
 */
import { ConfigError } from '../errors/errors.js';
import { optionalPositiveInt, positiveInt, section } from './checks.js';
import type { ResolvedPoolConfig } from './config-types.js';
import { DEFAULTS } from './defaults.js';

export function resolveHeartbeat(key: string, value: unknown): ResolvedPoolConfig['heartbeat'] {
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

export function resolveRecycle(key: string, value: unknown): ResolvedPoolConfig['recycle'] {
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

export function resolveRestart(key: string, value: unknown): ResolvedPoolConfig['restart'] {
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
