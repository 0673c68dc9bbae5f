/**
 * WarmBuffer: the host's next large result buffer, made ready while the worker computes (docs/DATA.md, "Numbers").
 *
 * A result read from shared memory lands in a new Buffer. Above glibc's mmap threshold (32 MiB at most) every
 * such Buffer is fresh memory from the kernel, and each of its 4 KiB pages is faulted in on first touch: for
 * 100 MB, ~24,400 faults, which on a VM cost more than the copy itself, on the main thread, after the worker
 * answered. When a link expects a result of a known size, it asks for one in advance: the Buffer is allocated
 * and its pages are faulted in by a read from /dev/zero on libuv's thread pool, while the argument is written
 * and the worker computes. The result is then read into pages that are already there.
 *
 * The buffer is handed out once and belongs to the caller from then on (it is never reused); it is zeros until
 * the result is read into it, all of it (the read fills `length` bytes or fails).
 */
import { openSync, read } from 'node:fs';

/** /dev/zero, opened once per process; null when it cannot be opened (then nothing is prepared). */
let zeroFd: number | null | undefined;

function devZero(): number | null {
  if (zeroFd === undefined) {
    try {
      zeroFd = openSync('/dev/zero', 'r');
    } catch {
      zeroFd = null;
    }
  }
  return zeroFd;
}

/** A prepared buffer no result took within this time of being ready is dropped: an idle pool does not hold it. */
const HOLD_MS = 2000;
/** From this size on, the pages are faulted in by two reads at once. */
const SPLIT_FROM_BYTES = 16 << 20;

export class WarmBuffer {
  readonly #holdMs: number;
  #buffer: Buffer | undefined;
  /** The thread pool finished faulting in #buffer's pages: the main thread may write into it. */
  #ready = false;

  constructor(holdMs = HOLD_MS) {
    this.#holdMs = holdMs;
  }

  /** Bytes of the buffer prepared or being prepared (0: none). */
  get length(): number {
    return this.#buffer?.length ?? 0;
  }

  /** A buffer is prepared and its pages are in: `take` of its length returns it. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Start preparing a buffer of `length` bytes, unless one of that size is already there or under way. */
  prepare(length: number): void {
    if (this.#buffer?.length === length) return;
    const fd = devZero();
    if (fd === null) return;
    let buffer: Buffer;
    try {
      buffer = Buffer.allocUnsafeSlow(length);
    } catch {
      this.drop(); // no memory for a spare: the result gets a Buffer of its own when it comes, as without one
      return;
    }
    this.#buffer = buffer;
    this.#ready = false;
    // Two reads, on two of the pool's threads: where a core is free, the pages are in twice as soon. Each read
    // holds `buffer` until it completes, so a buffer dropped meanwhile is not freed under it.
    const half = length >= SPLIT_FROM_BYTES ? Math.ceil(length / 2 / 4096) * 4096 : length;
    let pending = 2;
    const done = (): void => {
      if (--pending > 0 || this.#buffer !== buffer) return;
      this.#ready = true;
      // Counted from here, not from `prepare`: on a busy machine the faults alone can take longer than that, and
      // a buffer dropped before it was ready would have cost them for nothing.
      setTimeout(() => {
        if (this.#buffer === buffer) this.drop();
      }, this.#holdMs).unref();
    };
    read(fd, buffer, 0, Math.min(half, length), null, done);
    if (half < length) read(fd, buffer, half, length - half, null, done);
    else done();
  }

  /**
   * The prepared buffer if it is ready and `length` bytes long: it is the caller's from now on. A buffer of
   * another size is dropped; one still being prepared is kept for the next result.
   */
  take(length: number): Buffer | undefined {
    const buffer = this.#buffer;
    if (buffer === undefined) return undefined;
    if (buffer.length !== length) {
      this.drop();
      return undefined;
    }
    if (!this.#ready) return undefined;
    this.#buffer = undefined;
    this.#ready = false;
    return buffer;
  }

  /** Forget the prepared buffer (the garbage collector frees it once no read holds it). */
  drop(): void {
    this.#buffer = undefined;
    this.#ready = false;
  }
}
