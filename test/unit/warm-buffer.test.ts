/**
 * The host's result Buffer prepared ahead (src/shm/warm-buffer.ts) and how a ShmLink uses it: real files in a
 * temporary folder stand in for /dev/shm, the "worker" side is written here with plain fs calls.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WarmBuffer } from '../../src/shm/warm-buffer.js';
import { RESULT_HEADER_BYTES, ShmLink, WARM_FROM_BYTES, emptyTransferStats } from '../../src/shm/shm-link.js';

/** Resolves once `warm` is ready (the thread pool's reads completed), polling each turn of the event loop. */
async function untilReady(warm: { ready: boolean }): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!warm.ready) {
    if (Date.now() > deadline) throw new Error('the buffer was never ready');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('WarmBuffer', () => {
  it('prepares zeros of the asked length, hands them out once, then has none', async () => {
    const warm = new WarmBuffer();
    const length = (20 << 20) + 123; // split in two reads, the second not a whole number of pages
    warm.prepare(length);
    expect(warm.take(length)).toBeUndefined(); // not ready yet: the pool is still writing into it
    await untilReady(warm);
    const buffer = warm.take(length)!;
    expect(buffer.length).toBe(length);
    expect(buffer.buffer.byteLength).toBe(length); // its own ArrayBuffer (transferable), not a slice of a pool
    expect(buffer.every((b) => b === 0)).toBe(true);
    expect(warm.take(length)).toBeUndefined();
    expect(warm.length).toBe(0);
  });

  it('a result of another length drops the prepared buffer; one still being prepared is kept for its length', async () => {
    const warm = new WarmBuffer();
    warm.prepare(1 << 20);
    await untilReady(warm);
    expect(warm.take(2 << 20)).toBeUndefined();
    expect(warm.length).toBe(0); // dropped
    warm.prepare(1 << 20);
    warm.take(1 << 20); // probably not ready yet: kept either way unless taken
    warm.prepare(1 << 20); // the same length again: nothing new
    if (warm.length) {
      await untilReady(warm);
      expect(warm.take(1 << 20)?.length).toBe(1 << 20);
    }
  });

  it('a prepared buffer no result takes is dropped after a while: an idle pool does not hold it', async () => {
    const warm = new WarmBuffer(50);
    warm.prepare(1 << 20);
    await untilReady(warm);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(warm.length).toBe(0);
    expect(warm.take(1 << 20)).toBeUndefined();
  });

  it('the hold time counts from when the buffer is ready, not from when it was asked for', async () => {
    // A hold shorter than the faults of 128 MiB take (32,768 pages): counted from `prepare`, the buffer would be
    // dropped before it was ever ready, its faults paid for nothing.
    const warm = new WarmBuffer(20);
    warm.prepare(128 << 20);
    const deadline = Date.now() + 10_000;
    // setImmediate, not a timer: the check runs in the same turn of the event loop as the read's completion.
    while (!warm.ready && warm.length && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(warm.ready).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(warm.length).toBe(0); // and then it goes
  });

  it('a buffer dropped while its pages are faulted in is never marked ready (nothing writes into a taken buffer)', async () => {
    const warm = new WarmBuffer();
    warm.prepare(32 << 20);
    warm.drop();
    warm.prepare(1 << 20);
    await untilReady(warm);
    expect(warm.take(32 << 20)).toBeUndefined(); // the dropped one is gone, and the 1 MiB one with it
    await new Promise((resolve) => setTimeout(resolve, 200)); // the dropped reads complete meanwhile
    expect(warm.ready).toBe(false);
  });
});

describe('ShmLink reads a large result into a Buffer prepared while the worker computed', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A worker result segment `r0` holding `data` after the header, as the worker writes it. */
  function writeResult(path: string, data: Buffer): void {
    const fd = openSync(path, 'w', 0o600);
    writeSync(fd, Buffer.from([1]), 0, 1, 0);
    writeSync(fd, data, 0, data.length, RESULT_HEADER_BYTES);
    closeSync(fd);
  }

  it('each result is its own memory with the worker’s bytes, whether its Buffer was prepared or not', async () => {
    dir = mkdtempSync(join(tmpdir(), 'warm-'));
    const prefix = 'snakepit-test-w1-';
    const link = new ShmLink(prefix, 4096, emptyTransferStats(), dir);
    const length = WARM_FROM_BYTES + 4096;
    const fill = (v: number): Buffer => Buffer.alloc(length, v);
    // 1st result: nothing expected yet, a fresh Buffer. The link opens r0 (and removes its name, as with a worker).
    writeResult(join(dir, `${prefix}r0`), fill(1));
    const first = link.read('r0', RESULT_HEADER_BYTES, length);
    link.doneReading();
    expect(first.every((b) => b === 1)).toBe(true);
    // Right after a large result, the link prepares a Buffer of its size for the next one.
    expect(link.prepared.length).toBe(length);
    link.write(1, Buffer.alloc(WARM_FROM_BYTES, 7)); // the next call: the same Buffer is still the one prepared
    expect(link.prepared.length).toBe(length);
    const results: Buffer[] = [first];
    for (const [id, v] of [
      [1, 2],
      [2, 3],
    ] as const) {
      await untilReady(link.prepared);
      // The worker writes the next result into the same segment (the host still holds it open, by descriptor).
      const fd = openSync(`/proc/self/fd/${linkFd(link)}`, 'r+');
      writeSync(fd, fill(v), 0, length, RESULT_HEADER_BYTES);
      closeSync(fd);
      const out = link.read('r0', RESULT_HEADER_BYTES, length);
      link.doneReading();
      expect(link.prepared.ready).toBe(false); // the prepared one was taken; the next is on its way
      link.release(id);
      expect(out.every((b) => b === v)).toBe(true);
      results.push(out);
      if (id === 1) link.write(2, Buffer.alloc(WARM_FROM_BYTES, 7));
    }
    // No result's memory is another's, and none changed after it was handed out.
    expect(new Set(results.map((b) => b.buffer)).size).toBe(3);
    expect(results.map((b) => b[0])).toEqual([1, 2, 3]);
    expect(results.map((b) => b[length - 1])).toEqual([1, 2, 3]);
    link.close();
    expect(link.prepared.length).toBe(0);
  });

  it('a call with a large argument that returns something small: the prepared Buffer is dropped, not held', async () => {
    dir = mkdtempSync(join(tmpdir(), 'warm-'));
    const prefix = 'snakepit-test-w1-';
    const link = new ShmLink(prefix, 4096, emptyTransferStats(), dir);
    const length = WARM_FROM_BYTES;
    writeResult(join(dir, `${prefix}r0`), Buffer.alloc(length, 1));
    link.read('r0', RESULT_HEADER_BYTES, length);
    link.doneReading();
    link.write(1, Buffer.alloc(WARM_FROM_BYTES, 7));
    expect(link.prepared.length).toBe(length);
    link.release(1); // settled: its result came inline (a scalar), no read
    expect(link.prepared.length).toBe(0);
    link.write(2, Buffer.alloc(WARM_FROM_BYTES, 7)); // no guess left: nothing prepared for the next such call
    expect(link.prepared.length).toBe(0);
    link.close();
  });
});

/** The descriptor the link holds for result segment r0 (its name is gone once opened): found through /proc. */
function linkFd(link: ShmLink): number {
  void link;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/snakepit-test-w1-r0 \(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`))) return Number(fd);
    } catch {
      /* closed meanwhile */
    }
  }
  throw new Error('the link holds no descriptor of r0');
}
