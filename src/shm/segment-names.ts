/**
 * Names of shared-memory segments (docs/DATA.md). Every segment of a worker is a file in /dev/shm named
 *
 *   snakepit-<run id>-<worker>-a<n>   written by the host (arguments), mapped read-only by the worker
 *   snakepit-<run id>-<worker>-r<n>   written by the worker (results), read by the host
 *
 * The run id is random per host process and recorded by the process registry, so whoever finds a dead host's
 * record (the orphan sweep) can remove its segments by prefix; a host removes a worker's segments when the
 * worker exits, and all of its own at `close()`. On the wire a handle names only the suffix (`a3`, `r0`): a
 * peer cannot name a file outside its own worker's segments.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export const SHM_DIR = '/dev/shm';
/** A segment suffix on the wire: who wrote it (`a`: host, `r`: worker) and its number. */
export const SEGMENT_SUFFIX = /^[ar]\d{1,6}$/;

/**
 * The prefix of one worker's segments (ends in `-`, so worker `w1`'s never matches `w10`'s): run id and worker
 * id, with anything but `[A-Za-z0-9_.]` as `_`.
 */
export function segmentPrefix(runId: string, workerId: string): string {
  return `snakepit-${clean(runId)}-${clean(workerId)}-`;
}

/** The prefix every segment of one run starts with (its workers' prefixes extend it). */
export function runPrefix(runId: string): string {
  return `snakepit-${clean(runId)}-`;
}

function clean(text: string): string {
  return text.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 64);
}

/** Remove every segment whose name starts with `prefix`; returns how many. Never throws. */
export function removeSegments(prefix: string, dir = SHM_DIR): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      /* gone already */
    }
  }
  return removed;
}
