// The host's side of the ledger (src/worker/ledger.ts): slots, and reading what a worker left, written here the way
// the worker writes it (python/snakepit_bridge/dispatch/ledger.py); and which of its frames the channel recovers.
import { readSync, writeSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameChannel } from '../../src/transport/channel.js';
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

describe("FrameChannel.recover: the frames in a dead worker's ring that the host had not read", () => {
  const frame = (id: number): Buffer => {
    const body = Buffer.from(JSON.stringify({ type: 'pong', id }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    return Buffer.concat([head, body]);
  };

  /** A channel that has read (and handled) `read` frames; the worker wrote `frames` in all. */
  async function channelThatRead(frames: Buffer[], read: number): Promise<FrameChannel> {
    const socket = new PassThrough();
    const seen: unknown[] = [];
    const channel = new FrameChannel(socket, 1 << 20, { onMessage: (m) => seen.push(m), onClose: () => {} });
    socket.write(Buffer.concat(frames.slice(0, read)));
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(read);
    return channel;
  }

  const ids = (messages: Array<{ type: string; id?: number }>): unknown[] => messages.map((m) => m.id);
  const frames = [1, 2, 3, 4].map(frame);
  const at = (i: number): number => Buffer.concat(frames.slice(0, i)).length; // channel offset of frames[i]

  it('decodes the ring from where the host stopped reading', async () => {
    const channel = await channelThatRead(frames, 2);
    expect(ids(channel.recover(Buffer.concat(frames), 0))).toEqual([3, 4]);
    expect(ids(channel.recover(Buffer.concat(frames.slice(1)), at(1)))).toEqual([3, 4]);
    expect(ids(channel.recover(Buffer.concat(frames.slice(2)), at(2)))).toEqual([3, 4]);
    expect(channel.recover(Buffer.concat(frames.slice(0, 2)), 0)).toEqual([]); // nothing unread
  });

  it('gives nothing from a ring that does not continue exactly where the host stopped', async () => {
    const channel = await channelThatRead(frames, 2);
    // The ring starts past the host's offset: frame 3 is lost (the ring started over), so frame 4 is not delivered
    // either — the ring is not the continuation of what the host read.
    expect(channel.recover(Buffer.concat(frames.slice(3)), at(3))).toEqual([]);
    // Numbered differently from the host (bytes the worker wrote past its connection, which it does not count):
    // no frame of the ring starts at the host's offset.
    expect(channel.recover(Buffer.concat(frames), 5)).toEqual([]);
  });
});
