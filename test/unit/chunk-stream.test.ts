// ChunkStream (src/call/chunk-stream.ts): a stream call's chunks and credit.
import { describe, expect, it } from 'vitest';
import { ChunkStream } from '../../src/call/chunk-stream.js';

describe('ChunkStream', () => {
  it('delivers buffered chunks, then the error', async () => {
    const s = new ChunkStream(4);
    s.push(1);
    s.push(2);
    s.fail(new Error('boom'));
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const c of s) got.push(c);
      })(),
    ).rejects.toThrow('boom');
    expect(got).toEqual([1, 2]);
  });

  it('grants credit as the consumer pulls, half a window at a time', async () => {
    const s = new ChunkStream(4);
    const grants: number[] = [];
    s.attach({ grant: (n) => grants.push(n), stop: () => {} });
    for (let i = 0; i < 4; i++) s.push(i);
    for (let i = 0; i < 4; i++) await s.next();
    expect(grants).toEqual([2, 2]);
  });

  it('return() stops the producer once', async () => {
    const s = new ChunkStream(4);
    let stops = 0;
    s.attach({ grant: () => {}, stop: () => stops++ });
    s.push(1);
    await s.return();
    await s.return();
    expect(stops).toBe(1);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });
});
