/**
 * The `python` section of a config (top level, and per pool): checked here so resolve-config stays about pools.
 */
import { ConfigError } from '../errors/errors.js';
import { checkRequirementSpec } from '../python-env/package-spec.js';
import type { PythonConfig } from './config-types.js';

const TOP_PYTHON_KEYS = new Set(['executable', 'strategy', 'version', 'packages', 'bridgePath']);
const POOL_PYTHON_KEYS = new Set(['executable', 'strategy', 'version']);
/** Version requests handed to uv: `3.12`, `3.12.3`, `>=3.11`, `cpython@3.12`. No spaces, no shell syntax. */
const VERSION_PATTERN = /^[A-Za-z0-9@<>=!~.,*+-]{1,64}$/;

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * Check a `python` section and return it typed.
 * @param where `python` or `pools[0].python`
 * @param topLevel whether `packages` is allowed (top level only)
 * @throws ConfigError naming the key
 */
export function checkPythonConfig(where: string, raw: unknown, topLevel: boolean): PythonConfig {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(where, `must be an object, got ${show(raw)}`);
  }
  const python = raw as Record<string, unknown>;
  const allowed = topLevel ? TOP_PYTHON_KEYS : POOL_PYTHON_KEYS;
  for (const key of Object.keys(python)) {
    if (!allowed.has(key)) {
      const hint =
        key === 'packages' || key === 'bridgePath' ? ` (${key} belongs in the top-level python section)` : '';
      throw new ConfigError(
        `${where}.${key}`,
        `is not a known option (known: ${[...allowed].sort().join(', ')})${hint}`,
      );
    }
  }
  const { executable, strategy, version, packages, bridgePath } = python;
  if (bridgePath !== undefined && (typeof bridgePath !== 'string' || !bridgePath)) {
    throw new ConfigError(`${where}.bridgePath`, `must be a non-empty path, got ${show(bridgePath)}`);
  }
  if (executable !== undefined && (typeof executable !== 'string' || !executable)) {
    throw new ConfigError(`${where}.executable`, `must be a non-empty string, got ${show(executable)}`);
  }
  if (strategy !== undefined && strategy !== 'auto' && strategy !== 'uv') {
    throw new ConfigError(`${where}.strategy`, `must be "auto" or "uv", got ${show(strategy)}`);
  }
  if (version !== undefined && (typeof version !== 'string' || !VERSION_PATTERN.test(version))) {
    throw new ConfigError(
      `${where}.version`,
      `must be a Python version such as "3.12", got ${show(version)}`,
    );
  }
  if (packages !== undefined) {
    if (!Array.isArray(packages)) {
      throw new ConfigError(
        `${where}.packages`,
        `must be an array of requirement strings, got ${show(packages)}`,
      );
    }
    packages.forEach((spec, i) => checkRequirementSpec(spec, `${where}.packages[${i}]`));
  }
  return python as PythonConfig;
}

/** A pool's python settings over the top-level ones (a pool's `executable` replaces the top level's whole choice). */
export function mergePythonConfig(top: PythonConfig, pool: PythonConfig): PythonConfig {
  if (pool.executable !== undefined) return { executable: pool.executable };
  return {
    ...(top.executable !== undefined && pool.strategy === undefined ? { executable: top.executable } : {}),
    ...((pool.strategy ?? top.strategy) ? { strategy: pool.strategy ?? top.strategy } : {}),
    ...((pool.version ?? top.version) ? { version: pool.version ?? top.version } : {}),
  };
}
