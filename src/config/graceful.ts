/**
 * Graceful values (docs/VALUES.md): a result value with no by-value form becomes a marker object
 * `{ __ffi_unserializable__: true, __type__: 'module.Class', __repr__? }` instead of failing the call, as in
 * Snakepit's Python bridge. Off by default; on per pool (`graceful`) or per call (`options.graceful`).
 */
import { ConfigError } from '../errors/errors.js';

/** `true`: markers with the type name; `{ repr: true }`: also a repr of the object (at most 200 characters). */
export type GracefulOption = boolean | { repr?: boolean };

/** What the call frame carries (absent: off). */
export interface GracefulWire {
  repr: boolean;
}

/**
 * @returns the wire form, or undefined when off
 * @throws ConfigError naming `where` when the value is not a boolean or `{ repr?: boolean }`
 */
export function resolveGraceful(where: string, value: unknown): GracefulWire | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { repr: false };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const repr = (value as { repr?: unknown }).repr;
    if (keys.every((k) => k === 'repr') && (repr === undefined || typeof repr === 'boolean')) {
      return { repr: repr === true };
    }
  }
  throw new ConfigError(
    where,
    `must be true, false or { repr: boolean }, got ${JSON.stringify(value) ?? typeof value}`,
  );
}
