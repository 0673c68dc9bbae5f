// The tool bridge with real workers: Python calling host tools (sync and async, nested data and bytes, errors,
// unknown names, session scoping, argument checks), and chains Python → host tool → Python that must not
// deadlock, under concurrency and within the outer call's deadline.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AbortError,
  CallTimeoutError,
  PythonError,
  type Snakepit,
  type SnakepitConfig,
} from '../../src/index.js';
import { eventually, start } from '../helpers.js';
import { testPythons } from '../pythons.js';

const BRIDGE = 'snakepit_fixtures.bridge:BridgeAdapter';

let pit: Snakepit | undefined;
afterEach(async () => {
  await pit?.close();
  pit = undefined;
});

async function bridge(config: Partial<SnakepitConfig> = {}): Promise<Snakepit> {
  pit = await start({ adapter: BRIDGE, ...config });
  return pit;
}

type Outcome = { value?: unknown; error?: Record<string, unknown> };

describe.each(['msgpack', 'json'] as const)('Python calls host tools (%s)', (codec) => {
  it('sync and async handlers, from sync and async tools, with nested data and bytes', async () => {
    const p = await bridge({ codec });
    const seen: unknown[] = [];
    p.tools.register('shape', (args) => {
      seen.push(args);
      return {
        got: args,
        bytes: Buffer.from([0, 1, 2, 255]),
        nested: { list: [1, 2.5, 'three', null, true, { deep: [Buffer.from('hi')] }] },
      };
    });
    p.tools.register('later', async ({ ms }) => {
      await new Promise((r) => setTimeout(r, Number(ms)));
      return { waited: ms, bytes: new Uint8Array([7, 8, 9]) };
    });
    const args = {
      name: 'shape',
      args: { rows: [{ id: 1, tags: ['a', 'b'] }], raw: Buffer.from('xyz'), n: null },
    };
    for (const tool of ['call_host', 'acall_host']) {
      const out = await p.execute<Outcome>(tool, args);
      expect(out.error).toBeUndefined();
      const value = out.value as Record<string, unknown>;
      expect(value['got']).toEqual({ rows: [{ id: 1, tags: ['a', 'b'] }], raw: Buffer.from('xyz'), n: null });
      expect(Buffer.from(value['bytes'] as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(value['nested']).toEqual({ list: [1, 2.5, 'three', null, true, { deep: [Buffer.from('hi')] }] });
      const later = await p.execute<Outcome>(tool, { name: 'later', args: { ms: 30 } });
      expect(later.value).toEqual({ waited: 30, bytes: Buffer.from([7, 8, 9]) });
    }
    // What the handler received from Python: bytes arrived as bytes, not text.
    expect(
      Buffer.isBuffer((seen[0] as { raw: unknown }).raw) ||
        (seen[0] as { raw: unknown }).raw instanceof Uint8Array,
    ).toBe(true);
    // And in Python the host's answer is bytes inside lists inside dicts.
    p.tools.register('give', () => ({ blob: Buffer.from('ab'), items: [Buffer.from('c'), 1, [2.5]] }));
    p.tools.register('kinds_of_answer', async (_a, ctx) => {
      void ctx;
      return 0;
    });
    const kinds = await p.execute<string>('kinds', { value: await p.execute('relay', { name: 'give' }) });
    expect(kinds).toBe('{blob: bytes, items: [bytes, int, [float]]}');
  });

  it('a handler that throws gives Python a HostToolError (a RuntimeError) with the error name and message', async () => {
    const p = await bridge({ codec });
    p.tools.register('explode', ({ n }) => {
      throw new RangeError(`too big: ${String(n)}`);
    });
    p.tools.register('explodeLater', async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    });
    const sync = await p.execute<Outcome>('call_host', { name: 'explode', args: { n: 7 } });
    expect(sync.error).toMatchObject({
      type: 'HostToolError',
      name: 'RangeError',
      message: 'too big: 7',
      tool: 'explode',
      runtime_error: true,
    });
    expect(sync.error!['text']).toContain('RangeError: too big: 7');
    const async_ = await p.execute<Outcome>('acall_host', { name: 'explodeLater' });
    expect(async_.error).toMatchObject({
      type: 'HostToolError',
      name: 'Error',
      message: 'disk full',
      code: 'ENOSPC',
    });
    // Uncaught in Python, it reaches the caller as a PythonError carrying the same text.
    const err = await p.execute('relay', { name: 'explode', args: { n: 8 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonError);
    expect((err as PythonError).pythonType).toBe('HostToolError');
    expect((err as PythonError).message).toContain('too big: 8');
  });

  it('an unknown tool is a clear UnknownHostToolError that lists what exists', async () => {
    const p = await bridge({ codec });
    p.tools.register('known', () => 1);
    const out = await p.execute<Outcome>('call_host', { name: 'nope' });
    expect(out.error).toMatchObject({ type: 'UnknownHostToolError', code: 'SNAKEPIT_UNKNOWN_HOST_TOOL' });
    expect(out.error!['message']).toMatch(/no host tool named "nope".*available: known/);
  });
});

describe('host tool arguments and listing', () => {
  it('checks arguments against a JSON Schema before the handler runs, naming the argument', async () => {
    const p = await bridge();
    let ran = 0;
    p.tools.register(
      'scale',
      ({ x, factor }) => {
        ran++;
        return Number(x) * Number(factor ?? 2);
      },
      {
        description: 'Scale a number',
        parameters: {
          type: 'object',
          properties: { x: { type: 'number' }, factor: { type: 'integer', minimum: 1 } },
          required: ['x'],
          additionalProperties: false,
        },
      },
    );
    expect(await p.execute('relay', { name: 'scale', args: { x: 1.5, factor: 4 } })).toBe(6);
    const bad = await p.execute<Outcome>('call_host', { name: 'scale', args: { x: 'big' } });
    expect(bad.error).toMatchObject({
      type: 'HostToolError',
      name: 'InvalidArgumentsError',
      code: 'SNAKEPIT_INVALID_ARGUMENTS',
    });
    expect(bad.error!['message']).toContain('args.x: expected number, got string "big"');
    const missing = await p.execute<Outcome>('call_host', { name: 'scale', args: { factor: 2 } });
    expect(missing.error!['message']).toContain('missing required key "x"');
    const extra = await p.execute<Outcome>('call_host', { name: 'scale', args: { x: 1, y: 2 } });
    expect(extra.error!['message']).toContain('args.y: unexpected key');
    const low = await p.execute<Outcome>('call_host', { name: 'scale', args: { x: 1, factor: 0 } });
    expect(low.error!['message']).toContain('args.factor: must be >= 1');
    expect(ran).toBe(1);
  });

  it('checks arguments with a zod schema and passes the parsed value', async () => {
    const p = await bridge();
    p.tools.register('greet', ({ name, times }) => `${'hi '.repeat(times)}${name.toUpperCase()}`, {
      parameters: z.object({ name: z.string().min(1), times: z.number().int().default(1) }),
    });
    expect(await p.execute('relay', { name: 'greet', args: { name: 'ada' } })).toBe('hi ADA');
    const bad = await p.execute<Outcome>('call_host', { name: 'greet', args: { name: '' } });
    expect(bad.error!['name']).toBe('InvalidArgumentsError');
    expect(bad.error!['message']).toMatch(/args\.name: .*(>=1|at least 1)/);
    expect(p.tools.get('greet')!.parameters).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string', minLength: 1 }, times: { type: 'integer' } },
      required: ['name'],
    });
  });

  it('ctx.host_tools lists what the session may call, with descriptions and schemas; proxies call them', async () => {
    const p = await bridge();
    p.tools.register('double', ({ x }) => Number(x) * 2, {
      description: 'Double a number',
      parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
    });
    const listed = await p.execute<Record<string, [string, unknown]>>('host_tool_names');
    expect(listed).toEqual({
      double: ['Double a number', { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }],
    });
    expect(await p.execute('via_proxy', { name: 'double', args: { x: 21 } })).toBe(42);
  });

  it('session-scoped tools are invisible to other sessions and end with their session', async () => {
    const p = await bridge({ size: 2 });
    p.tools.register('shared', () => 'global');
    p.tools.register('secret', (_a, ctx) => `for ${ctx.sessionId}`, { sessionId: 's1' });
    p.tools.register('shared', () => 'shadowed in s1', { sessionId: 's1' });
    expect(await p.executeInSession('s1', 'relay', { name: 'secret' })).toBe('for s1');
    expect(await p.executeInSession('s1', 'relay', { name: 'shared' })).toBe('shadowed in s1');
    expect(await p.executeInSession('s2', 'relay', { name: 'shared' })).toBe('global');
    const other = await p.executeInSession<Outcome>('s2', 'call_host', { name: 'secret' });
    expect(other.error!['type']).toBe('UnknownHostToolError');
    expect(other.error!['message']).not.toContain('secret"; available: secret');
    expect(other.error!['message']).toMatch(/available: shared$|available: shared \(/);
    const none = await p.execute<Outcome>('call_host', { name: 'secret' });
    expect(none.error!['type']).toBe('UnknownHostToolError');
    expect(Object.keys(await p.executeInSession('s1', 'host_tool_names')).sort()).toEqual([
      'secret',
      'shared',
    ]);
    expect(Object.keys(await p.executeInSession('s2', 'host_tool_names'))).toEqual(['shared']);
    expect(p.tools.list({ sessionId: 's2' }).map((t) => t.name)).toEqual(['shared']);
    await p.sessions.delete('s1');
    expect(p.tools.list().map((t) => [t.name, t.sessionId])).toEqual([['shared', undefined]]);
  });

  it('a result that cannot be encoded reaches Python as an error, not a hang', async () => {
    const p = await bridge();
    p.tools.register('bad', () => ({ fn: () => 1, big: 10n ** 30n, ok: 1 }));
    const out = await p.execute<Outcome>('call_host', { name: 'bad' }, { timeoutMs: 10_000 });
    expect(out.error).toMatchObject({ type: 'HostToolError', name: 'SerializationError' });
    expect(out.error!['message']).toContain('value.fn');
  });
});

describe('nested chains: Python → host tool → Python', () => {
  it('complete under concurrency on a pool whose every worker is busy with an outer call', async () => {
    const p = await bridge({ size: 2 });
    p.tools.register('viaPython', ({ x }) => p.execute('square', { x }));
    const outer = Array.from({ length: 24 }, (_, i) =>
      p.execute<{ value: number }>('relay', { name: 'viaPython', args: { x: i } }, { timeoutMs: 4000 }),
    );
    const results = await Promise.all(outer);
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 24 }, (_, i) => i * i));
    expect(p.stats('default').inFlight).toBe(0);
  });

  it('complete when the nested call must run on the busy worker of the same session', async () => {
    const p = await bridge({ size: 2 });
    p.tools.register('sameSession', async (_a, ctx) => {
      const inner = await p.executeInSession<{ worker: string }>(ctx.sessionId!, 'square', { x: 3 });
      return { inner: inner.worker, caller: ctx.workerId };
    });
    const runs = await Promise.all(
      ['a', 'b', 'c', 'd'].map((s) =>
        p.executeInSession<{ inner: string; caller: string }>(
          s,
          'relay',
          { name: 'sameSession' },
          { timeoutMs: 8000 },
        ),
      ),
    );
    for (const r of runs) expect(r.inner).toBe(r.caller);
  });

  it('go deeper (Python → TS → Python → TS → Python) and stop at tools.maxDepth with a clear error', async () => {
    const p = await bridge({ size: 1, tools: { maxDepth: 3 } });
    p.tools.register('down', async ({ level }, ctx) => {
      const n = Number(level);
      if (n === 0) return { depth: ctx.depth };
      return p.execute('relay', { name: 'down', args: { level: n - 1 } });
    });
    expect(await p.execute('relay', { name: 'down', args: { level: 2 } }, { timeoutMs: 8000 })).toEqual({
      depth: 3,
    });
    const err = await p.execute('relay', { name: 'down', args: { level: 5 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonError);
    expect((err as Error).message).toContain('NestingDepthError');
    expect((err as Error).message).toContain('tools.maxDepth (3)');
  });

  it('the outer call’s deadline bounds the whole chain, and the nested call is cancelled with it', async () => {
    const p = await bridge({ size: 2 });
    const seen: { remaining?: number; inner?: unknown } = {};
    p.tools.register('slowPython', async (_a, ctx) => {
      seen.remaining = ctx.remainingMs();
      try {
        return await p.execute('slow', { seconds: 30 }); // no timeout given: bounded by the outer call's
      } catch (err) {
        seen.inner = err;
        throw err;
      }
    });
    const started = performance.now();
    const err = await p
      .execute('relay', { name: 'slowPython' }, { timeoutMs: 1500 })
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err, String(err)).toBeInstanceOf(CallTimeoutError);
    expect(elapsed).toBeLessThan(6000);
    expect(seen.remaining).toBeLessThanOrEqual(1500);
    await eventually(() => seen.inner !== undefined, 5000, 'the nested call to end');
    expect(seen.inner instanceof CallTimeoutError || seen.inner instanceof AbortError).toBe(true);
    // Both workers are free again soon: the nested `slow` was cancelled in Python, not left to run 30 s.
    await eventually(() => p.stats('default').inFlight === 0, 8000, 'both workers to be free');
    expect(await p.execute('square', { x: 2 }, { timeoutMs: 5000 })).toMatchObject({ value: 4 });
  });

  it('a handler’s ctx.signal aborts when its Python caller stops waiting', async () => {
    const p = await bridge();
    let reason: unknown;
    p.tools.register(
      'waitForAbort',
      (_a, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            resolve('aborted');
          }),
        ),
    );
    const err = await p
      .execute('relay', { name: 'waitForAbort' }, { timeoutMs: 800 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    await eventually(() => reason !== undefined, 5000, 'the handler to see the abort');
    expect(reason instanceof CallTimeoutError || reason instanceof AbortError).toBe(true);
  });
});

