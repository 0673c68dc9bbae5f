/**
 * The ledger: a small file shared with one local worker (its fd 4), which the host reads only once the worker has
 * died (docs/PROTOCOL.md §1.2). The worker writes into it, with plain memory stores:
 * - which calls had begun: each `call` frame carries a `slot`; the worker writes the call's id there before any of
 *   its code runs. A call whose slot does not hold its id never began, so it can run on another worker;
 * - the frames it wrote last (results, chunks, logs), numbered by their offset in the channel: the host decodes
 *   those it had not read when the worker died — or when garbage from the worker broke the stream.
 *
 * The file is created and unlinked at once (only the two processes hold it, nothing is left behind), on tmpfs
 * (`/dev/shm`) when there is one, so nothing is ever written to disk. It is sparse: a worker touches a page or two.
 *
 *   0   "SPL1" · slots · ring offset · ring size · end · attached (u32 LE) · base (u64 LE, at 24)
 *   64  begun[slots] (i64 LE: the call id that began in each slot)
 *   RING_OFFSET  whole frames, [0, end), the first at channel offset `base`
 */
import { closeSync, existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const LEDGER_SLOTS = 2000;
const BEGUN_OFFSET = 64;
const RING_OFFSET = 16_384;
const RING_SIZE = 256 * 1024;
const FILE_SIZE = RING_OFFSET + RING_SIZE;

/** What the worker left in its ledger, read after its death. */
export interface LedgerRecord {
  /** Whether the call dispatched with `slot` and `id` had begun. */
  began(slot: number, id: number): boolean;
  /** The last frames it wrote on the channel, whole and in order, the first at channel offset `base`. */
  frames: Buffer;
  base: number;
}

export class Ledger {
  readonly fd: number;
  #free: number[] = [];
  #next = 0;
  #closed = false;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A new ledger, or undefined when no private file can be made (the worker then runs without one). */
  static create(): Ledger | undefined {
    const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const path = join(dir, `snakepit-ledger-${process.pid}-${randomBytes(6).toString('hex')}`);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
      ftruncateSync(fd, FILE_SIZE);
      const header = Buffer.alloc(16);
      header.write('SPL1', 0, 'latin1');
      header.writeUInt32LE(LEDGER_SLOTS, 4);
      header.writeUInt32LE(RING_OFFSET, 8);
      header.writeUInt32LE(RING_SIZE, 12);
      writeSync(fd, header, 0, header.length, 0);
      return new Ledger(fd);
    } catch {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(path);
      } catch {
        /* never created, or already unlinked */
      }
      return undefined;
    }
  }

  /** A slot for a call being dispatched, or undefined when all are held by calls in flight. */
  take(): number | undefined {
    const slot = this.#free.pop();
    if (slot !== undefined) return slot;
    return this.#next < LEDGER_SLOTS ? this.#next++ : undefined;
  }

  /** The call holding `slot` was answered (or taken back): the slot can serve another. */
  give(slot: number): void {
    this.#free.push(slot);
  }

  /** Read what the dead worker left (undefined if the file cannot be read: nothing is then assumed). */
  read(): LedgerRecord | undefined {
    if (this.#closed) return undefined;
    try {
      const head = Buffer.alloc(BEGUN_OFFSET + 8 * LEDGER_SLOTS);
      readSync(this.fd, head, 0, head.length, 0);
      // A worker that never mapped the ledger recorded nothing: that is not "nothing began".
      if (head.toString('latin1', 0, 4) !== 'SPL1' || head.readUInt32LE(20) !== 1) return undefined;
      const frames = Buffer.alloc(Math.min(head.readUInt32LE(16), RING_SIZE));
      if (frames.length > 0) readSync(this.fd, frames, 0, frames.length, RING_OFFSET);
      return {
        began: (slot, id) => Number(head.readBigInt64LE(BEGUN_OFFSET + 8 * slot)) === id,
        frames,
        base: Number(head.readBigUInt64LE(24)),
      };
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}
