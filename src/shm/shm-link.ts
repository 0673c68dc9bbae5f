/**
 * ShmLink: one local worker's shared memory (docs/DATA.md). The host cannot map memory (Node has no mmap without
 * a native addon), so it writes an argument into a segment file with one `pwrite` and reads a result with one
 * `pread`; the worker maps the same files and gives numpy a view of them (no copy on the Python side).
 *
 * Argument segments (`a<n>`) are the host's: one per large value, leased when the call is encoded and given back
 * when the call settles (or is withdrawn), then reused by the next call — a worker's files are created once, not
 * per call. Result segments (`r<n>`) are the worker's: the worker marks one busy (its first byte) while a result
 * in it is unread, and the host clears that byte once it has read the result, so the worker may reuse it.
 *
 * Whoever opens a segment the other side made removes its name (both hold it open from then on), so a segment
 * is named in /dev/shm only until its first use, and a SIGKILL of either process leaves nothing there; `close()`
 * and the orphan sweep remove names still left from that window.
 *
 * Everything a worker sends is checked: a handle names a suffix only (never a path), must be one of this
 * worker's result segments, a regular file not reached through a link, with the range inside the file and a
 * length that matches its dtype and shape. Anything else fails that one result (ShmHandleError), nothing else.
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SEGMENT_SUFFIX, SHM_DIR, removeSegments } from './segment-names.js';
import { WarmBuffer } from './warm-buffer.js';

/** Header of a worker's result segment: byte 0 is 1 while a result in it is unread. Data starts after it. */
export const RESULT_HEADER_BYTES = 64;
/** Argument segments one worker may hold at once; beyond it, values go inline in the frame. */
const MAX_ARG_SEGMENTS = 256;
/** Result segments of one worker the host keeps open. */
const MAX_RESULT_SEGMENTS = 256;
/**
 * From this size on, a result's Buffer is prepared while the worker computes (warm-buffer.ts). Below it the
 * thread pool's work competed with the worker and the host for the cores and did not pay (1 MiB round trips got
 * slower on 2 vCPUs); above it the faults of a fresh Buffer dominate the read (100 MB: ~100 ms against ~20 ms).
 */
export const WARM_FROM_BYTES = 16 << 20;
/** Above this size no Buffer is prepared ahead: holding a spare that large is not worth the time it saves. */
export const WARM_MAX_BYTES = 256 << 20;

/** Counters for `pit.stats()`: how large values travelled. */
export interface TransferStats {
  /** Large values (at or above the threshold) sent or received through shared memory. */
  sharedValues: number;
  sharedBytes: number;
  /** Large values that went inline in the frame instead: no shared memory (remote, JSON codec) or none free. */
  inlineValues: number;
  inlineBytes: number;
}

export function emptyTransferStats(): TransferStats {
  return { sharedValues: 0, sharedBytes: 0, inlineValues: 0, inlineBytes: 0 };
}

/** A handle a worker sent that does not name a readable range of its own result segments. */
export class ShmHandleError extends Error {}

interface ArgSegment {
  suffix: string;
  fd: number;
  busy: boolean;
}

interface ResultSegment {
  fd: number;
  size: number;
}

export class ShmLink {
  readonly prefix: string;
  readonly minBytes: number;
  readonly stats: TransferStats;
  readonly #dir: string;
  readonly #args: ArgSegment[] = [];
  /** Argument segments leased to each call in flight. */
  readonly #leases = new Map<number, ArgSegment[]>();
  readonly #results = new Map<string, ResultSegment>();
  /** Result segments read in the message being decoded: their busy byte is cleared after it. */
  readonly #read = new Set<ResultSegment>();
  /** The next large result's Buffer, prepared ahead (see `write`). */
  readonly #warm = new WarmBuffer();
  /** Size of the last result read from shared memory: what a call sending a large argument likely gets back. */
  #expected = 0;
  /** The call whose argument started preparing #warm: if it settles without using it, the guess was wrong. */
  #warmFor: number | undefined;
  #closed = false;

  constructor(prefix: string, minBytes: number, stats: TransferStats, dir = SHM_DIR) {
    this.prefix = prefix;
    this.minBytes = minBytes;
    this.stats = stats;
    this.#dir = dir;
  }

