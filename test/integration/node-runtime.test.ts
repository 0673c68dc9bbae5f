// The Node.js worker runtime (`runtime: "node"`): a module's exports as tools, on real Node worker processes —
// the conformance suite, then what is particular to JavaScript: async generators, AbortSignal, typed errors with
// the JS stack, the value table, hostile values, host calls, heartbeats and leaving with the host.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  CallTimeoutError,
  ConfigError,
  InvalidArgumentsError,
  NDArray,
  PayloadTooLargeError,
  SerializationError,
  Snakepit,
  type SnakepitConfig,
  ToolError,
  UnknownToolError,
  WorkerCrashedError,
  WorkerStartError,
} from '../../src/index.js';
import { runConformance } from '../../src/conformance/conformance.js';
import { spawnRaw } from '../../src/conformance/raw-worker.js';
import { nodeRuntimeEntry } from '../../src/config/runtime-config.js';
import { alive, eventually } from '../helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOOLS = join(HERE, '..', 'fixtures', 'node', 'conformance-tools.mjs');

function nodePool(extra: Partial<SnakepitConfig> = {}): Promise<Snakepit> {
  return Snakepit.start({
    runtime: 'node',
    module: TOOLS,
    size: 1,
    logger: false,
    registryDir: false,
    ...extra,
  } as SnakepitConfig);
}

describe('runtime node: the conformance suite', () => {
  it('passes every check', async () => {
    const report = await runConformance({
      command: [process.execPath, nodeRuntimeEntry(), '--module', TOOLS],
    });
    const failed = report.checks.filter((c) => c.status !== 'pass');
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
  }, 60_000);
});

