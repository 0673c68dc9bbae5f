/**
 * Large frames with real workers: arrays and bytes of odd sizes, from a few bytes to several MiB, cross the
 * channel in both directions intact. They span several socket reads on each side (the worker reads at most
 * 256 KiB at a time and receives a large body straight into its own buffer; the host reads 64 KiB chunks),
 * and several large frames in flight at once share reads.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NDArray, Snakepit, type SnakepitConfig } from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';

const PYTHON = resolvePython(undefined).executable;
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

interface Digest {
  kind: string;
  dtype?: string;
  shape?: number[];
  size?: number;
  writable?: boolean;
  sha256?: string;
}

function sha256(view: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
    .digest('hex');
}

/** Items that differ from their neighbours, so a shifted or truncated copy shows. */
function float64s(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => i * 1.000001 - n / 3);
}

function bytesOf(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8)) & 0xff;
  return out;
}

// Item counts around the edges of the paths: the host's in-place threshold (1 KiB), the worker's first read
// (64 KiB) and large-body threshold (64 KiB), its grown read buffer (256 KiB), and past 1 MiB.
const FLOAT_COUNTS = [1, 127, 128, 129, 8191, 8192, 8193, 10_000, 32_767, 32_769, 131_073, 400_003];
const BYTE_SIZES = [1, 1023, 65_531, 65_536, 65_541, 262_139, 262_149, (1 << 20) + 3, 3 * (1 << 20) + 1];

describe.each(['msgpack', 'json'] as const)('large frames over %s', (codec) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await Snakepit.start({
      size: 1,
      codec,
      // frames are what this file tests: large values inline (shared memory: shared-memory.test.ts)
      sharedMemory: false,
      logger: false,
      pythonPath: [FIXTURES_PYTHONPATH],
      libraries: [{ name: 'frames', module: 'snakepit_fixtures.large_frames', expose: 'public' }],
    } as SnakepitConfig);
  });
  afterAll(async () => {
    await pit?.close();
  });

  it.each(BYTE_SIZES)('bytes of %i bytes arrive and come back exactly', async (size) => {
    const data = bytesOf(size);
    const seen = await pit.execute<Digest>('python.frames.digest', { _args: [data] });
    expect(seen).toEqual({ kind: 'bytes', size, sha256: sha256(data) });
    const back = await pit.execute<Uint8Array>('python.frames.echo', { _args: [data] });
    expect(back.byteLength).toBe(size);
    expect(Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), data)).toBe(0);
  });

  it('Float64Arrays of odd sizes arrive as numpy arrays and come back exactly', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    for (const n of FLOAT_COUNTS) {
      const values = float64s(n);
      const seen = await pit.execute<Digest>('python.frames.digest', { _args: [values] });
      expect(seen, `${n} floats`).toEqual({
        kind: 'ndarray',
        dtype: 'float64',
        shape: [n],
        writable: true,
        sha256: sha256(values),
      });
      const back = await pit.execute<NDArray>('python.frames.echo', { _args: [values] });
      expect(back).toBeInstanceOf(NDArray);
      expect([back.dtype, back.shape], `${n} floats`).toEqual(['float64', [n]]);
      expect(sha256(back.data), `${n} floats`).toBe(sha256(values));
    }
  });

  it('views, other dtypes and shapes, and several large arrays in one frame', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const backing = float64s(200_001);
    const view = backing.subarray(3, 150_000); // a view that starts inside its buffer
    const shorts = Int16Array.from({ length: 33_333 }, (_, i) => (i % 2 ? -i : i) % 32_000); // 66,666 bytes
    const matrix = new NDArray(
      Float32Array.from({ length: 301 * 317 }, (_, i) => i / 7),
      [301, 317],
    );
    const seen = await pit.execute<Digest[]>('python.frames.digests', {
      _args: [[view, shorts, matrix, new Float64Array(0), float64s(5)]],
    });
    expect(seen.map((d) => [d.dtype, d.shape, d.sha256])).toEqual([
      ['float64', [view.length], sha256(view)],
      ['int16', [33_333], sha256(shorts)],
      ['float32', [301, 317], sha256(matrix.data)],
      ['float64', [0], sha256(new Float64Array(0))],
      ['float64', [5], sha256(float64s(5))],
    ]);
  });

  it('many large frames in flight at once share reads and stay in order', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const arrays = [10_000, 8193, 70_001, 3, 140_000, 10_000, 1, 262_145].map(float64s);
    const seen = await Promise.all(
      arrays.map((values) => pit.execute<Digest>('python.frames.digest', { _args: [values] })),
    );
    expect(seen.map((d) => d.sha256)).toEqual(arrays.map(sha256));
    const blobs = [65_537, 300_001, 17, (1 << 20) + 5].map(bytesOf);
    const back = await Promise.all(
      blobs.map((data) => pit.execute<Uint8Array>('python.frames.echo', { _args: [data] })),
    );
    expect(back.map((b) => sha256(b))).toEqual(blobs.map(sha256));
  });
});
