/**
 * The small checkers every config section uses (resolve-config and its pool, host and supervision parts,
 * library-config, grpc-config): one wording for one kind of mistake, so a ConfigError reads the same whichever
 * section it comes from. Each takes the key at fault (`pools[1].size`) and throws a ConfigError naming it.
 */
import { ConfigError } from '../errors/errors.js';

/** A value as an error message shows it: `"text"`, `number 5`, `an array`, `an object`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Refuse a key not in `allowed`.
 * @param prefix put before the key in the error, with its dot: `pools[0].queue.` (empty at the top level)
 */
export function rejectUnknownKeys(
  prefix: string,
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      throw new ConfigError(
        `${prefix}${key}`,
        `is not a known option (known: ${[...allowed].sort().join(', ')})`,
      );
    }
  }
}

/** An object section with only `keys` (absent: `{}`). */
export function section(key: string, value: unknown, keys: string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(key, `must be an object, got ${describe(value)}`);
  rejectUnknownKeys(`${key}.`, value, new Set(keys));
  return value;
}

/** An integer from `min` to `max`, or `fallback` when absent. */
export function integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function positiveInt(
  key: string,
  value: unknown,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return integer(key, value, fallback, 1, max);
}

export function optionalPositiveInt(key: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInt(key, value, 0);
}

export function nonNegativeInt(key: string, value: unknown, fallback: number, max: number): number {
  return integer(key, value, fallback, 0, max);
}

/** `true` or `false` (apply the default before: `raw ?? false`). */
export function boolean(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(key, `must be true or false, got ${describe(value)}`);
  return value;
}

export function stringList(key: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new ConfigError(key, `must be an array of non-empty strings, got ${describe(value)}`);
  }
  return value as string[];
}

export function stringMap(key: string, value: unknown): Record<string, string> {
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
