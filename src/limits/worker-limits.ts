/**
 * How a pool's `limits` reach its workers: one environment variable the worker reads before it imports the adapter
 * (snakepit_bridge/dispatch/limits.py sets the rlimits from it).
 */
import type { ResolvedLimits } from '../config/config-types.js';

export const LIMITS_ENV = 'SNAKEPIT_LIMITS';

/**
 * `memory_mb=300,cpu_seconds=5,open_files=256`, or '' for none. Always set (never inherited): a host running
 * inside a limited worker must not pass that worker's limits on to its own workers.
 */
export function limitsEnvValue(limits: ResolvedLimits): string {
  const parts: string[] = [];
  if (limits.memoryMb !== undefined) parts.push(`memory_mb=${limits.memoryMb}`);
  if (limits.cpuSeconds !== undefined) parts.push(`cpu_seconds=${limits.cpuSeconds}`);
  if (limits.openFiles !== undefined) parts.push(`open_files=${limits.openFiles}`);
  return parts.join(',');
}
