import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTargets } from '../../src/cli/cli-config.js';
import { locateConfig } from '../../src/config/locate-config.js';
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
    expect(pool.interpreter).toEqual({
      executable: undefined,
      strategy: undefined,
      version: undefined,
      cwd: undefined,
    });
  });

  it('finds the interpreter in a second step, locateConfig', async () => {
    const pool = (await locateConfig(resolveConfig({ adapter: ADAPTER, logger: false }))).pools[0]!;
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
    [{ adapter: ADAPTER, spinUs: -1 }, 'pool.spinUs'],
    [{ adapter: ADAPTER, spinUs: 20_000 }, 'pool.spinUs'],
    [{ adapter: ADAPTER, spinUs: '50' }, 'pool.spinUs'],
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

  it('names the fix when the interpreter does not exist (when it is located, not while checking)', async () => {
    const checked = resolveConfig({
      adapter: ADAPTER,
      python: { executable: '/nonexistent/python9' },
      logger: false,
    });
    await expect(locateConfig(checked)).rejects.toThrow(PythonEnvError);
  });
});

describe('resolveConfig: libraries (the generic adapter)', () => {
  const GENERIC = 'snakepit_bridge.generic:GenericPythonAdapter';

  function workerConfig(pool: { env: Record<string, string> }): Record<string, unknown> {
    return JSON.parse(pool.env['SNAKEPIT_GENERIC_CONFIG']!) as Record<string, unknown>;
  }

  it('runs the generic adapter for a pool with libraries and no adapter', () => {
    const pool = resolveConfig({
      libraries: [
        {
          name: 'np',
          module: 'numpy',
          install: { package: 'numpy', version: '1.26.4' },
          lazy: true,
          expose: 'public',
        },
      ],
      logger: false,
    }).pools[0]!;
    expect(pool.adapter).toBe(GENERIC);
    expect(pool.libraries[0]).toMatchObject({
      namespace: 'np',
      lazy: true,
      install: { package: 'numpy', version: '==1.26.4' },
    });
    const sent = workerConfig(pool);
    expect(sent['adapter']).toBeNull();
    expect(sent['libraries']).toEqual([
      expect.objectContaining({
        name: 'np',
        module: 'numpy',
        namespace: 'np',
        functions: null,
        expose: 'public',
        allow_unsafe: false,
        lazy: true,
      }),
    ]);
  });

  it('wraps the pool adapter when both are given', () => {
    const pool = resolveConfig({
      pools: [
        { name: 'p', adapter: ADAPTER, libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }] },
      ],
      logger: false,
    }).pools[0]!;
    expect(pool.adapter).toBe(GENERIC);
    expect(workerConfig(pool)['adapter']).toBe(ADAPTER);
  });

  it('leaves the user config untouched and other pools without the variable', () => {
    const env = { A: '1' };
    const config = resolveConfig({
      pools: [
        { name: 'a', adapter: ADAPTER, env },
        { name: 'b', libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }], env },
      ],
      logger: false,
    });
    expect(env).toEqual({ A: '1' });
    expect(config.pools[0]!.env['SNAKEPIT_GENERIC_CONFIG']).toBeUndefined();
    expect(config.pools[0]!.libraries).toEqual([]);
    expect(config.pools[1]!.env['A']).toBe('1');
  });

  const lib = (extra: Record<string, unknown>): unknown => ({
    libraries: [{ name: 'x', module: 'math', functions: ['sqrt'], ...extra }],
  });
  it.each([
    // injection attempts in module names
    [lib({ module: 'os; rm -rf /' }), 'pool.libraries[0].module'],
    [lib({ module: '$(whoami)' }), 'pool.libraries[0].module'],
    [lib({ module: '`id`' }), 'pool.libraries[0].module'],
    [lib({ module: 'a|b' }), 'pool.libraries[0].module'],
    [lib({ module: '../../etc/passwd' }), 'pool.libraries[0].module'],
    [lib({ module: '/usr/lib/python3/os.py' }), 'pool.libraries[0].module'],
    [lib({ module: 'numpy ' }), 'pool.libraries[0].module'],
    [lib({ module: 'pkg._private' }), 'pool.libraries[0].module'],
    [lib({ module: 'builtins' }), 'pool.libraries[0].module'],
    [lib({ module: 'importlib' }), 'pool.libraries[0].module'],
    [lib({ module: 'x'.repeat(300) }), 'pool.libraries[0].module'],
    // injection attempts in package names and versions
    [lib({ install: { package: 'numpy; rm -rf /' } }), 'pool.libraries[0].install.package'],
    [lib({ install: { package: '--index-url=http://evil.example' } }), 'pool.libraries[0].install.package'],
    [lib({ install: { package: 'git+https://evil.example/x.git' } }), 'pool.libraries[0].install.package'],
    [lib({ install: { package: './local/pkg' } }), 'pool.libraries[0].install.package'],
    [lib({ install: { package: 'numpy --user' } }), 'pool.libraries[0].install.package'],
    [lib({ install: { package: 'numpy', version: '>=1; rm -rf /' } }), 'pool.libraries[0].install.version'],
    [lib({ install: { package: 'numpy', version: 'latest' } }), 'pool.libraries[0].install.version'],
    [lib({ install: { package: 'numpy', extra: 1 } }), 'pool.libraries[0].install.extra'],
    [lib({ install: 'numpy' }), 'pool.libraries[0].install'],
    // names, functions, aliases, hooks, options
    [{ libraries: [{ module: 'math' }] }, 'pool.libraries[0].name'],
    [{ libraries: [{ name: 'x' }] }, 'pool.libraries[0].module'],
    [lib({ name: 'scikit-learn' }), 'pool.libraries[0].namespace'],
    [lib({ functions: ['sqrt', '__import__'] }), 'pool.libraries[0].functions[1]'],
    [lib({ functions: ['os.system; id'] }), 'pool.libraries[0].functions[0]'],
    [lib({ functions: 'sqrt' }), 'pool.libraries[0].functions'],
    [lib({ exclude: ['_x'] }), 'pool.libraries[0].exclude[0]'],
    [lib({ aliases: { root: 'sqrt()' } }), 'pool.libraries[0].aliases.root'],
    [lib({ aliases: { 'a b': 'sqrt' } }), 'pool.libraries[0].aliases'],
    [lib({ hooks: ['timing', 'rm -rf /'] }), 'pool.libraries[0].hooks[1]'],
    [lib({ lazy: 'yes' }), 'pool.libraries[0].lazy'],
    [lib({ dataframes: 'rows' }), 'pool.libraries[0].dataframes'],
    [lib({ arrays: 'buffers' }), 'pool.libraries[0].arrays'],
    [lib({ cacheSize: 0 }), 'pool.libraries[0].cacheSize'],
    [lib({ pip_package: 'numpy' }), 'pool.libraries[0].pip_package'],
    [{ libraries: 'math' }, 'pool.libraries'],
    [
      {
        libraries: [
          { name: 'a', module: 'math', functions: ['sqrt'] },
          { name: 'a', module: 'json', functions: ['dumps'] },
        ],
      },
      'pool.libraries[1].name',
    ],
    [
      {
        libraries: [
          { name: 'a', module: 'math', namespace: 'm', functions: ['sqrt'] },
          { name: 'b', module: 'json', namespace: 'm', functions: ['dumps'] },
        ],
      },
      'pool.libraries[1].namespace',
    ],
    [{ libraries: [], adapter: undefined }, 'pool.adapter'],
    [{ ...(lib({}) as object), env: { SNAKEPIT_GENERIC_CONFIG: '{}' } }, 'pool.env.SNAKEPIT_GENERIC_CONFIG'],
  ])('rejects %j naming %s', (config, key) => {
    expect(keyOf({ logger: false, ...(config as object) })).toBe(key);
  });

  it('bounds the configuration a worker receives', () => {
    const functions = Array.from({ length: 5000 }, (_, i) => `function_number_${i}`);
    expect(() =>
      resolveConfig({ libraries: [{ name: 'x', module: 'math', functions }], logger: false }),
    ).toThrow(/libraries: is \d+ bytes as JSON; the limit is 65536/);
  });
});

