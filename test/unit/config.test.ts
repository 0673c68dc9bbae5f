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
    [{ adapter: ADAPTER, heartbeat: true }, 'pool.heartbeat'],
    [{ adapter: ADAPTER, heartbeat: { intervalMs: 0 } }, 'pool.heartbeat.intervalMs'],
    [{ adapter: ADAPTER, heartbeat: { intervalMs: 1000, timeoutMs: 1500 } }, 'pool.heartbeat.timeoutMs'],
    [{ adapter: ADAPTER, heartbeat: { hostTimeoutMs: 10 } }, 'pool.heartbeat.hostTimeoutMs'],
    [{ adapter: ADAPTER, heartbeat: { every: 1 } }, 'pool.heartbeat.every'],
    [{ adapter: ADAPTER, recycle: { ttlMs: -1 } }, 'pool.recycle.ttlMs'],
    [{ adapter: ADAPTER, recycle: { maxRequests: 2.5 } }, 'pool.recycle.maxRequests'],
    [{ adapter: ADAPTER, recycle: { maxRssMb: '100' } }, 'pool.recycle.maxRssMb'],
    [{ adapter: ADAPTER, recycle: { maxRss: 100 } }, 'pool.recycle.maxRss'],
    [{ adapter: ADAPTER, recycle: 5 }, 'pool.recycle'],
    [{ adapter: ADAPTER, maxRetries: -1 }, 'pool.maxRetries'],
    [{ adapter: ADAPTER, maxRetries: true }, 'pool.maxRetries'],
    [{ adapter: ADAPTER, restart: { maxAttempts: 0 } }, 'pool.restart.maxAttempts'],
    [
      { adapter: ADAPTER, restart: { initialBackoffMs: 500, maxBackoffMs: 100 } },
      'pool.restart.maxBackoffMs',
    ],
    [{ pools: [{ name: 'a', adapter: ADAPTER, recycle: { ttlMs: 0 } }] }, 'pools[0].recycle.ttlMs'],
    [{ adapter: ADAPTER, handleSignals: 'yes' }, 'handleSignals'],
    [{ adapter: ADAPTER, registryDir: '' }, 'registryDir'],
    [{ adapter: ADAPTER, registryDir: true }, 'registryDir'],
  ])('rejects %j naming %s', (config, key) => {
    expect(keyOf({ logger: false, ...config })).toBe(key);
  });

  it('says what was expected and what was given', () => {
    expect(() => resolveConfig({ adapter: ADAPTER, size: -3, logger: false })).toThrow(
      /pool\.size: must be an integer from 1 to 1000, got number -3/,
    );
  });

  it('fills reliability defaults: heartbeats on, no recycling, one retry for idempotent calls', () => {
    const config = resolveConfig({ adapter: ADAPTER, logger: false });
    const pool = config.pools[0]!;
    expect(pool.heartbeat).toEqual({ intervalMs: 2_000, timeoutMs: 30_000, hostTimeoutMs: 60_000 });
    expect(pool.recycle).toEqual({
      ttlMs: undefined,
      maxRequests: undefined,
      maxRssMb: undefined,
      checkIntervalMs: 1_000,
    });
    expect(pool.maxRetries).toBe(1);
    expect(pool.restart).toEqual({ maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 30_000 });
    expect(config.handleSignals).toBe(false);
    expect(config.registryDir).toMatch(/snakepit-/);
  });

  it('takes reliability settings per pool, and false turns heartbeats and the registry off', () => {
    const config = resolveConfig({
      pools: [
        {
          name: 'a',
          adapter: ADAPTER,
          heartbeat: { intervalMs: 100, timeoutMs: 500 },
          recycle: { ttlMs: 60_000, maxRequests: 1000, maxRssMb: 512 },
          maxRetries: 0,
          restart: { maxAttempts: 3, initialBackoffMs: 10 },
        },
        { name: 'b', adapter: ADAPTER, heartbeat: false },
      ],
      handleSignals: true,
      registryDir: false,
      logger: false,
    });
    const [a, b] = config.pools;
    expect(a!.heartbeat).toEqual({ intervalMs: 100, timeoutMs: 500, hostTimeoutMs: 60_000 });
    expect(a!.recycle).toMatchObject({ ttlMs: 60_000, maxRequests: 1000, maxRssMb: 512 });
    expect(a!.maxRetries).toBe(0);
    expect(a!.restart).toEqual({ maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 30_000 });
    expect(b!.heartbeat).toBeUndefined();
    expect(config.handleSignals).toBe(true);
    expect(config.registryDir).toBeUndefined();
  });

  it('says why a heartbeat timeout is too short', () => {
    expect(() =>
      resolveConfig({ adapter: ADAPTER, heartbeat: { intervalMs: 1000, timeoutMs: 1500 }, logger: false }),
    ).toThrow(
      /pool\.heartbeat\.timeoutMs: must be at least 2 × heartbeat\.intervalMs \(2000 ms\), got number 1500/,
    );
  });

  it('names the fix when the interpreter does not exist', () => {
    expect(() =>
      resolveConfig({ adapter: ADAPTER, python: { executable: '/nonexistent/python9' }, logger: false }),
    ).toThrow(PythonEnvError);
  });
});
