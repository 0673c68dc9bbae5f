// The host's side of the ledger (src/worker/ledger.ts): slots, and reading what a worker left, written here the way
// the worker writes it (python/snakepit_bridge/dispatch/ledger.py).
import { readSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ledger, LEDGER_SLOTS } from '../../src/worker/ledger.js';

function header(ledger: Ledger): Buffer {
  const buf = Buffer.alloc(28);
  readSync(ledger.fd, buf, 0, buf.length, 0);
  return buf;
}

function workerWrites(ledger: Ledger, at: number, bytes: Buffer): void {
  writeSync(ledger.fd, bytes, 0, bytes.length, at);
}

describe('Ledger', () => {
  it('makes an unlinked file with its header, for the worker to map', () => {
    const ledger = Ledger.create()!;
    try {
      const h = header(ledger);
      expect(h.toString('latin1', 0, 4)).toBe('SPL1');
      expect(h.readUInt32LE(4)).toBe(LEDGER_SLOTS);
    } finally {
      ledger.close();
    }
  });

  it('hands out each slot to one call at a time, and none once all are held', () => {
    const ledger = Ledger.create()!;
    try {
      const held = Array.from({ length: LEDGER_SLOTS }, () => ledger.take());
      expect(new Set(held).size).toBe(LEDGER_SLOTS);
      expect(ledger.take()).toBeUndefined();
      ledger.give(held[7]!);
      expect(ledger.take()).toBe(held[7]);
    } finally {
      ledger.close();
    }
  });

  it('assumes nothing about a worker that never attached', () => {
    const ledger = Ledger.create()!;
    try {
      expect(ledger.read()).toBeUndefined();
    } finally {
      ledger.close();
    }
  });

  it('reads which calls began and the last frames, with their channel offset', () => {
    const ledger = Ledger.create()!;
    try {
      const ring = header(ledger).readUInt32LE(8);
      const begun = Buffer.alloc(8);
      begun.writeBigInt64LE(4242n);
      workerWrites(ledger, 64 + 8 * 3, begun);
      const frames = Buffer.from('0000000301020300000001ff', 'hex');
      workerWrites(ledger, ring, Buffer.concat([frames, Buffer.from('stale bytes past the end')]));
      const fields = Buffer.alloc(16);
      fields.writeUInt32LE(frames.length, 0); // end
      fields.writeUInt32LE(1, 4); // attached
      fields.writeBigUInt64LE(123_456n, 8); // base
      workerWrites(ledger, 16, fields);
      const record = ledger.read()!;
      expect(record.began(3, 4242)).toBe(true);
      expect(record.began(3, 4243)).toBe(false);
      expect(record.began(4, 4242)).toBe(false);
      expect(record.frames).toEqual(frames);
      expect(record.base).toBe(123_456);
    } finally {
      ledger.close();
    }
  });
});
