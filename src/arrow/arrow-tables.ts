/**
 * apache-arrow Tables ↔ pandas / polars DataFrames (docs/DATA.md). A Table travels as one Arrow IPC stream in an
 * `arrow` tag: in shared memory (`shm: { seg, off, len }`) when the worker is local and the stream is large, else
 * inline (`ipc`: bytes). apache-arrow is optional: `Snakepit.start` loads it when it is installed, and only then
 * do Tables encode this way (and `arrow` tags from a worker become Tables).
 */
import { TAG_KEY, registerTagKind, registerTaggedClass, type TagMap } from '../transport/tags.js';
import { noteInline, readShared, sharedTag } from '../shm/shm-values.js';

type ArrowModule = typeof import('apache-arrow');

let arrow: ArrowModule | undefined;
let loading: Promise<ArrowModule | undefined> | undefined;

export const MISSING_APACHE_ARROW =
  'an Arrow table arrived, but the apache-arrow package is not installed on the host (npm install apache-arrow)';

/** Load apache-arrow if it is installed (once); its Tables then cross as Arrow. */
export function loadArrow(): Promise<ArrowModule | undefined> {
  loading ??= import('apache-arrow').then(
    (module: ArrowModule) => {
      arrow = module;
      registerTaggedClass(module.Table, (table) =>
        arrowTag(module, table as InstanceType<ArrowModule['Table']>),
      );
      return module;
    },
    () => undefined,
  );
  return loading;
}

function arrowTag(module: ArrowModule, table: InstanceType<ArrowModule['Table']>): TagMap {
  const ipc = module.tableToIPC(table, 'stream');
  // Large and local: the stream goes to shared memory, where pyarrow reads it in place.
  const shared = sharedTag(ipc, undefined, false);
  if (shared)
    return { [TAG_KEY]: 'arrow', shm: { seg: shared['seg'], off: shared['off'], len: shared['len'] } };
  return { [TAG_KEY]: 'arrow', ipc: Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength) };
}

registerTagKind('arrow', (tag) => {
  if (!arrow) throw new Error(MISSING_APACHE_ARROW);
  const bytes = tag['shm'] !== undefined ? readShared(tag['shm']) : tag['ipc'];
  if (!(bytes instanceof Uint8Array)) throw new Error('arrow tag: ipc must be bytes');
  if (tag['shm'] === undefined) noteInline(bytes.byteLength); // a large table from a remote worker: for stats
  return arrow.tableFromIPC(bytes);
});
