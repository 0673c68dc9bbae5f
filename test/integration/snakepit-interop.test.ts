// Workers in Snakepit's style (transport "snakepit"): spawned with --adapter, --port 0, --elixir-address and a
// ready file, driven through BridgeService's RPCs, calling back into the host's BridgeService. The worker here is
// this package's bridge in Snakepit mode (`python -m snakepit_bridge snakepit`), which follows the documented
// conventions of Snakepit's own Python worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  PythonKeyError,
  PythonValueError,
  Snakepit,
  type SnakepitConfig,
  UnknownToolError,
  WorkerCrashedError,
  WorkerStartError,
} from '../../src/index.js';
import { liveSnakepitLinks } from '../../src/interop/snakepit-link.js';
import { grpcInstalled } from '../grpc-helpers.js';
import { eventually, FIXTURES_PYTHONPATH, requireOptional, SHOWCASE } from '../helpers.js';

const run = requireOptional(grpcInstalled(), 'grpcio and protobuf (Snakepit-style workers)');

function config(extra: Partial<SnakepitConfig> = {}): SnakepitConfig {
  return {
    adapter: SHOWCASE,
    size: 2,
    transport: 'snakepit',
    logger: false,
    pythonPath: [FIXTURES_PYTHONPATH],
    env: { SNAKEPIT_HEARTBEAT_CONFIG: JSON.stringify({ interval_ms: 200 }) },
    ...extra,
  } as SnakepitConfig;
}

