/**
 * A pool's `limits` section: hard per-worker limits, checked here and enforced by src/limits/ (the host's side)
 * and snakepit_bridge/dispatch/limits.py (the worker's).
 */
import { ConfigError } from '../errors/errors.js';
import { integer, section } from './checks.js';
import type { ResolvedLimits, TransportKind } from './config-types.js';

/** Below this a worker cannot hold the interpreter, the bridge and its threads' stacks. */
export const MIN_MEMORY_MB = 64;
/** Below this the bridge itself (channel, wake-up pipe, standard streams) runs out of descriptors. */
export const MIN_OPEN_FILES = 16;

export function resolveLimits(key: string, value: unknown, transport: TransportKind): ResolvedLimits {
  const raw = section(key, value, ['memoryMb', 'cpuSeconds', 'openFiles']);
  const limits: ResolvedLimits = {
    memoryMb: optional(`${key}.memoryMb`, raw['memoryMb'], MIN_MEMORY_MB, 1024 * 1024 * 1024),
    cpuSeconds: optional(`${key}.cpuSeconds`, raw['cpuSeconds'], 1, 365 * 24 * 3600),
    openFiles: optional(`${key}.openFiles`, raw['openFiles'], MIN_OPEN_FILES, 1024 * 1024),
  };
  const any = Object.values(limits).some((v) => v !== undefined);
  if (any && transport !== 'local') {
    throw new ConfigError(
      key,
      `applies to workers this host starts itself (transport "local"), not to transport "${transport}"; ` +
        'limit remote workers where they run',
    );
  }
  return limits;
}

function optional(key: string, value: unknown, min: number, max: number): number | undefined {
  return value === undefined ? undefined : integer(key, value, 0, min, max);
}
