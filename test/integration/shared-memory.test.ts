/**
 * Large binary values in shared memory with real workers (docs/DATA.md): typed arrays, Buffers and NDArrays reach
 * numpy as read-only views of the mapping (no copy), numpy arrays and bytes come back through the worker's result
 * segments, segments are reused across calls, and hostile handles from either side fail their own call only.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NDArray, SerializationError, Snakepit, type SnakepitConfig } from '../../src/index.js';
import { RawTag, TAG_KEY } from '../../src/transport/tags.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { spawnSync } from 'node:child_process';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';
import { grpcInstalled, startWorkerServer, type WorkerServer } from '../grpc-helpers.js';

const ADAPTER = 'snakepit_fixtures.shared_memory:ShmAdapter';

interface Info {
  type: string;
  dtype?: string;
  shape?: number[];
  writable?: boolean;
  address?: number;
  segments?: string[];
  sum?: number;
  size?: number;
  first?: number;
  last?: number;
}

function startPit(extra: Partial<SnakepitConfig> = {}): Promise<Snakepit> {
  return Snakepit.start({
    size: 1,
    logger: false,
    pythonPath: [FIXTURES_PYTHONPATH],
    adapter: ADAPTER,
    ...extra,
  } as SnakepitConfig);
}

/** This run's files in /dev/shm. */
function segmentsOf(pit: Snakepit): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith(`snakepit-${pit.runId}-`));
}