describe('CLI targets (cli-config)', () => {
  it('keeps every pool option of a shorthand config file in the pool, not at the top level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-cli-config-'));
    try {
      writeFileSync(
        join(dir, 'snakepit.config.json'),
        JSON.stringify({ adapter: ADAPTER, heartbeat: false, maxRetries: 0, logLevel: 'warn' }),
      );
      const { targets } = await loadTargets({}, dir);
      expect(targets).toHaveLength(1);
      const config = targets[0]!.config;
      expect(config).not.toHaveProperty('heartbeat');
      expect(config.logLevel).toBe('warn');
      const resolved = resolveConfig({ ...config, logger: false });
      expect(resolved.pools[0]!.heartbeat).toBeUndefined();
      expect(resolved.pools[0]!.maxRetries).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('telemetry config', () => {
  it('defaults, switches, and bad values named', () => {
    expect(resolveConfig({ adapter: ADAPTER }).telemetry).toEqual({ calls: true, tracing: 'auto' });
    expect(resolveConfig({ adapter: ADAPTER, telemetry: false }).telemetry).toEqual({
      calls: false,
      tracing: false,
    });
    expect(resolveConfig({ adapter: ADAPTER, telemetry: { tracing: false } }).telemetry).toEqual({
      calls: true,
      tracing: false,
    });
    for (const [telemetry, key] of [
      ['yes', 'telemetry'],
      [{ traces: true }, 'telemetry.traces'],
      [{ calls: 1 }, 'telemetry.calls'],
      [{ tracing: 'always' }, 'telemetry.tracing'],
      [{ calls: false, tracing: true }, 'telemetry.tracing'],
    ] as const) {
      expect(() => resolveConfig({ adapter: ADAPTER, telemetry: telemetry as never })).toThrow(ConfigError);
      expect(() => resolveConfig({ adapter: ADAPTER, telemetry: telemetry as never })).toThrow(key);
    }
  });
});

describe('sessions, affinity and the start policy', () => {
  it('defaults affinity to strict_queue and sessions to a 1 h TTL', () => {
    const config = resolveConfig({ adapter: 'a.b:C', logger: false });
    expect(config.pools[0]!.affinity).toBe('strict_queue');
    expect(config.sessions).toEqual({ ttlMs: 3_600_000, cleanupIntervalMs: 60_000 });
  });

  it.each([
    ['strict_queue', 'strict_queue'],
    ['strict', 'strict_queue'],
    ['strict_fail_fast', 'strict_fail_fast'],
    ['hint', 'hint'],
    ['prefer', 'hint'],
  ] as const)("takes affinity %s as Snakepit's %s", (given, mode) => {
    expect(resolveConfig({ adapter: 'a.b:C', logger: false, affinity: given }).pools[0]!.affinity).toBe(mode);
  });

  it('defaults the start policy to "all" and start-up batches to 8', () => {
    const config = resolveConfig({ adapter: 'a.b:C', logger: false });
    expect(config.startPolicy).toBe('all');
    expect(config.pools[0]).toMatchObject({ startupBatchSize: 8, startupBatchDelayMs: 0 });
    expect(() => resolveConfig({ adapter: 'a.b:C', logger: false, startPolicy: 'some' as never })).toThrow(
      ConfigError,
    );
  });

  it.each([
    [{ affinity: 'sticky' }, 'pool.affinity'],
    [{ sessions: { ttlMs: 0 } }, 'sessions.ttlMs'],
    [{ sessions: { ttl: 5 } }, 'sessions.ttl'],
    [{ sessions: 5 }, 'sessions'],
  ])('rejects %j naming %s', (extra, key) => {
    const err = (() => {
      try {
        resolveConfig({ adapter: 'a.b:C', logger: false, ...(extra as object) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
  });
});
