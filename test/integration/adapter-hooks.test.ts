// Host-side adapter hooks (`hooks` on a pool): validation before queueing (zod or a function), argument
// transformation, result post-processing, per-tool default timeouts, the accepted tool list. A refused call never
// reaches a worker (its `served` count does not move); a hook that fails is a typed error.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AdapterHookError,
  CallTimeoutError,
  ConfigError,
  InvalidArgumentsError,
  PyRef,
  Snakepit,
  type SnakepitConfig,
  UnknownToolError,
} from '../../src/index.js';
import { FIXTURES_PYTHONPATH, SHOWCASE } from '../helpers.js';

const TOOLS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'node',
  'conformance-tools.mjs',
);

describe('adapter hooks on a node pool', () => {
  let pit: Snakepit;
  const seen: string[] = [];
  const served = (): number => pit.workers().reduce((n, w) => n + w.served, 0);

  beforeAll(async () => {
    pit = await Snakepit.start({
      logger: false,
      registryDir: false,
      pools: [
        {
          name: 'hooked',
          runtime: 'node',
          module: TOOLS,
          size: 1,
          hooks: {
            tools: ['echo', 'addAsync', 'sleep', 'fail', 'deadline', 'count'],
            validate: (args, tool) => {
              seen.push(`pool validate ${tool}`);
              if ('forbidden' in args) return 'the key "forbidden" is not allowed';
              return undefined;
            },
            prepareArgs: (args) => ({ ...args, viaPool: true }),
            processResult: (result, tool) => (tool === 'echo' ? { pool: result } : result),
            perTool: {
              addAsync: {
                validate: z.object({ a: z.coerce.number(), b: z.number().default(10), viaPool: z.boolean() }),
                processResult: async (result) => {
                  await new Promise((r) => setTimeout(r, 1));
                  return { sum: result };
                },
              },
              echo: {
                validate: (args) => typeof args['value'] !== 'symbol',
                prepareArgs: (args) => ({ ...args, value: String(args['value']).trim() }),
                processResult: (result) => ({ tool: result }),
              },
              sleep: { timeoutMs: 200 },
              deadline: { timeoutMs: 2_500 },
              fail: {
                prepareArgs: () => {
                  throw new Error('prepare blew up');
                },
              },
              count: { processResult: () => 'not applied to streams' },
            },
          },
        },
      ],
    } as SnakepitConfig);
  });
  afterAll(() => pit.close());

  it('transforms arguments (pool, then tool) and post-processes results (tool, then pool)', async () => {
    expect(await pit.execute('echo', { value: '  padded  ' })).toEqual({ pool: { tool: 'padded' } });
    expect(seen).toContain('pool validate echo');
  });

  it('a zod schema validates and its parsed output (coercions, defaults) is what the worker gets', async () => {
    expect(await pit.execute('addAsync', { a: '5' })).toEqual({ sum: 15 });
    const before = served();
    const err = (await pit.execute('addAsync', { a: 'x' }).catch((e: unknown) => e)) as InvalidArgumentsError;
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.problem).toMatch(/validate hook: args\.a/);
    expect(served()).toBe(before); // never reached the worker
  });

  it('a function validator refuses with its message; nothing reaches the worker', async () => {
    const before = served();
    const err = (await pit
      .execute('echo', { forbidden: 1 })
      .catch((e: unknown) => e)) as InvalidArgumentsError;
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.message).toContain('the key "forbidden" is not allowed');
    expect(served()).toBe(before);
  });

  it('refuses tools outside hooks.tools before queueing', async () => {
    const before = served();
    const err = (await pit.execute('pid').catch((e: unknown) => e)) as UnknownToolError;
    expect(err).toBeInstanceOf(UnknownToolError);
    expect(err.available).toContain('echo');
    expect(err.message).toContain('accepts only');
    expect(served()).toBe(before);
  });

  it('gives a tool its default timeout; the call option still wins', async () => {
    const t0 = Date.now();
    await expect(pit.execute('sleep', { ms: 5_000 })).rejects.toBeInstanceOf(CallTimeoutError);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(await pit.execute('sleep', { ms: 300 }, { timeoutMs: 5_000 })).toBe(300);
    const left = (await pit.execute('deadline')) as number;
    expect(left).toBeGreaterThan(1_000);
    expect(left).toBeLessThanOrEqual(2_500);
  });

  it('a hook that throws is an AdapterHookError with the cause; nothing reaches the worker', async () => {
    const before = served();
    const err = (await pit.execute('fail', { message: 'x' }).catch((e: unknown) => e)) as AdapterHookError;
    expect(err).toBeInstanceOf(AdapterHookError);
    expect(err.code).toBe('SNAKEPIT_ADAPTER_HOOK');
    expect(err.hook).toBe('prepareArgs');
    expect((err.cause as Error).message).toBe('prepare blew up');
    expect(served()).toBe(before);
  });

  it('stream chunks are not post-processed', async () => {
    const chunks: unknown[] = [];
    for await (const c of pit.executeStream('count', { n: 3 })) chunks.push(c);
    expect(chunks).toEqual([0, 1, 2]);
  });
});