const PYTHON = resolvePython(undefined).executable;
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe('shared memory, local worker (msgpack)', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await startPit();
  });
  afterAll(async () => {
    await pit?.close();
    expect(segmentsOf(pit)).toEqual([]); // close() removes every segment
  });

  it('a 10,000-float Float64Array reaches numpy as a read-only view of the mapping, at the same address twice', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const x = Float64Array.from({ length: 10_000 }, (_, i) => i / 4);
    const first = (await pit.execute('info', { value: x })) as Info;
    const second = (await pit.execute('info', { value: x })) as Info;
    expect(first).toMatchObject({ type: 'ndarray', dtype: 'float64', shape: [10_000], writable: false });
    expect(first.segments).toEqual(['a0']); // np.shares_memory with the argument segment's mapping
    expect(first.sum).toBe(x.reduce((a, b) => a + b, 0));
    expect(second.address).toBe(first.address); // the segment is reused: same mapping, same bytes
    expect(pit.workers()[0]!.sharedMemory).toBe(true);
  });

  it('x * 2 comes back as an NDArray through a result segment', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const before = pit.stats('default').transfer.sharedValues;
    const x = Float64Array.from({ length: 50_000 }, (_, i) => i - 7.5);
    const y = (await pit.execute('double', { x })) as NDArray;
    expect(y).toBeInstanceOf(NDArray);
    expect(y.dtype).toBe('float64');
    expect([...(y.data as Float64Array).subarray(0, 3)]).toEqual([-15, -13, -11]);
    expect(y.data[49_999]).toBe((49_999 - 7.5) * 2);
    expect(pit.stats('default').transfer.sharedValues).toBe(before + 2); // one each way
  });

  it('every typed array, NDArray shapes and ArrayBuffer travel both ways intact', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const n = 40_000;
    const cases: Array<[ArrayBufferView, string]> = [
      [Int8Array.from({ length: n * 2 }, (_, i) => (i % 200) - 100), 'int8'],
      [Int16Array.from({ length: n }, (_, i) => i - 20_000), 'int16'],
      [Uint16Array.from({ length: n }, (_, i) => i), 'uint16'],
      [Int32Array.from({ length: n }, (_, i) => -i), 'int32'],
      [Uint32Array.from({ length: n }, (_, i) => i * 3), 'uint32'],
      [Float32Array.from({ length: n }, (_, i) => i / 8), 'float32'],
      [BigInt64Array.from({ length: n }, (_, i) => BigInt(i) - 2n ** 40n), 'int64'],
      [BigUint64Array.from({ length: n }, (_, i) => BigInt(i) * 2n ** 20n), 'uint64'],
    ];
    for (const [array, dtype] of cases) {
      const back = (await pit.execute('echo', { value: array })) as NDArray;
      expect(back.dtype).toBe(dtype);
      const same = Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(
        Buffer.from(array.buffer, array.byteOffset, array.byteLength),
      );
      expect(same, dtype).toBe(true);
    }
    const grid = new NDArray(
      Float64Array.from({ length: 300 * 40 }, (_, i) => i),
      [300, 40],
    );
    const info = (await pit.execute('info', { value: grid })) as Info;
    expect(info).toMatchObject({ type: 'ndarray', shape: [300, 40], writable: false });
    const flags = new NDArray(
      Uint8Array.from({ length: 70_000 }, (_, i) => i % 2),
      [70_000],
      'bool',
    );
    const echoed = (await pit.execute('echo', { value: flags })) as NDArray;
    expect(echoed.dtype).toBe('bool');
    expect(
      Buffer.from(echoed.data.buffer, echoed.data.byteOffset, echoed.data.byteLength).equals(
        Buffer.from(flags.data.buffer),
      ),
    ).toBe(true);
    const buffer = new ArrayBuffer(100_000);
    new Uint8Array(buffer).fill(7);
    expect(await pit.execute('info', { value: buffer })).toMatchObject({ type: 'bytes', size: 100_000 });
  });

  it('1 MiB of bytes each way', async () => {
    const sent = Buffer.alloc(1 << 20, 3);
    sent[sent.length - 1] = 9;
    expect(await pit.execute('info', { value: sent })).toEqual({
      type: 'bytes',
      size: 1 << 20,
      first: 3,
      last: 9,
    });
    const back = (await pit.execute('blob', { n: 1 << 20 })) as Buffer;
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.length).toBe(1 << 20);
    expect(back[251]).toBe(0);
    expect(back[1000]).toBe(1000 % 251);
    const echoed = (await pit.execute('echo', { value: sent })) as Buffer;
    expect(echoed.equals(sent)).toBe(true);
  });

  it('an array larger than the default 64 MiB frame limit crosses both ways with the default options', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const x = new Float64Array(9_000_000); // 72 MB
    x[0] = 1;
    x[8_999_999] = 3;
    const y = (await pit.execute('double', { x })) as NDArray;
    expect(y.shape).toEqual([9_000_000]);
    expect([y.data[0], y.data[4_000_000], y.data[8_999_999]]).toEqual([2, 0, 6]);
  }, 60_000);

  it('large results in a loop are each their own memory with their own values (Buffers prepared ahead)', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const n = 2_500_000; // 20 MB: from WARM_FROM_BYTES on, the host prepares the next result's Buffer ahead
    const results: NDArray[] = [];
    for (let k = 1; k <= 4; k++) {
      results.push((await pit.execute('double', { x: new Float64Array(n).fill(k) })) as NDArray);
      if (k === 2) await pit.execute('info', { value: new Float64Array(n) }); // a large argument, a small result
    }
    expect(new Set(results.map((r) => r.data.buffer)).size).toBe(4);
    for (const [i, r] of results.entries()) {
      expect([r.data[0], r.data[n >> 1], r.data[n - 1]]).toEqual([2 * (i + 1), 2 * (i + 1), 2 * (i + 1)]);
      expect(r.data.byteLength).toBe(n * 8);
    }
    (results[0]!.data as Float64Array).fill(-1); // the caller's to change: no other result sees it
    expect(results[1]!.data[0]).toBe(4);
  }, 60_000);

  it('an argument array is read-only in Python', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const out = await pit.execute('try_write', { x: new Float64Array(20_000) });
    expect(out).toMatch(/^refused: .*read-only/);
  });

  it('a view kept past its call shows a later call’s data (the lifetime rule: copy what you keep)', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    expect(await pit.execute('keep', { x: new Float64Array(20_000).fill(1) })).toBe(20_000);
    // the next call reuses the free argument segment the kept view maps
    await pit.execute('info', { value: new Float64Array(20_000).fill(5) });
    expect(await pit.execute('kept_sums', {})).toEqual([100_000]);
  });

  it('segments are reused: many calls, few files', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const x = new Float64Array(20_000).fill(1);
    await Promise.all(Array.from({ length: 40 }, () => pit.execute('double', { x })));
    for (let i = 0; i < 40; i++) await pit.execute('double', { x });
    // Names go at first use, so count the open files instead: the worker's and the host's descriptors of this
    // run's segments. At most one argument and one result segment per call in flight at once, never one per call.
    const open = (pid: number | string): string[] =>
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((target) => target.startsWith(`/dev/shm/snakepit-${pit.runId}-`));
    const worker = open(pit.workers()[0]!.pid!);
    const host = open('self');
    expect(worker.length).toBeGreaterThan(0);
    // Count segments, not descriptors (Python's mmap keeps a duplicate of each). Up to pipelineDepth calls are in
    // flight on the worker at once, each with one argument and one result segment; without reuse these 80 calls
    // would have made 160.
    const bound = 2 * DEFAULTS.pipelineDepth + 4;
    expect(new Set(worker).size).toBeLessThanOrEqual(bound);
    expect(new Set(host).size).toBeLessThanOrEqual(bound);
    expect([...worker, ...host].every((f) => /-[ar]\d+( \(deleted\))?$/.test(f))).toBe(true);
  });

  it('values under the threshold stay inline', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const before = pit.stats('default').transfer;
    const out = (await pit.execute('info', { value: new Float64Array(100) })) as Info;
    expect(out).toMatchObject({ type: 'ndarray', writable: true, segments: [] });
    expect(pit.stats('default').transfer.sharedValues).toBe(before.sharedValues);
  });
});