  /**
   * Write `bytes` into a free argument segment leased to call `callId`; returns its suffix, or undefined when
   * the value should go inline (closed, too many segments in use, or the write failed: /dev/shm full).
   */
  write(callId: number, bytes: Uint8Array): string | undefined {
    if (this.#closed) return undefined;
    let segment = this.#args.find((s) => !s.busy);
    try {
      if (!segment) {
        if (this.#args.length >= MAX_ARG_SEGMENTS) return undefined;
        const suffix = `a${this.#args.length}`;
        const fd = openSync(
          join(this.#dir, this.prefix + suffix),
          constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
          0o600,
        );
        segment = { suffix, fd, busy: false };
        this.#args.push(segment);
      }
      let done = 0;
      while (done < bytes.byteLength)
        done += writeSync(segment.fd, bytes, done, bytes.byteLength - done, done);
    } catch {
      return undefined;
    }
    segment.busy = true;
    // A call with a large argument after one that got a large result back (numpy in, numpy out): the result's
    // Buffer is faulted in on the thread pool while the worker computes, not on the main thread after it answers.
    if (this.#expected) {
      this.#warm.prepare(this.#expected);
      this.#warmFor = callId;
    }
    const leased = this.#leases.get(callId);
    if (leased) leased.push(segment);
    else this.#leases.set(callId, [segment]);
    this.stats.sharedValues++;
    this.stats.sharedBytes += bytes.byteLength;
    return segment.suffix;
  }

  /** The Buffer prepared for the next large result: its size (0: none) and whether its pages are in. */
  get prepared(): { readonly length: number; readonly ready: boolean } {
    return this.#warm;
  }

  /** The call settled (or was withdrawn, or its frame was never sent): its segments may be reused. */
  release(callId: number): void {
    if (callId === this.#warmFor) {
      // It settled and its result did not take the prepared Buffer: it returns something else. Do not hold the
      // memory, nor prepare again for the next such call.
      this.#warmFor = undefined;
      if (this.#warm.length) {
        this.#warm.drop();
        this.#expected = 0;
      }
    }
    const leased = this.#leases.get(callId);
    if (!leased) return;
    this.#leases.delete(callId);
    for (const segment of leased) segment.busy = false;
  }

  /**
   * The bytes of a result the worker put in segment `suffix` at `offset` (a fresh Buffer: the one host-side copy).
   * @throws ShmHandleError for a handle that does not name a readable range of this worker's result segments
   */
  read(suffix: unknown, offset: unknown, length: unknown): Buffer {
    if (typeof suffix !== 'string' || !SEGMENT_SUFFIX.test(suffix) || suffix[0] !== 'r') {
      throw new ShmHandleError(
        `names segment ${JSON.stringify(String(suffix)).slice(0, 40)}, not a result segment`,
      );
    }
    if (!isCount(offset) || !isCount(length) || offset < RESULT_HEADER_BYTES) {
      throw new ShmHandleError(`has a bad range (offset ${String(offset)}, length ${String(length)})`);
    }
    if (this.#closed) throw new ShmHandleError('arrived after the worker closed');
    const segment = this.#open(suffix);
    if (offset + length > segment.size) segment.size = fstatSync(segment.fd).size; // it may have grown
    if (offset + length > segment.size) {
      throw new ShmHandleError(
        `reaches past the end of segment ${suffix} (${offset} + ${length} > ${segment.size} bytes)`,
      );
    }
    const warm = this.#warm.take(length);
    // The guess was right (a Buffer still being prepared is kept for the next result of this size).
    if (warm || this.#warm.length === length) this.#warmFor = undefined;
    this.#expected = length >= WARM_FROM_BYTES && length <= WARM_MAX_BYTES ? length : 0;
    const out = warm ?? Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const n = readSync(segment.fd, out, done, length - done, offset + done);
      if (n === 0) throw new ShmHandleError(`segment ${suffix} shrank while it was read`);
      done += n;
    }
    this.#read.add(segment);
    // The next call likely returns as much again (numpy in, numpy out, in a loop): its Buffer is faulted in on
    // the thread pool from now on, while the caller uses this one and the worker computes the next.
    if (this.#expected) this.#warm.prepare(this.#expected);
    this.stats.sharedValues++;
    this.stats.sharedBytes += length;
    return out;
  }

  /** After a message was decoded: the result segments it used are free for the worker again. */
  doneReading(): void {
    if (this.#read.size === 0) return;
    for (const segment of this.#read) {
      try {
        writeSync(segment.fd, FREE, 0, 1, 0);
      } catch {
        /* the worker is gone */
      }
    }
    this.#read.clear();
  }

  #open(suffix: string): ResultSegment {
    const known = this.#results.get(suffix);
    if (known) return known;
    if (this.#results.size >= MAX_RESULT_SEGMENTS) {
      throw new ShmHandleError(`is one more result segment than the ${MAX_RESULT_SEGMENTS} a worker may use`);
    }
    const path = join(this.#dir, this.prefix + suffix);
    let fd: number;
    try {
      // O_NOFOLLOW: a worker that put a link there gets an error, not a host file read (or its first byte written).
      fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (err) {
      throw new ShmHandleError(`names segment ${suffix}, which cannot be opened (${(err as Error).message})`);
    }
    const stat = fstatSync(fd);
    if (
      !stat.isFile() ||
      stat.nlink !== 1 ||
      (typeof process.getuid === 'function' && stat.uid !== process.getuid())
    ) {
      closeSync(fd);
      throw new ShmHandleError(`names segment ${suffix}, which is not a regular file of this user`);
    }
    // Both sides hold it open now: its name can go, so a SIGKILL of either leaves nothing in /dev/shm.
    try {
      unlinkSync(path);
    } catch {
      /* the worker removed it */
    }
    const segment = { fd, size: stat.size };
    this.#results.set(suffix, segment);
    return segment;
  }

  /** The worker is gone or the pool closes: close every file and remove the worker's segments from /dev/shm. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#warm.drop();
    for (const { fd } of [...this.#args, ...this.#results.values()]) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.#args.length = 0;
    this.#results.clear();
    this.#leases.clear();
    removeSegments(this.prefix, this.#dir);
  }
}

const FREE = Buffer.from([0]);

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
