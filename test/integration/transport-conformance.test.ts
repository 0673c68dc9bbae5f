// One suite, every transport and worker profile: the local socket pair and gRPC remote workers, each with one
// call at a time per worker (process) or several on its threads (thread), must behave the same — results, errors,
// timeouts, cancellation, sessions, streams, object references, host calls, crashes, recycling and logs.
// (Parameterised, not copied: test/transport-harness.ts starts a Snakepit per transport and profile.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  CallTimeoutError,
  InvalidArgumentsError,
  PyRef,
  PythonError,
  PythonValueError,
  SerializationError,
  type Snakepit,
  UnknownToolError,
  WorkerCrashedError,
} from '../../src/index.js';
import { eventually, recordingLogger } from '../helpers.js';
import { TRANSPORT_PROFILES, TransportHarness, transportAvailable } from '../transport-harness.js';

const STATEFUL = 'snakepit_fixtures.stateful:StatefulAdapter';
const CHAOS = 'snakepit_fixtures.chaos:ChaosAdapter';
const MISBEHAVING = 'snakepit_fixtures.misbehaving:MisbehavingAdapter';
const BRIDGE = 'snakepit_fixtures.bridge:BridgeAdapter';

interface Tick {
  i: number;
}

describe.each(TRANSPORT_PROFILES)('transport conformance: %s, profile %s', (transport, profile) => {
  const harness = new TransportHarness(transport, profile);
  afterAll(() => harness.close());
  const run = transportAvailable(transport) ? it : it.skip;
  beforeAll(async () => {
    if (transportAvailable(transport)) await harness.prepare();
  }, 120_000);

  describe.each(['msgpack', 'json'] as const)('values over %s', (codec) => {
    run('returns every basic type, and 1 MiB of bytes both ways', async () => {
      const pit = await harness.start({ size: 1, codec });
      expect(pit.workers()[0]!.codec).toBe(codec);
      const value = {
        int: 42,
        float: 2.5,
        str: 'snake ✓ 🐍',
        yes: true,
        nothing: null,
        nested: { list: [1, [2, [3, { deep: 'x' }]]], empty: {} },
        bytes: Buffer.from([0, 1, 2, 250, 255]),
        big: 2n ** 70n,
        when: new Date('2024-05-06T07:08:09.123Z'),
      };
      expect(await pit.execute('echo', value)).toEqual({ ...value, bytes: expect.any(Buffer) });
      const blob = Buffer.alloc(1 << 20);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
      const back = (await pit.execute('echo', { blob })) as { blob: Buffer };
      expect(back.blob.equals(blob)).toBe(true);
      expect(
        await Promise.all(Array.from({ length: 300 }, (_, i) => pit.execute('add', { a: i, b: 1 }))),
      ).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    });
  });

  describe('errors', () => {
    let pit: Snakepit;
    run('translates Python exceptions with their tracebacks and the worker id', async () => {
      pit = await harness.start({ size: 1 });
      const err = (await pit
        .execute('error_demo', { error_type: 'ValueError', message: 'it broke' })
        .catch((e: unknown) => e)) as PythonValueError;
      expect(err).toBeInstanceOf(PythonValueError);
      expect(err).toBeInstanceOf(PythonError);
      expect(err.message).toContain('it broke');
      expect(err.traceback).toContain('error_demo');
      expect(err.workerId).toBe(pit.workers()[0]!.id);
    });

    run('names unknown tools, bad arguments and unencodable values', async () => {
      const unknown = (await pit.execute('no_such_tool').catch((e: unknown) => e)) as UnknownToolError;
      expect(unknown).toBeInstanceOf(UnknownToolError);
      expect(unknown.available).toEqual(expect.arrayContaining(['echo', 'add']));
      const bad = (await pit.execute('add', { a: 1 }).catch((e: unknown) => e)) as InvalidArgumentsError;
      expect(bad).toBeInstanceOf(InvalidArgumentsError);
      expect(bad.signature).toMatch(/^add\(a.*b.*\)/);
      const enc = (await pit
        .execute('echo', { rows: [{ fn: () => 1 }] })
        .catch((e: unknown) => e)) as SerializationError;
      expect(enc).toBeInstanceOf(SerializationError);
      expect(enc.path).toBe('args.rows[0].fn');
      expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
    });
  });

  describe('timeouts and cancellation', () => {
    let pit: Snakepit;
    run('a timeout rejects at once, interrupts Python, and the worker serves the next call', async () => {
      pit = await harness.start({ adapter: STATEFUL, size: 1 });
      const started = performance.now();
      const err = await pit.execute('sleep', { seconds: 10 }, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CallTimeoutError);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(await pit.execute('sleep', { seconds: 0 })).toBe(0);
      expect(performance.now() - started).toBeLessThan(4_000);
    });

    run('an AbortSignal cancels a running call', async () => {
      const ctrl = new AbortController();
      const pending = pit.execute('sleep', { seconds: 10 }, { signal: ctrl.signal });
      setTimeout(() => ctrl.abort(), 150);
      await expect(pending).rejects.toBeInstanceOf(AbortError);
      expect(await pit.execute('sleep', { seconds: 0 })).toBe(0);
    });

    run('breaking out of a stream closes the Python generator (its finally runs)', async () => {
      const before = (await pit.execute('finally_runs_count')) as number;
      let seen = 0;
      for await (const chunk of pit.executeStream('ticks', { n: -1 })) {
        if ((chunk as Tick).i >= 20) break;
        seen++;
      }
      expect(seen).toBe(20);
      // In the thread profile the next call may run on another thread while the generator still closes.
      let after = before;
      for (let i = 0; i < 100 && after === before; i++) {
        after = (await pit.execute('finally_runs_count')) as number;
        if (after === before) await new Promise((r) => setTimeout(r, 20));
      }
      expect(after).toBe(before + 1);
    });
  });

  describe('sessions, streams and references', () => {
    let pit: Snakepit;
    run('keeps session state on one worker, apart from other sessions', async () => {
      pit = await harness.start({ adapter: STATEFUL, size: 2 });
      const pidA = await pit.executeInSession('a', 'remember', { key: 'k', value: 'for a' });
      await pit.executeInSession('b', 'remember', { key: 'k', value: 'for b' });
      for (let i = 0; i < 10; i++) {
        expect(await pit.executeInSession('a', 'recall', { key: 'k' })).toBe('for a');
        expect(await pit.executeInSession('b', 'recall', { key: 'k' })).toBe('for b');
      }
      expect(await pit.executeInSession('a', 'remember', { key: 'k2' })).toBe(pidA);
      await pit.sessions.delete('a');
    });

    run('streams 10,000 chunks in order, and an error after the chunks sent before it', async () => {
      let expected = 0;
      for await (const chunk of pit.executeStream('ticks', { n: 10_000 })) {
        expect((chunk as Tick).i).toBe(expected);
        expected++;
      }
      expect(expected).toBe(10_000);
      const got: number[] = [];
      const err = await (async () => {
        for await (const chunk of pit.executeStream('fail_after', { n: 3 })) got.push((chunk as Tick).i);
      })().catch((e: unknown) => e);
      expect(got).toEqual([0, 1, 2]);
      expect(err).toBeInstanceOf(PythonValueError);
    });

    run('returns object references, calls their methods, and refuses them once released', async () => {
      const ref = await pit.executeInSession<PyRef>('r', 'make_model', { name: 'alpha', weight: 2 });
      expect(ref).toBeInstanceOf(PyRef);
      expect(ref.repr).toBe("Model('alpha', weight=2.0)"); // weight: float receives a float (docs/VALUES.md)
      expect(await pit.callMethod(ref, 'predict', [3])).toBe(6);
      expect(await pit.getAttr(ref, 'name')).toBe('alpha');
      expect(await pit.executeInSession('r', 'use_model', { model: ref, x: 4 })).toMatchObject({
        prediction: 8,
      });
      await ref.release();
      await expect(pit.executeInSession('r', 'use_model', { model: ref })).rejects.toBeInstanceOf(
        InvalidArgumentsError,
      );
    });
  });

  describe('tool bridge (Python calling host tools)', () => {
    type Outcome = { value?: unknown; error?: Record<string, unknown> };
    let pit: Snakepit;
    run('sync and async host tools, from sync and async tools, with bytes; errors reach Python', async () => {
      pit = await harness.start({ adapter: BRIDGE, size: 2 });
      pit.tools.register('shape', (args) => ({ got: args, bytes: Buffer.from([0, 1, 255]) }));
      pit.tools.register('later', async ({ ms }) => {
        await new Promise((r) => setTimeout(r, Number(ms)));
        return { waited: ms };
      });
      pit.tools.register('explode', ({ n }) => {
        throw new RangeError(`too big: ${String(n)}`);
      });
      for (const tool of ['call_host', 'acall_host']) {
        const out = await pit.execute<Outcome>(tool, {
          name: 'shape',
          args: { raw: Buffer.from('xyz'), n: 1 },
        });
        expect(out.value).toEqual({
          got: { raw: Buffer.from('xyz'), n: 1 },
          bytes: Buffer.from([0, 1, 255]),
        });
        expect((await pit.execute<Outcome>(tool, { name: 'later', args: { ms: 20 } })).value).toEqual({
          waited: 20,
        });
      }
      const failed = await pit.execute<Outcome>('call_host', { name: 'explode', args: { n: 7 } });
      expect(failed.error).toMatchObject({
        type: 'HostToolError',
        name: 'RangeError',
        message: 'too big: 7',
      });
      const unknown = await pit.execute<Outcome>('call_host', { name: 'nope' });
      expect(unknown.error).toMatchObject({ type: 'UnknownHostToolError' });
    });

    run('chains Python → host → Python on busy workers without deadlock, and goes deeper', async () => {
      pit.tools.register('viaPython', ({ x }) => pit.execute('square', { x }));
      const outer = Array.from({ length: 12 }, (_, i) =>
        pit.execute<{ value: number }>('relay', { name: 'viaPython', args: { x: i } }, { timeoutMs: 8_000 }),
      );
      expect((await Promise.all(outer)).map((r) => r.value)).toEqual(
        Array.from({ length: 12 }, (_, i) => i * i),
      );
      pit.tools.register('down', async ({ level }, ctx) => {
        const n = Number(level);
        if (n === 0) return { depth: ctx.depth };
        return pit.execute('relay', { name: 'down', args: { level: n - 1 } });
      });
      expect(await pit.execute('relay', { name: 'down', args: { level: 2 } }, { timeoutMs: 8_000 })).toEqual({
        depth: 3,
      });
      expect(pit.stats('default').inFlight).toBe(0);
    });
  });

  describe('crashes and logs', () => {
    run(
      'a worker that dies mid-call fails its call with WorkerCrashedError, and the pool recovers',
      async () => {
        const pit = await harness.start({ adapter: CHAOS, size: 1 });
        const first = pit.workers()[0]!.id;
        const err = (await pit.execute('exit', { code: 3 }).catch((e: unknown) => e)) as WorkerCrashedError;
        expect(err).toBeInstanceOf(WorkerCrashedError);
        expect(err.exitCode).toBe(3);
        expect(err.kind).toBe('error_exit');
        await eventually(
          () => pit.workers().some((w) => w.state === 'ready' && w.id !== first),
          20_000,
          'a replacement worker',
        );
        expect(await pit.execute('echo', { value: 'back' })).toBe('back');
      },
    );

    run('recycles a worker without failing a call: the replacement is of the same kind', async () => {
      const pit = await harness.start({ adapter: CHAOS, size: 1 });
      const old = pit.workers()[0]!;
      const calls = Array.from({ length: 40 }, (_, i) =>
        pit.execute('slow_echo', { value: i, seconds: 0.005 }),
      );
      await pit.recycleWorker(old.id);
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      const now = pit.workers();
      expect(now.map((w) => w.id)).not.toContain(old.id);
      expect(now.map((w) => w.endpoint)).toEqual([old.endpoint]);
    });

    run("captures the worker's print() output as its log lines", async () => {
      const logger = recordingLogger();
      const pit = await harness.start({ adapter: MISBEHAVING, size: 1, logger });
      expect(await pit.execute('noisy', { n: 3 })).toBe(3);
      const worker = pit.workers()[0]!.id;
      await eventually(
        () =>
          logger.lines.filter((l) => l.fields['worker'] === worker && /stdout line/.test(l.msg)).length >= 3,
        5_000,
        'three printed lines in the log',
      );
    });
  });
});