describe.each(testPythons().filter(([label]) => label !== 'default'))(
  'the bridge on Python %s',
  (_label, executable) => {
    it('calls host tools from sync and async tools, fails clearly, and nests', async () => {
      const p = await bridge({ size: 2, python: { executable: executable! } });
      p.tools.register('pair', ({ x }) => ({ x, bytes: Buffer.from('ok') }));
      p.tools.register('boom', () => {
        throw new TypeError('no good');
      });
      p.tools.register('viaPython', ({ x }) => p.execute('square', { x }));
      expect(await p.execute<Outcome>('call_host', { name: 'pair', args: { x: [1, { y: 2 }] } })).toEqual({
        value: { x: [1, { y: 2 }], bytes: Buffer.from('ok') },
      });
      expect((await p.execute<Outcome>('acall_host', { name: 'pair', args: { x: 1 } })).value).toEqual({
        x: 1,
        bytes: Buffer.from('ok'),
      });
      expect((await p.execute<Outcome>('call_host', { name: 'boom' })).error).toMatchObject({
        type: 'HostToolError',
        name: 'TypeError',
        message: 'no good',
      });
      expect((await p.execute<Outcome>('call_host', { name: 'nope' })).error!['type']).toBe(
        'UnknownHostToolError',
      );
      const chains = await Promise.all(
        [1, 2, 3, 4].map((x) =>
          p.execute<{ value: number }>('relay', { name: 'viaPython', args: { x } }, { timeoutMs: 8000 }),
        ),
      );
      expect(chains.map((c) => c.value)).toEqual([1, 4, 9, 16]);
    });
  },
);
