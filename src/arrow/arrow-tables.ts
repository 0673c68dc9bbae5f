/**
 * apache-arrow Tables ↔ pandas / polars DataFrames (docs/DATA.md). A Table travels as one Arrow IPC stream in an
 * `arrow` tag: in shared memory (`shm: { seg, off, len }`) when the worker is local and the stream is large, else
 * inline (`ipc`: bytes).
 *
 * apache-arrow is optional, and loaded only when a table crosses: when a value to encode is a Table, or an `arrow`
 * tag arrives from a worker. Its import takes ~350 ms, which a pool that never moves a table should not pay at
 * start (arrow-module.ts loads it). A Table is recognised without the package by the brand apache-arrow puts on
 * every Table (`Symbol.for('apache-arrow/Table')`, what its own `instanceof Table` checks), so Tables from any copy
 * of the package encode alike.
 */
import { TAG_KEY, registerTagKind, registerTaggedClass, type TagMap } from '../transport/tags.js';
import { noteInline, readShared, sharedTag } from '../shm/shm-values.js';
import { type ArrowModule, loadArrowSync } from './arrow-module.js';

export const MISSING_APACHE_ARROW =
  'an Arrow table arrived, but the apache-arrow package is not installed on the host (npm install apache-arrow)';

const TABLE_BRAND = Symbol.for('apache-arrow/Table');

/** Matches (`instanceof`) any apache-arrow Table, whichever copy of the package made it, without loading one. */
abstract class ArrowTableShape {
  static [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TABLE_BRAND] === true
    );
  }
}

/** The package, loaded now if it was not; throws what to do when it is not installed. */
function arrowOrThrow(missing: string): ArrowModule {
  const arrow = loadArrowSync();
  if (!arrow) throw new Error(missing);
  return arrow;
}

function arrowTag(table: object): TagMap {
  const arrow = arrowOrThrow(
    'an apache-arrow Table is being sent, but this process cannot load the apache-arrow package itself ' +
      '(npm install apache-arrow in the project that runs snakepit)',
  );
  const ipc = arrow.tableToIPC(table as InstanceType<ArrowModule['Table']>, 'stream');
  // Large and local: the stream goes to shared memory, where pyarrow reads it in place.
  const shared = sharedTag(ipc, undefined, false);
  if (shared)
    return { [TAG_KEY]: 'arrow', shm: { seg: shared['seg'], off: shared['off'], len: shared['len'] } };
  return { [TAG_KEY]: 'arrow', ipc: Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength) };
}

/** Tables cross as Arrow from now on (the codecs learn the class and the tag kind); calling it again is a no-op. */
export function registerArrowTables(): void {
  registerTaggedClass(ArrowTableShape, arrowTag);
  registerTagKind('arrow', reviveArrow);
}

function reviveArrow(tag: TagMap): unknown {
  const bytes = tag['shm'] !== undefined ? readShared(tag['shm']) : tag['ipc'];
  if (!(bytes instanceof Uint8Array)) throw new Error('arrow tag: ipc must be bytes');
  const arrow = arrowOrThrow(MISSING_APACHE_ARROW);
  if (tag['shm'] === undefined) noteInline(bytes.byteLength); // a large table from a remote worker: for stats
  return arrow.tableFromIPC(bytes);
}
