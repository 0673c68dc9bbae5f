// resolveConfig is pure: a function of the config and the HostFacts it is given. Every file-system and process
// function the config modules could reach is wrapped here to count its calls, and must not be called at all.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostFacts, SnakepitConfig } from '../../src/config/config-types.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { POOL_KEYS } from '../../src/config/pool-config.js';
import { resolveConfig, TOP_KEYS } from '../../src/config/resolve-config.js';
import { ConfigError } from '../../src/errors/errors.js';

const touched = vi.hoisted(() => [] as string[]);

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const spy =
    <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      touched.push(name);
      return fn(...args);
    };
  const wrapped = {
    ...fs,
    existsSync: spy('existsSync', fs.existsSync),
    statSync: spy('statSync', fs.statSync),
    accessSync: spy('accessSync', fs.accessSync),
    readFileSync: spy('readFileSync', fs.readFileSync),
    readdirSync: spy('readdirSync', fs.readdirSync),
  };
  return { ...wrapped, default: wrapped };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const wrapped = {
    ...fs,
    access: (...a: Parameters<typeof fs.access>) => (touched.push('access'), fs.access(...a)),
    stat: (...a: Parameters<typeof fs.stat>) => (touched.push('stat'), fs.stat(...a)),
    readFile: (...a: Parameters<typeof fs.readFile>) => (touched.push('readFile'), fs.readFile(...a)),
  };
  return { ...wrapped, default: wrapped };
});
vi.mock('node:child_process', async (importOriginal) => {
  const cp = await importOriginal<typeof import('node:child_process')>();
  type AnyFn = (...args: unknown[]) => unknown;
  const spy = (name: string, fn: unknown): never =>
    ((...args: unknown[]) => {
      touched.push(name);
      return (fn as AnyFn)(...args);
    }) as never;
  const wrapped = {
    ...cp,
    spawnSync: spy('spawnSync', cp.spawnSync),
    execFile: spy('execFile', cp.execFile),
    spawn: spy('spawn', cp.spawn),
  };
  return { ...wrapped, default: wrapped };
});

/** A host that exists nowhere: any look at the disk would find nothing and fail. */
const HOST: HostFacts = {
  env: { PATH: '/nowhere/bin', SNAKEPIT_PYTHON: '/nowhere/python' },
  cwd: '/nowhere/project',
  parallelism: 3,
  defaultRegistryDir: '/nowhere/registry',
};
const ADAPTER = 'pkg.mod:Adapter';

beforeEach(() => {
  touched.length = 0;
});

describe('resolveConfig is pure', () => {
  it('reads no file and runs no process, even for a config whose every path is missing', () => {
    const config: SnakepitConfig = {
      logger: false,
      python: {
        executable: '/nowhere/python3',
        bridgePath: '/nowhere/python',
        strategy: 'uv',
        version: '3.12',
      },
      pools: [
        { name: 'py', adapter: ADAPTER, cwd: 'sub' },
        { name: 'node', runtime: 'node', module: './tools.mjs' },
        {
          name: 'remote',
          adapter: ADAPTER,
          transport: 'grpc',
          endpoints: ['127.0.0.1:50051'],
          grpc: { tls: { ca: '/nowhere/ca.pem' } },
        },
        { name: 'uv', adapter: ADAPTER, python: { strategy: 'uv' } },
      ],
    };
    const checked = resolveConfig(config, HOST);
    expect(touched).toEqual([]);
    const [py, node, remote, uv] = checked.pools;
    expect(py!.interpreter).toEqual({
      executable: '/nowhere/python3',
      strategy: 'uv',
      version: '3.12',
      cwd: 'sub',
    });
    expect(py!.bridgePath).toBe('/nowhere/python');
    expect(node!.module).toBe('/nowhere/project/tools.mjs'); // resolved against the host's cwd, not process.cwd()
    expect(node!.command).toBeUndefined(); // the runtime's entry is found by locateConfig
    expect(remote!.grpc?.tls?.ca).toBe('/nowhere/ca.pem');
    expect(uv!.interpreter).toMatchObject({ executable: undefined, strategy: 'uv', version: '3.12' });
  });

  it('gives the same result for the same input and host', () => {
    const config: SnakepitConfig = { adapter: ADAPTER, logger: false, pools: undefined };
    expect(resolveConfig(config, HOST)).toEqual(resolveConfig(config, HOST));
  });

  it('takes what it needs of the host from the HostFacts it is given', () => {
    const checked = resolveConfig({ adapter: ADAPTER, logger: false }, HOST);
    expect(checked.pools[0]!.size).toBe(3); // parallelism
    expect(checked.registryDir).toBe('/nowhere/registry');
    expect(
      resolveConfig({ adapter: ADAPTER, logger: false }, { ...HOST, env: { SNAKEPIT_REGISTRY_DIR: '/r' } })
        .registryDir,
    ).toBe('/r');
    expect(() =>
      resolveConfig({ adapter: ADAPTER }, { ...HOST, env: { SNAKEPIT_LOG_LEVEL: 'loud' } }),
    ).toThrow(/SNAKEPIT_LOG_LEVEL/);
    const token = 'x'.repeat(16);
    const remote = resolveConfig(
      {
        adapter: ADAPTER,
        logger: false,
        transport: 'grpc',
        endpoints: ['127.0.0.1:1'],
        grpc: { insecure: true },
      },
      { ...HOST, env: { SNAKEPIT_GRPC_TOKEN: token } },
    );
    expect(remote.pools[0]!.grpc?.token).toBe(token);
    expect(touched).toEqual([]);
  });
});

