import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError, PythonEnvError } from '../../src/errors/errors.js';
import type { SnakepitConfig } from '../../src/config/config-types.js';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

function keyOf(config: unknown): string {
  try {
    resolveConfig(config as SnakepitConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err.key;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('fills defaults for the single-pool shorthand', () => {
    const config = resolveConfig({ adapter: ADAPTER, logger: false });
    expect(config.pools).toHaveLength(1);
    const pool = config.pools[0]!;
    expect(pool.name).toBe('default');
    expect(pool.size).toBeGreaterThanOrEqual(1);
    expect(pool.codec).toBe('auto');
    expect(pool.queue.max).toBe(10_000);
    expect(pool.requestTimeoutMs).toBe(30_000);
    expect(pool.python.executable).toMatch(/python/);
    expect(pool.python.source.length).toBeGreaterThan(0);
  });

  it('accepts several named pools', () => {
    const config = resolveConfig({
      pools: [
        { name: 'a', adapter: ADAPTER, size: 1 },
        { name: 'b', adapter: 'pkg.mod.Class', size: 3, queue: { max: 5, timeoutMs: 100 } },
      ],
      logger: false,
    });
    expect(config.pools.map((p) => p.name)).toEqual(['a', 'b']);
    expect(config.pools[1]!.queue).toEqual({ max: 5, timeoutMs: 100 });
  });

  it.each([
    [{}, 'pools'],
    [{ pools: [] }, 'pools'],
    [{ adapter: 'not a class!' }, 'pool.adapter'],
    [{ adapter: 'os; rm -rf /' }, 'pool.adapter'],
    [{ adapter: ADAPTER, size: 0 }, 'pool.size'],
    [{ adapter: ADAPTER, size: 1.5 }, 'pool.size'],
    [{ adapter: ADAPTER, size: '2' }, 'pool.size'],
    [{ adapter: ADAPTER, sise: 2 }, 'sise'],
    [{ adapter: ADAPTER, queue: { max: -1 } }, 'pool.queue.max'],
    [{ adapter: ADAPTER, queue: { maxx: 1 } }, 'pool.queue.maxx'],
    [{ adapter: ADAPTER, codec: 'xml' }, 'pool.codec'],
    [{ adapter: ADAPTER, env: { A: 1 } }, 'pool.env.A'],
    [{ adapter: ADAPTER, pythonPath: 'lib' }, 'pool.pythonPath'],
    [
      {
        pools: [
          { name: 'a', adapter: ADAPTER },
          { name: 'a', adapter: ADAPTER },
        ],
      },
      'pools[1].name',
    ],
    [{ pools: [{ name: 'bad name', adapter: ADAPTER }] }, 'pools[0].name'],
    [{ pools: [{ name: 'a', adapter: ADAPTER }], size: 2 }, 'size'],
    [{ adapter: ADAPTER, logLevel: 'loud' }, 'logLevel'],
    [{ adapter: ADAPTER, logger: { info() {} } }, 'logger'],
  ])('rejects %j naming %s', (config, key) => {
    expect(keyOf({ logger: false, ...config })).toBe(key);
  });

  it('says what was expected and what was given', () => {
    expect(() => resolveConfig({ adapter: ADAPTER, size: -3, logger: false })).toThrow(
      /pool\.size: must be an integer from 1 to 1000, got number -3/,
    );
  });

  it('names the fix when the interpreter does not exist', () => {
    expect(() =>
      resolveConfig({ adapter: ADAPTER, python: { executable: '/nonexistent/python9' }, logger: false }),
    ).toThrow(PythonEnvError);
  });
});