describe('hostile shared-memory handles', () => {
  let pit: Snakepit;
  let pid: number | undefined;
  beforeAll(async () => {
    pit = await startPit();
    pid = pit.workers()[0]!.pid;
  });
  afterAll(async () => {
    await pit?.close();
    expect(segmentsOf(pit)).toEqual([]);
  });

  const KINDS = [
    'other_segment',
    'path',
    'slash',
    'negative',
    'header',
    'past_end',
    'huge',
    'float_len',
    'dtype_size',
    'bad_dtype',
    'bad_shape',
    'missing',
  ];

  it.each(KINDS)(
    'from the worker, %s: that call fails with SerializationError, nothing else',
    async (kind) => {
      const err = await pit.execute('hostile', { kind }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toMatch(/shared-memory handle/);
      expect(await pit.execute('hostile', { kind: 'good' })).toEqual(Buffer.from([...Array(16).keys()]));
      expect(pit.workers()[0]!.pid).toBe(pid);
    },
  );

  it('from the worker, a symlink to a host file: refused, the file is neither read nor written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-shm-'));
    const target = join(dir, 'secret');
    writeFileSync(target, 'SECRET');
    const err = await pit.execute('hostile', { kind: 'symlink', target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toMatch(/cannot be opened/);
    expect(readFileSync(target, 'utf8')).toBe('SECRET');
    expect(pit.workers()[0]!.pid).toBe(pid);
  });

  const shm = (fields: Record<string, unknown>): RawTag =>
    new RawTag({ [TAG_KEY]: 'shm', seg: 'a0', off: 0, len: 8, ...fields });
  const CALLER: Array<[string, RawTag]> = [
    ['a result segment', shm({ seg: 'r0' })],
    ['a path', shm({ seg: '../../../etc/passwd' })],
    ['a segment that does not exist', shm({ seg: 'a999' })],
    ['a segment name that is not text', shm({ seg: ['a0'] })],
    ['a negative offset', shm({ off: -1 })],
    ['a range past the end', shm({ off: 0, len: 2 ** 40 })],
    ['a length that is not an integer', shm({ len: 'eight' })],
    ['a dtype that does not fit the length', shm({ len: 8, dtype: 'float32', shape: [3] })],
    ['an unknown dtype', shm({ len: 8, dtype: 'object', shape: [1] })],
  ];

  it.each(CALLER)('from the caller, %s: that call fails with SerializationError', async (_, tag) => {
    // a0 exists: a large argument went there first
    await pit.execute('info', { value: Buffer.alloc(100_000) });
    const err = await pit.execute('info', { value: tag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toMatch(/shm/);
    expect(pit.workers()[0]!.pid).toBe(pid);
  });
});

describe('fallbacks: values go inline, and stats say so', () => {
  it('sharedMemory: false', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const pit = await startPit({ sharedMemory: false });
    try {
      const out = (await pit.execute('info', { value: new Float64Array(20_000) })) as Info;
      expect(out).toMatchObject({ type: 'ndarray', writable: true, segments: [] });
      expect(pit.workers()[0]!.sharedMemory).toBe(false);
      expect(pit.stats('default').transfer).toMatchObject({
        sharedValues: 0,
        inlineValues: 1,
        inlineBytes: 160_000,
      });
      expect(segmentsOf(pit)).toEqual([]);
    } finally {
      await pit.close();
    }
  });

  it('the JSON codec', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const pit = await startPit({ codec: 'json' });
    try {
      const y = (await pit.execute('double', { x: new Float64Array(20_000).fill(2) })) as NDArray;
      expect(y.data[19_999]).toBe(4);
      expect(pit.workers()[0]!.sharedMemory).toBe(false);
      // the argument and the result
      expect(pit.stats('default').transfer).toMatchObject({ sharedValues: 0, inlineValues: 2 });
    } finally {
      await pit.close();
    }
  });

  it('a worker that cannot use /dev/shm (its hello says so): both directions inline', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    // sitecustomize in no-shm makes the bridge report no /dev/shm, as on a system without one
    const pit = await startPit({
      pythonPath: [join(FIXTURES_PYTHONPATH, '..', 'no-shm'), FIXTURES_PYTHONPATH],
    });
    try {
      const out = (await pit.execute('info', { value: new Float64Array(20_000).fill(1) })) as Info;
      expect(out).toMatchObject({ type: 'ndarray', writable: true, segments: [], sum: 20_000 });
      const y = (await pit.execute('arange', { n: 20_000 })) as NDArray;
      expect(y.data[19_999]).toBe(19_999);
      expect(pit.workers()[0]!.sharedMemory).toBe(false);
      expect(pit.stats('default').transfer).toMatchObject({ sharedValues: 0, inlineValues: 2 });
      expect(segmentsOf(pit)).toEqual([]);
    } finally {
      await pit.close();
    }
  });

  it('a result segment that cannot grow (/dev/shm full): that result goes inline, the next ones still work', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const pit = await startPit();
    try {
      const pid = pit.workers()[0]!.pid;
      // files of the worker may not grow past 256 KiB from now on: a 4 MB result has no segment to go into
      const big = (await pit.execute('capped_arange', { n: 500_000, cap: 256 * 1024 })) as NDArray;
      expect(big.data[499_999]).toBe(499_999);
      expect(pit.stats('default').transfer).toMatchObject({ sharedValues: 0, inlineValues: 1 });
      // with room again, results go through shared memory again; the worker never died
      await pit.execute('uncap', {});
      const again = (await pit.execute('arange', { n: 500_000 })) as NDArray;
      expect(again.data[499_999]).toBe(499_999);
      expect(pit.stats('default').transfer.sharedValues).toBe(1);
      expect(pit.workers()[0]!.pid).toBe(pid);
    } finally {
      await pit.close();
    }
  });
});