describe('defaults', () => {
  it('fills every omitted option from the one DEFAULTS table', () => {
    const c = resolveConfig({ adapter: ADAPTER, logger: false }, HOST);
    const p = c.pools[0]!;
    expect(p).toMatchObject({
      startupTimeoutMs: DEFAULTS.startupTimeoutMs,
      requestTimeoutMs: DEFAULTS.requestTimeoutMs,
      streamTimeoutMs: DEFAULTS.streamTimeoutMs,
      queue: { max: DEFAULTS.queueMax, timeoutMs: undefined },
      codec: DEFAULTS.codec,
      profile: DEFAULTS.profile,
      workerConcurrency: DEFAULTS.workerConcurrency,
      pipelineDepth: DEFAULTS.pipelineDepth,
      spinUs: DEFAULTS.spinUs,
      maxFrameBytes: DEFAULTS.maxFrameBytes,
      killGraceMs: DEFAULTS.killGraceMs,
      affinity: DEFAULTS.affinity,
      startupBatchSize: DEFAULTS.startupBatchSize,
      startupBatchDelayMs: DEFAULTS.startupBatchDelayMs,
      maxRetries: DEFAULTS.maxRetries,
      heartbeat: {
        intervalMs: DEFAULTS.heartbeatIntervalMs,
        timeoutMs: DEFAULTS.heartbeatTimeoutMs,
        hostTimeoutMs: DEFAULTS.hostTimeoutMs,
      },
      recycle: { checkIntervalMs: DEFAULTS.recycleCheckIntervalMs },
      restart: {
        maxAttempts: DEFAULTS.restartMaxAttempts,
        initialBackoffMs: DEFAULTS.restartInitialBackoffMs,
        maxBackoffMs: DEFAULTS.restartMaxBackoffMs,
      },
    });
    expect(c).toMatchObject({
      closeTimeoutMs: DEFAULTS.closeTimeoutMs,
      handleSignals: DEFAULTS.handleSignals,
      sessions: { ttlMs: DEFAULTS.sessionTtlMs, cleanupIntervalMs: DEFAULTS.sessionCleanupIntervalMs },
      tools: { maxDepth: DEFAULTS.toolsMaxDepth },
      telemetry: DEFAULTS.telemetry,
      startPolicy: DEFAULTS.startPolicy,
    });
    const lib = resolveConfig(
      { logger: false, libraries: [{ name: 'm', module: 'math', functions: ['sqrt'] }] },
      HOST,
    ).pools[0]!.libraries[0]!;
    expect(lib).toMatchObject(DEFAULTS.library);
    const grpc = resolveConfig(
      { adapter: ADAPTER, logger: false, transport: 'grpc', endpoints: ['127.0.0.1:1'] },
      HOST,
    ).pools[0]!.grpc!;
    expect(grpc).toMatchObject({
      workersPerEndpoint: DEFAULTS.grpc.workersPerEndpoint,
      connectTimeoutMs: DEFAULTS.grpc.connectTimeoutMs,
      keepaliveMs: DEFAULTS.grpc.keepaliveMs,
      resolveIntervalMs: DEFAULTS.grpc.resolveIntervalMs,
      reconnect: {
        initialBackoffMs: DEFAULTS.grpc.reconnectInitialBackoffMs,
        maxBackoffMs: DEFAULTS.grpc.reconnectMaxBackoffMs,
      },
    });
  });
});

describe('the key lists', () => {
  it('accept each listed key where it belongs and refuse the rest by name', () => {
    const keyOf = (config: Record<string, unknown>): string => {
      try {
        resolveConfig({ logger: false, ...config } as SnakepitConfig, HOST);
      } catch (err) {
        if (err instanceof ConfigError) return err.key;
        throw err;
      }
      return 'none';
    };
    // An unknown key is refused at each level, naming where it was.
    expect(keyOf({ adapter: ADAPTER, colour: 1 })).toBe('colour');
    expect(keyOf({ pools: [{ name: 'a', adapter: ADAPTER, colour: 1 }] })).toBe('pools[0].colour');
    // A pool key at the top level next to `pools` is refused (python excepted: at the top it is for every pool).
    for (const key of POOL_KEYS.filter((k) => !(TOP_KEYS as readonly string[]).includes(k))) {
      expect(keyOf({ pools: [{ name: 'a', adapter: ADAPTER }], [key]: 1 })).toBe(key);
    }
    expect(keyOf({ pools: [{ name: 'a', adapter: ADAPTER }], python: {} })).toBe('none');
  });

  it('carry the shorthand pool keys into the default pool and nothing else', () => {
    const c = resolveConfig(
      { adapter: ADAPTER, logger: false, size: 2, closeTimeoutMs: 5, killGraceMs: 7, sessions: { ttlMs: 9 } },
      HOST,
    );
    expect(c.pools[0]).toMatchObject({ name: 'default', size: 2, killGraceMs: 7 });
    expect(c.closeTimeoutMs).toBe(5);
    expect(c.sessions.ttlMs).toBe(9);
  });
});