describe('runtime node: calls', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await nodePool({ workerConcurrency: 8 });
  });
  afterAll(() => pit.close());

  it('runs sync, async and generator tools; lists them with their kinds', async () => {
    expect(await pit.execute('echo', { value: [1, 'two', { three: 3 }] })).toEqual([1, 'two', { three: 3 }]);
    expect(await pit.execute('addAsync', { a: 2, b: 3 })).toBe(5);
    const chunks: unknown[] = [];
    for await (const c of pit.executeStream('ticks', { n: 3 })) chunks.push(c);
    expect(chunks).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    const specs = Object.fromEntries(pit.describe().map((t) => [t.name, t]));
    expect(specs['echo']).toMatchObject({
      description: 'Return the value it was given',
      supportsStreaming: false,
    });
    expect(specs['ticks']).toMatchObject({ supportsStreaming: true, isAsync: true });
    expect(specs['lifecycle']).toBeUndefined();
    expect(pit.workers()[0]!.codec).toBe('json');
  });

  it('a stream tool needs a stream call; a plain tool in a stream call is one chunk', async () => {
    await expect(pit.execute('ticks', { n: 2 })).rejects.toBeInstanceOf(InvalidArgumentsError);
    const chunks: unknown[] = [];
    for await (const c of pit.executeStream('echo', { value: 'once' })) chunks.push(c);
    expect(chunks).toEqual(['once']);
  });

  it('throws ToolError with the JavaScript type, stack and code', async () => {
    const err = (await pit.execute('fail', { message: 'no good' }).catch((e: unknown) => e)) as ToolError;
    expect(err).toBeInstanceOf(ToolError);
    expect(err.code).toBe('SNAKEPIT_TOOL_ERROR');
    expect(err.errorType).toBe('RangeError');
    expect(err.mro).toEqual(['RangeError', 'Error']);
    expect(err.errorCode).toBe('E_CONFORMANCE');
    expect(err.message).toContain('no good');
    expect(err.traceback).toContain('conformance-tools.mjs');
    expect(err.workerId).toBe(pit.workers()[0]!.id);
    const unknown = (await pit.execute('nope').catch((e: unknown) => e)) as UnknownToolError;
    expect(unknown).toBeInstanceOf(UnknownToolError);
    expect(unknown.available).toContain('echo');
    await expect(pit.execute('__snakepit__.get_attr', {})).rejects.toBeInstanceOf(UnknownToolError);
  });

  it('carries the value table both ways', async () => {
    const out = (await pit.execute('values')) as Record<string, unknown>;
    expect(out['big']).toBe(2n ** 70n);
    expect(out['bytes']).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(out['when']).toEqual(new Date('2024-01-02T03:04:05.678Z'));
    expect(out['nan']).toBeNaN();
    expect(out['inf']).toBe(-Infinity);
    expect(out['floats']).toBeInstanceOf(NDArray);
    expect(Array.from((out['floats'] as NDArray).data as Float64Array)).toEqual([1.5, 2.5]);
    expect(out['nested']).toEqual({ __snakepit__: 'not a tag' });
    const sent = {
      big: -(2n ** 80n),
      bytes: Buffer.from('bytes ✓'),
      when: new Date('2020-02-29T12:00:00.000Z'),
      inf: Infinity,
      set: new Set([1, 2]),
      map: new Map<unknown, unknown>([[1, 'one']]),
      tagKey: { __snakepit__: 'bytes', attachment: 0 },
      typed: new Int32Array([1, -2, 3]),
      proto: JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
    };
    const back = (await pit.execute('echo', { value: sent })) as Record<string, unknown>;
    expect(back['big']).toBe(-(2n ** 80n));
    expect(back['bytes']).toEqual(Buffer.from('bytes ✓'));
    expect(back['when']).toEqual(sent.when);
    expect(back['inf']).toBe(Infinity);
    expect(back['set']).toEqual([1, 2]); // a set comes back as a list (PROTOCOL.md §3.1: sets travel to the worker)
    expect(back['map']).toEqual({ 1: 'one' });
    expect(back['tagKey']).toEqual({ __snakepit__: 'bytes', attachment: 0 });
    expect(Array.from((back['typed'] as NDArray).data as Int32Array)).toEqual([1, -2, 3]);
    expect(Object.getPrototypeOf(back['proto'])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('fails unencodable results alone, with their path, and too-large ones as PayloadTooLargeError', async () => {
    const fn = (await pit.execute('unencodable').catch((e: unknown) => e)) as SerializationError;
    expect(fn).toBeInstanceOf(SerializationError);
    expect(fn.path).toBe('result.bad.fn');
    expect(await pit.execute('unencodable', {}, { graceful: true })).toEqual({
      ok: 1,
      bad: { fn: { __ffi_unserializable__: true, __type__: 'function' } },
    });
    await expect(pit.execute('cyclic')).rejects.toBeInstanceOf(SerializationError);
    expect(await pit.execute('echo', { value: 'still here' })).toBe('still here');
  });

  it('an AbortSignal aborts the tool; a timeout says "timeout"; the worker goes on', async () => {
    const ctrl = new AbortController();
    const pending = pit.execute('untilAborted', {}, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    await expect(pit.execute('untilAborted', {}, { timeoutMs: 150 })).rejects.toBeInstanceOf(
      CallTimeoutError,
    );
    await eventually(() => pit.workers()[0]!.load === 0, 2_000, 'the cancels answered');
    expect(await pit.execute('abortReasons')).toEqual(['abort', 'timeout']);
  });

  it('a tool that ignores its signal is answered as cancelled within a second; the worker is kept', async () => {
    const pid = pit.workers()[0]!.pid;
    const t0 = Date.now();
    await expect(pit.execute('ignoresAbort', { ms: 8_000 }, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      CallTimeoutError,
    );
    await eventually(() => pit.workers()[0]!.load === 0, 3_000, 'the cancel answered');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(pit.workers()[0]!.pid).toBe(pid);
  });

  it('breaking out of a stream closes the async generator (its finally runs)', async () => {
    let seen = 0;
    for await (const _ of pit.executeInSessionStream('gen', 'ticks', { n: 1_000_000, delayMs: 1 })) {
      if (++seen === 5) break;
    }
    await eventually(() => pit.workers()[0]!.load === 0, 3_000, 'the stream ended');
    expect(await pit.executeInSession('gen', 'ticksCleanedUp')).toBe(true);
  });

  it('streams 2,000 chunks in order under credit', async () => {
    let next = 0;
    for await (const c of pit.executeStream('count', { n: 2_000 }, { window: 16 })) expect(c).toBe(next++);
    expect(next).toBe(2_000);
  });

  it('passes deadlines, logs, events and correlation ids; calls host tools', async () => {
    const left = (await pit.execute('deadline', {}, { timeoutMs: 5_000 })) as number;
    expect(left).toBeGreaterThan(3_000);
    expect(left).toBeLessThanOrEqual(5_000);
    const events: unknown[] = [];
    const logs: unknown[] = [];
    const onEvent = (e: unknown): number => events.push(e);
    const onLog = (e: unknown): number => logs.push(e);
    pit.on('python:event', onEvent).on('log', onLog);
    const correlation = await pit.execute('logAndEmit', { message: 'hi' }, { correlationId: 'corr-1' });
    expect(correlation).toBe('corr-1');
    await eventually(() => events.length === 1 && logs.length >= 1, 2_000, 'the event and log');
    expect(events[0]).toMatchObject({
      name: ['node', 'tool', 'event'],
      measurements: { n: 1 },
      correlationId: 'corr-1',
    });
    expect(logs).toContainEqual(
      expect.objectContaining({ line: 'hi', level: 'warn', correlationId: 'corr-1' }),
    );
    pit.off('python:event', onEvent).off('log', onLog);
    pit.tools.register('double', ({ x }) => Number(x) * 2);
    expect(await pit.execute('askHost', { tool: 'double', args: { x: 21 } })).toBe(42);
    const err = (await pit
      .execute('askHost', { tool: 'missing', args: {} })
      .catch((e: unknown) => e)) as ToolError;
    expect(err).toBeInstanceOf(ToolError);
    expect(err.errorType).toBe('HostToolError');
  });
});

describe('runtime node: supervision', () => {
  it('a crash fails the call typed and the pool replaces the worker', async () => {
    const pit = await nodePool();
    try {
      const pid = pit.workers()[0]!.pid;
      const err = (await pit.execute('crash', { code: 7 }).catch((e: unknown) => e)) as WorkerCrashedError;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.exitCode).toBe(7);
      expect(await pit.execute('echo', { value: 'again' })).toBe('again');
      expect(pit.workers()[0]!.pid).not.toBe(pid);
    } finally {
      await pit.close();
    }
  });

  it('a sync tool holding the thread past the heartbeat timeout gets the worker replaced (hang_kill)', async () => {
    const pit = await nodePool({ heartbeat: { intervalMs: 100, timeoutMs: 600, hostTimeoutMs: 5_000 } });
    try {
      const err = (await pit.execute('spin', { ms: 3_000 }).catch((e: unknown) => e)) as WorkerCrashedError;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.kind).toBe('hang_kill');
      expect(await pit.execute('echo', { value: 1 })).toBe(1);
    } finally {
      await pit.close();
    }
  });

  it('a result past maxFrameBytes fails that call with PayloadTooLargeError; the worker stays', async () => {
    const pit = await nodePool({ maxFrameBytes: 65_536 });
    try {
      const pid = pit.workers()[0]!.pid;
      const err = (await pit
        .execute('huge', { bytes: 100_000 })
        .catch((e: unknown) => e)) as PayloadTooLargeError;
      expect(err).toBeInstanceOf(PayloadTooLargeError);
      expect(err.limit).toBe(65_536);
      expect(await pit.execute('echo', { value: 'ok' })).toBe('ok');
      expect(pit.workers()[0]!.pid).toBe(pid);
    } finally {
      await pit.close();
    }
  });

  it('recycles: maxRequests replaces the worker without failing a call', async () => {
    const pit = await nodePool({ recycle: { maxRequests: 5 } });
    try {
      const pids = new Set<number>();
      const t0 = Date.now();
      for (let i = 0; pids.size < 2 && Date.now() - t0 < 10_000; i++) {
        expect(await pit.execute('echo', { value: i })).toBe(i);
        pids.add((await pit.execute('pid')) as number);
      }
      expect(pids.size).toBe(2); // the replacement took over (it starts in the background, calls go on meanwhile)
    } finally {
      await pit.close();
    }
  });

  it('a module that fails to import or initialize fails the start with its stack', async () => {
    const missing = (await nodePool({ module: join(HERE, 'no-such-module.mjs') }).catch(
      (e: unknown) => e,
    )) as WorkerStartError;
    expect(missing).toBeInstanceOf(WorkerStartError);
    expect(missing.phase).toBe('import');
    const init = (await nodePool({ env: { NODE_TOOLS_FAIL_INIT: '1' } }).catch(
      (e: unknown) => e,
    )) as WorkerStartError;
    expect(init).toBeInstanceOf(WorkerStartError);
    expect(init.phase).toBe('initialize');
    expect(init.traceback).toContain('initialize failed on purpose');
  });

  it('serves a CommonJS module', async () => {
    const pit = await nodePool({ module: join(HERE, '..', 'fixtures', 'node', 'cjs-tools.cjs') });
    try {
      expect(await pit.execute('shout', { text: 'hi' })).toBe('HI');
    } finally {
      await pit.close();
    }
  });

  it("leaves with exit code 5 when the host's heartbeats stop", async () => {
    const env = { ...process.env, SNAKEPIT_PARENT_WATCH: '0' };
    const raw = spawnRaw([process.execPath, nodeRuntimeEntry(), '--module', TOOLS], env, undefined);
    try {
      expect((await raw.nextMessage(10_000))['type']).toBe('hello');
      raw.send({
        type: 'welcome',
        protocol: 1,
        codec: 'json',
        max_frame_bytes: 1 << 20,
        heartbeat: { interval_ms: 100, timeout_ms: 400 },
      });
      expect((await raw.nextMessage(10_000))['type']).toBe('ready');
      expect(await raw.exited(5_000)).toBe(5);
    } finally {
      raw.kill();
    }
  });

  it('refuses options only the Python bridge honours', async () => {
    const bad: Array<Partial<SnakepitConfig>> = [
      { runtime: 'node' },
      { runtime: 'node', module: TOOLS, adapter: 'x.y:Z' },
      { runtime: 'node', module: TOOLS, limits: { memoryMb: 256 } },
      { runtime: 'node', module: TOOLS, codec: 'msgpack' },
      { runtime: 'node', module: TOOLS, transport: 'grpc' },
      { runtime: 'node', module: TOOLS, profile: 'thread' },
      { runtime: 'command' },
      { command: { executable: '' } },
      { command: { executable: 'x', extra: 1 } as never },
      { runtime: 'python', adapter: 'x.y:Z', module: TOOLS },
    ];
    for (const config of bad) {
      await expect(Snakepit.start({ ...config, logger: false } as SnakepitConfig)).rejects.toBeInstanceOf(
        ConfigError,
      );
    }
  });
});

describe('runtime node: leaving with the host', () => {
  it('a worker whose host is SIGKILLed leaves, even while a sync tool holds its thread, and stops its child', async () => {
    const script = `
      import { Snakepit } from ${JSON.stringify(join(HERE, '..', '..', 'dist', 'src', 'index.js'))};
      const pit = await Snakepit.start({ runtime: 'node', module: ${JSON.stringify(TOOLS)}, size: 2, logger: false, registryDir: false });
      const child = await pit.execute('spawnChild');
      const pids = pit.workers().map((w) => w.pid);
      void pit.execute('spin', { ms: 60000 }, { timeoutMs: 120000 }).catch(() => {});
      console.log(JSON.stringify([...pids, child]));
    `;
    const host = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      host.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as number[]));
      host.once('exit', (code) => reject(new Error(`host exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 300)); // the spin has started
    expect(pids.every(alive)).toBe(true);
    host.kill('SIGKILL');
    await eventually(() => !pids.some(alive), 4_000, 'both workers and the process one of them started gone');
  });
});
