/**
 * Results as JSON for the terminal: values JSON cannot hold are written in a form a reader can tell apart.
 * bigint → its decimal string; bytes → `{ "$bytes": "<base64>" }`; other typed arrays → arrays; Map → object;
 * Set → array; NaN/±Infinity → "NaN"/"Infinity"/"-Infinity".
 */

export function toPlainJson(value: unknown, depth = 0): unknown {
  if (depth > 200) return '[too deep]';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toPlainJson(v, depth + 1));
  }
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlainJson(v, depth + 1)]));
  }
  if (value instanceof Set) return [...value].map((v) => toPlainJson(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toPlainJson(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainJson(v, depth + 1)]));
}

/** `value` as JSON text: indented when `pretty`, one line otherwise. */
export function formatJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(toPlainJson(value), null, pretty ? 2 : undefined) ?? 'null';
}