describe.skipIf(!run)('Snakepit-style workers', () => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await Snakepit.start(config());
  });
  afterAll(() => pit?.close());

  it('start against the host BridgeService: ready file, ping first, tools registered, heartbeats on', async () => {
    const workers = pit.workers();
    expect(workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    expect(workers.every((w) => w.codec === 'json' && typeof w.pid === 'number')).toBe(true);
    const links = [...liveSnakepitLinks].filter((l) => workers.some((w) => w.id === l.workerId));
    expect(links).toHaveLength(2);
    for (const link of links) {
      const service = link.service!;
      expect(service.calls[0]).toBe('Ping');
      expect(service.calls.indexOf('RegisterTools')).toBeGreaterThan(0);
      expect(service.registeredWorker).toBe(link.workerId);
    }
    await eventually(
      () => links.every((l) => l.service!.heartbeats >= 3),
      10_000,
      'heartbeats from each worker',
    );
    const add = pit.describe().find((t) => t.name === 'add');
    expect(add?.parameters.map((p) => [p.name, p.required])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(pit.describe().find((t) => t.name === 'count')?.supportsStreaming).toBe(true);
  });

  it('run calls: results, bytes, Python errors with tracebacks, unknown tools', async () => {
    expect(await pit.execute('add', { a: 2, b: 3 })).toBe(5);
    expect(await pit.execute('echo', { s: 'snake ✓', n: [1, 2.5, null], m: { k: true } })).toEqual({
      s: 'snake ✓',
      n: [1, 2.5, null],
      m: { k: true },
    });
    // Top-level bytes travel raw (binary_parameters); nested bytes in a JSON result come back as base64 text.
    expect(await pit.execute('echo', { blob: Buffer.from([0, 255]) })).toEqual({ blob: 'AP8=' });
    const err = (await pit
      .execute('error_demo', { error_type: 'KeyError', message: 'gone' })
      .catch((e: unknown) => e)) as PythonKeyError;
    expect(err).toBeInstanceOf(PythonKeyError);
    expect(err.traceback).toContain('error_demo');
    const unknown = (await pit.execute('nope').catch((e: unknown) => e)) as UnknownToolError;
    expect(unknown).toBeInstanceOf(UnknownToolError);
    expect(unknown.available).toEqual(expect.arrayContaining(['add', 'echo']));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pit.execute('add', { a: i, b: i })),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
  });

  it('keep sessions: state stays with the session, InitializeSession reaches the host once', async () => {
    const pid = await pit.executeInSession('s1', 'remember', { key: 'k', value: { deep: [1, 2] } });
    for (let i = 0; i < 5; i++) {
      expect(await pit.executeInSession('s1', 'recall', { key: 'k' })).toEqual({ deep: [1, 2] });
      expect(await pit.executeInSession('s1', 'remember', { key: 'other', value: i })).toBe(pid);
    }
    expect(await pit.executeInSession('s2', 'recall', { key: 'k' })).toBeNull();
    const inits = [...liveSnakepitLinks].flatMap((l) =>
      l.service!.calls.filter((c) => c === 'InitializeSession'),
    );
    expect(inits).toHaveLength(2); // s1 and s2, once each
    await pit.sessions.delete('s1');
  });

  it('stream chunks in order, Snakepit-style senders too, and stop early', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of pit.executeStream('count', { n: 200 })) chunks.push(chunk);
    expect(chunks).toEqual(Array.from({ length: 200 }, (_, i) => ({ i })));
    const batch: unknown[] = [];
    for await (const chunk of pit.executeStream('batch_process', { items: [1, 2] })) batch.push(chunk);
    expect(batch).toEqual([{ progress: 50, item: 1 }, { progress: 100, item: 2 }, { total: 2 }]);
    let seen = 0;
    for await (const _ of pit.executeStream('count', { n: 1_000_000 })) {
      if (++seen === 10) break;
    }
    expect(await pit.execute('add', { a: 1, b: 1 })).toBe(2);
    const failed = await (async () => {
      for await (const _ of pit.executeStream('error_demo', { error_type: 'ValueError' })) {
        /* no chunks */
      }
    })().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PythonValueError);
  });

  it('time out and cancel a running call; the worker serves on', async () => {
    const started = performance.now();
    const err = await pit.execute('sleep', { seconds: 10 }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(performance.now() - started).toBeLessThan(2_000);
    const ctrl = new AbortController();
    const pending = pit.execute('sleep', { seconds: 10 }, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    await expect(pending).rejects.toThrow();
    expect(
      await Promise.all([pit.execute('add', { a: 1, b: 2 }), pit.execute('add', { a: 3, b: 4 })]),
    ).toEqual([3, 7]);
  });

  it('call host tools through ExecuteElixirTool', async () => {
    pit.tools.register('double', ({ x }) => Number(x) * 2, {
      description: 'double x',
      parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
    });
    expect(await pit.execute('call_host', { tool: 'double', args: { x: 21 } })).toBe(42);
    const failed = await pit.execute('call_host', { tool: 'missing' }).catch((e: unknown) => e);
    expect((failed as Error).message).toMatch(/missing/);
  });

  it('a worker that dies fails its call with WorkerCrashedError and is replaced', async () => {
    const victim = pit.workers()[0]!;
    const pending = pit.executeInSession('crash', 'sleep', { seconds: 30 });
    await eventually(() => pit.workers().some((w) => w.load > 0), 5_000, 'the call to be running');
    const busy = pit.workers().find((w) => w.load > 0)!;
    process.kill(busy.pid!, 'SIGKILL');
    const err = (await pending.catch((e: unknown) => e)) as WorkerCrashedError;
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.signal).toBe('SIGKILL');
    await eventually(
      () =>
        pit.workers().filter((w) => w.state === 'ready').length === 2 &&
        !pit.workers().some((w) => w.id === busy.id),
      20_000,
      'a replacement',
    );
    expect(victim.id).toBeDefined();
    expect(await pit.execute('add', { a: 5, b: 5 })).toBe(10);
  });
});

describe.skipIf(!run)('Snakepit-style start failures', () => {
  it('an adapter that cannot be imported fails the start with the worker’s stderr', async () => {
    const err = (await Snakepit.start(
      config({ adapter: 'snakepit_fixtures.broken_import:Broken', size: 1 }),
    ).catch((e: unknown) => e)) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/exit code 3/);
    expect((err.stderrTail ?? []).join('\n')).toMatch(/Error/);
  });

  it('a command that is not a worker fails the start, naming it', async () => {
    const err = await Snakepit.start(
      config({ size: 1, snakepit: { command: ['/definitely/not/here'] }, startupTimeoutMs: 5_000 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerStartError);
    expect((err as Error).message).toMatch(/not\/here|ENOENT/);
  });
});