describe('adapter hooks on a Python pool', () => {
  it('work the same: an async validator is refused as AdapterHookError; processResult errors are typed', async () => {
    const pit = await Snakepit.start({
      adapter: SHOWCASE,
      pythonPath: [FIXTURES_PYTHONPATH],
      size: 1,
      logger: false,
      registryDir: false,
      hooks: {
        perTool: {
          add: { validate: z.object({ a: z.number(), b: z.number() }) },
          ping: { validate: (async () => true) as never },
          echo: {
            processResult: () => {
              throw new TypeError('post-processing failed');
            },
          },
        },
      },
    });
    try {
      expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
      await expect(pit.execute('add', { a: 1, b: 'two' })).rejects.toBeInstanceOf(InvalidArgumentsError);
      const asyncValidator = (await pit.execute('ping').catch((e: unknown) => e)) as AdapterHookError;
      expect(asyncValidator).toBeInstanceOf(AdapterHookError);
      expect(asyncValidator.message).toContain('synchronous');
      const post = (await pit.execute('echo', { x: 1 }).catch((e: unknown) => e)) as AdapterHookError;
      expect(post).toBeInstanceOf(AdapterHookError);
      expect(post.hook).toBe('processResult');
    } finally {
      await pit.close();
    }
  });
});

describe('adapter hooks and object references', () => {
  it('callMethod on a reference a hooked tool returned is not refused by hooks.tools or a pool validator', async () => {
    const pit = await Snakepit.start({
      adapter: 'snakepit_fixtures.stateful:StatefulAdapter',
      pythonPath: [FIXTURES_PYTHONPATH],
      size: 1,
      logger: false,
      registryDir: false,
      hooks: { tools: ['make_model'], validate: z.object({ name: z.string(), weight: z.number() }) },
    });
    try {
      const ref = await pit.executeInSession<PyRef>('h', 'make_model', { name: 'm', weight: 2 });
      expect(await pit.callMethod(ref, 'predict', [3])).toBe(6);
      await expect(pit.execute('recall', { key: 'k' })).rejects.toBeInstanceOf(UnknownToolError);
    } finally {
      await pit.close();
    }
  });
});

describe('hooks config', () => {
  it.each([
    [{ validate: 5 }, 'hooks.validate'],
    [{ prepareArgs: 'x' }, 'hooks.prepareArgs'],
    [{ tools: 'echo' }, 'hooks.tools'],
    [{ perTool: { echo: { timeoutMs: -1 } } }, 'hooks.perTool.echo.timeoutMs'],
    [{ perTool: { echo: { other: 1 } } }, 'hooks.perTool.echo.other'],
    [{ unknown: 1 }, 'hooks.unknown'],
  ])('%j is refused at %s', async (hooks, key) => {
    const err = (await Snakepit.start({
      runtime: 'node',
      module: TOOLS,
      logger: false,
      hooks,
    } as SnakepitConfig).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.key).toBe(`pool.${key}`);
  });
});
