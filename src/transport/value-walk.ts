/**
 * The slow path of encoding. Codecs encode at native speed and call these only when the fast encode failed,
 * to say exactly which value is at fault (`SerializationError` with a path such as `args.rows[2].when`).
 */
import { SerializationError } from '../errors/errors.js';
import { TaggedValue } from './tags.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Find the first value that no codec can carry: functions, symbols, and cycles.
 * @returns a SerializationError for it, or null when the value is encodable.
 */
export function findUnencodable(value: unknown, path: string): SerializationError | null {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): SerializationError | null {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      return new SerializationError(path, describeType(value));
    case 'object':
      break;
    default:
      return null;
  }
  if (value === null || ArrayBuffer.isView(value) || value instanceof TaggedValue || value instanceof Date) {
    return null;
  }
  if (seen.has(value)) {
    return new SerializationError(path, 'cycle', `cannot encode a cycle: ${path} refers back to itself`);
  }
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = walk(value[i], childPath(path, i), seen);
        if (bad) return bad;
      }
    } else if (value instanceof Map) {
      for (const [k, v] of value) {
        const bad = walk(v, childPath(path, String(k)), seen);
        if (bad) return bad;
      }
    } else if (value instanceof Set) {
      let i = 0;
      for (const v of value) {
        const bad = walk(v, childPath(path, i++), seen);
        if (bad) return bad;
      }
    } else {
      for (const key of Object.keys(value)) {
        const bad = walk((value as Record<string, unknown>)[key], childPath(path, key), seen);
        if (bad) return bad;
      }
    }
  } finally {
    seen.delete(value);
  }
  return null;
}