describe.skipIf(!requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)'))(
  'fallback: a remote worker (gRPC) gets large values inline',
  () => {
    let server: WorkerServer | undefined;
    afterAll(async () => {
      await server?.stop();
    });

    it('both directions inline, and stats say so', async (ctx) => {
      if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
      server = await startWorkerServer({ adapter: ADAPTER });
      const pit = await Snakepit.start({
        adapter: ADAPTER,
        logger: false,
        transport: 'grpc',
        endpoints: [server.address],
        grpc: { connectTimeoutMs: 3_000 },
      });
      try {
        const out = (await pit.execute('info', { value: new Float64Array(20_000).fill(2) })) as Info;
        expect(out).toMatchObject({ type: 'ndarray', writable: true, segments: [], sum: 40_000 });
        const y = (await pit.execute('double', { x: new Float64Array(20_000).fill(3) })) as NDArray;
        expect(y.data[19_999]).toBe(6);
        const back = (await pit.execute('blob', { n: 1 << 20 })) as Buffer;
        expect(back.length).toBe(1 << 20);
        expect(pit.workers()[0]!.sharedMemory).toBe(false);
        expect(pit.stats('default').transfer).toMatchObject({ sharedValues: 0, inlineValues: 4 });
        expect(segmentsOf(pit)).toEqual([]);
      } finally {
        await pit.close();
      }
    });
  },
);

describe('cleanup', () => {
  it('a worker killed with SIGKILL leaves no segment behind', async (ctx) => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return ctx.skip();
    const pit = await startPit();
    try {
      await pit.execute('double', { x: new Float64Array(50_000) });
      const prefix = (await pit.execute('prefix', {})) as string;
      expect(pit.stats('default').transfer.sharedValues).toBe(2);
      // a name the worker has not opened yet (the host died before it could): removed when the worker exits
      writeFileSync(`/dev/shm/${prefix}a99`, 'x');
      const pid = pit.workers()[0]!.pid!;
      const replaced = new Promise<void>((resolve) => pit.on('worker:restarted', () => resolve()));
      process.kill(pid, 'SIGKILL');
      await replaced;
      expect(readdirSync('/dev/shm').filter((n) => n.startsWith(prefix))).toEqual([]);
      // the replacement has segments of its own, and works
      const y = (await pit.execute('double', { x: new Float64Array(50_000).fill(1) })) as NDArray;
      expect(y.data[0]).toBe(2);
    } finally {
      await pit.close();
    }
    expect(existsSync('/dev/shm')).toBe(true);
    expect(segmentsOf(pit)).toEqual([]);
  });
});
