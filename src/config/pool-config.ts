/**
 * One pool's config (`pools[i]`, or the top-level shorthand): its name, adapter, sizes, timeouts, queue, codec,
 * environment and interpreter, checked here; its `libraries`, transport, `python` and supervision sections are
 * checked by their own modules and assembled here into one ResolvedPoolConfig.
 */
import { resolveGraceful } from './graceful.js';
import { ConfigError } from '../errors/errors.js';
import {
  describe,
  isPlainObject,
  nonNegativeInt,
  optionalPositiveInt,
  positiveInt,
  rejectUnknownKeys,
  stringList,
  stringMap,
} from './checks.js';
import type { AffinityMode, CheckedPoolConfig, HostFacts, PoolConfig, PythonConfig } from './config-types.js';
import { DEFAULTS } from './defaults.js';
import { resolveBackend } from '../ray/ray-config.js';
import { resolveGrpcConfig, resolveSnakepitStyle, resolveTransport } from '../remote/grpc-config.js';
import {
  GENERIC_ADAPTER,
  GENERIC_CONFIG_ENV,
  genericConfigJson,
  resolveLibraries,
} from './library-config.js';
import { resolveLimits } from './limits-config.js';
import { resolveTemplate } from './template-config.js';
import { resolveHooks } from '../hooks/adapter-hooks.js';
import { checkForeignRuntime, resolveRuntime } from './runtime-config.js';
import { resolveProfile } from './profile-config.js';
import { checkPythonConfig, mergePythonConfig } from './python-config.js';
import { resolveHeartbeat, resolveRecycle, resolveRestart } from './supervision-config.js';

/** `module.path:Class` or `module.path.Class`: identifiers only, so nothing odd reaches the command line. */
const ADAPTER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*([:.][A-Za-z_][A-Za-z0-9_]*)$/;
const POOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Every key of a pool's config, listed once: the check of unknown keys and the top-level shorthand use it. */
export const POOL_KEYS = [
  'name',
  'adapter',
  'libraries',
  'size',
  'pythonPath',
  'env',
  'startupTimeoutMs',
  'requestTimeoutMs',
  'streamTimeoutMs',
  'queue',
  'codec',
  'profile',
  'threadsPerWorker',
  'nativeThreads',
  'workerConcurrency',
  'pipelineDepth',
  'spinUs',
  'maxFrameBytes',
  'sharedMemory',
  'graceful',
  'python',
  'cwd',
  'affinity',
  'startupBatchSize',
  'startupBatchDelayMs',
  'heartbeat',
  'recycle',
  'maxRetries',
  'restart',
  'limits',
  'transport',
  'endpoints',
  'grpc',
  'snakepit',
  'runtime',
  'module',
  'command',
  'hooks',
  'backend',
  'template',
] as const satisfies readonly (keyof PoolConfig)[];
/** Compiles only while POOL_KEYS names every key of PoolConfig (the other direction is the `satisfies` above). */
const _everyPoolKeyListed: Exclude<keyof PoolConfig, (typeof POOL_KEYS)[number]> extends never
  ? true
  : never = true;
void _everyPoolKeyListed;
const POOL_KEY_SET: ReadonlySet<string> = new Set(POOL_KEYS);
/** Check one pool and fill in its defaults. */
export function resolvePool(
  raw: unknown,
  where: string,
  defaults: { python: PythonConfig; killGraceMs: number },
  host: HostFacts,
): CheckedPoolConfig {
  if (!isPlainObject(raw)) throw new ConfigError(where, `must be an object, got ${describe(raw)}`);
  const pool = raw as Partial<PoolConfig> & Record<string, unknown>;
  rejectUnknownKeys(`${where}.`, pool, POOL_KEY_SET);
  if (typeof pool.name !== 'string' || !POOL_NAME_PATTERN.test(pool.name)) {
    throw new ConfigError(
      `${where}.name`,
      `must be 1-64 letters, digits, "_", "." or "-", got ${describe(pool.name)}`,
    );
  }
  const transport = resolveTransport(where, pool);
  const runtime = resolveRuntime(where, pool, host.cwd);
  const backend = resolveBackend(where, pool.backend, transport, runtime.runtime);
  if (runtime.runtime !== 'python') checkForeignRuntime(where, runtime.runtime, pool);
  const libraries = resolveLibraries(pool.libraries, where);
  const adapterGiven = runtime.runtime === 'python' && (pool.adapter !== undefined || libraries.length === 0);
  if (adapterGiven && (typeof pool.adapter !== 'string' || !ADAPTER_PATTERN.test(pool.adapter))) {
    throw new ConfigError(
      `${where}.adapter`,
      `must name a Python class as "package.module:Class", got ${describe(pool.adapter)} ` +
        `(e.g. "snakepit_bridge.adapters.showcase:ShowcaseAdapter"), or give libraries instead`,
    );
  }
  const env = { ...stringMap(`${where}.env`, pool.env) };
  if (libraries.length > 0) {
    if (GENERIC_CONFIG_ENV in env) {
      throw new ConfigError(
        `${where}.env.${GENERIC_CONFIG_ENV}`,
        'is set by snakepit from `libraries`; remove it',
      );
    }
    env[GENERIC_CONFIG_ENV] = genericConfigJson(pool.adapter, libraries, where);
  }
  const queue = pool.queue ?? {};
  if (!isPlainObject(queue))
    throw new ConfigError(`${where}.queue`, `must be an object, got ${describe(queue)}`);
  rejectUnknownKeys(`${where}.queue.`, queue, new Set(['max', 'timeoutMs']));
  const codec = pool.codec ?? DEFAULTS.codec;
  if (codec !== 'auto' && codec !== 'msgpack' && codec !== 'json') {
    throw new ConfigError(`${where}.codec`, `must be "auto", "msgpack" or "json", got ${describe(codec)}`);
  }
  if (transport === 'snakepit' && codec === 'msgpack') {
    throw new ConfigError(
      `${where}.codec`,
      'transport "snakepit" carries values as JSON; use "auto" or "json"',
    );
  }
  const python = mergePythonConfig(defaults.python, checkPythonConfig(`${where}.python`, pool.python, false));
  if (pool.cwd !== undefined && (typeof pool.cwd !== 'string' || !pool.cwd)) {
    throw new ConfigError(`${where}.cwd`, `must be a directory path, got ${describe(pool.cwd)}`);
  }
  const affinity = resolveAffinity(`${where}.affinity`, pool.affinity);
  const grpc =
    transport === 'grpc' ? resolveGrpcConfig(where, pool.endpoints, pool.grpc, host.env) : undefined;
  const limits = resolveLimits(`${where}.limits`, pool.limits, transport);
  return {
    name: pool.name,
    adapter: runtime.label ?? (libraries.length > 0 ? GENERIC_ADAPTER : (pool.adapter as string)),
    libraries,
    size: grpc
      ? nonNegativeInt(`${where}.size`, pool.size, 0, DEFAULTS.maxPoolSize) // local workers beside the remote ones
      : positiveInt(`${where}.size`, pool.size, host.parallelism, DEFAULTS.maxPoolSize),
    pythonPath: stringList(`${where}.pythonPath`, pool.pythonPath),
    env,
    startupTimeoutMs: positiveInt(
      `${where}.startupTimeoutMs`,
      pool.startupTimeoutMs,
      DEFAULTS.startupTimeoutMs,
    ),
    requestTimeoutMs: positiveInt(
      `${where}.requestTimeoutMs`,
      pool.requestTimeoutMs,
      DEFAULTS.requestTimeoutMs,
    ),
    streamTimeoutMs: positiveInt(`${where}.streamTimeoutMs`, pool.streamTimeoutMs, DEFAULTS.streamTimeoutMs),
    queue: {
      max: positiveInt(`${where}.queue.max`, queue['max'], DEFAULTS.queueMax),
      timeoutMs: optionalPositiveInt(`${where}.queue.timeoutMs`, queue['timeoutMs']),
    },
    codec,
    ...resolveProfile(where, pool, transport, limits),
    spinUs: nonNegativeInt(`${where}.spinUs`, pool.spinUs, DEFAULTS.spinUs, 10_000),
    maxFrameBytes: positiveInt(
      `${where}.maxFrameBytes`,
      pool.maxFrameBytes,
      DEFAULTS.maxFrameBytes,
      2 ** 32 - 1,
    ),
    sharedMemory: resolveSharedMemory(`${where}.sharedMemory`, pool.sharedMemory),
    graceful: resolveGraceful(`${where}.graceful`, pool.graceful),
    interpreter: {
      executable: python.executable,
      strategy: python.strategy,
      version: python.version,
      cwd: pool.cwd,
    },
    bridgePath: defaults.python.bridgePath,
    cwd: pool.cwd,
    killGraceMs: defaults.killGraceMs,
    affinity,
    startupBatchSize: positiveInt(
      `${where}.startupBatchSize`,
      pool.startupBatchSize,
      DEFAULTS.startupBatchSize,
      DEFAULTS.maxPoolSize,
    ),
    startupBatchDelayMs: nonNegativeInt(
      `${where}.startupBatchDelayMs`,
      pool.startupBatchDelayMs,
      DEFAULTS.startupBatchDelayMs,
      600_000,
    ),
    heartbeat: resolveHeartbeat(`${where}.heartbeat`, pool.heartbeat),
    recycle: resolveRecycle(`${where}.recycle`, pool.recycle),
    maxRetries: nonNegativeInt(`${where}.maxRetries`, pool.maxRetries, DEFAULTS.maxRetries, 100),
    restart: resolveRestart(`${where}.restart`, pool.restart),
    limits,
    transport,
    grpc,
    snakepit: transport === 'snakepit' ? resolveSnakepitStyle(where, pool.snakepit) : undefined,
    runtime: runtime.runtime,
    module: runtime.module,
    command: runtime.command,
    hooks: resolveHooks(`${where}.hooks`, pool.hooks),
    backend,
    template: resolveTemplate(`${where}.template`, pool.template, {
      transport,
      ...runtime,
      ray: backend !== undefined,
    }),
  };
}

const AFFINITY_ALIASES: Record<string, AffinityMode> = {
  hint: 'hint',
  prefer: 'hint',
  strict_queue: 'strict_queue',
  strict: 'strict_queue',
  strict_fail_fast: 'strict_fail_fast',
};

/** Snakepit's names, and the earlier `strict` / `prefer` as aliases. */
function resolveAffinity(key: string, value: unknown): AffinityMode {
  if (value === undefined) return DEFAULTS.affinity;
  const mode = typeof value === 'string' ? AFFINITY_ALIASES[value] : undefined;
  if (mode === undefined) {
    throw new ConfigError(
      key,
      `must be "strict_queue" (alias "strict"), "strict_fail_fast" or "hint" (alias "prefer"), got ${describe(value)}`,
    );
  }
  return mode;
}

function resolveSharedMemory(where: string, value: unknown): { enabled: boolean; minBytes: number } {
  if (value === undefined || value === true)
    return { enabled: true, minBytes: DEFAULTS.sharedMemoryMinBytes };
  if (value === false) return { enabled: false, minBytes: DEFAULTS.sharedMemoryMinBytes };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(where, 'must be true, false or { minBytes }');
  }
  const extra = Object.keys(value).filter((k) => k !== 'minBytes');
  if (extra.length > 0) throw new ConfigError(where, `has unknown key "${extra[0]}" (known: minBytes)`);
  const minBytes = positiveInt(
    `${where}.minBytes`,
    (value as { minBytes?: number }).minBytes,
    DEFAULTS.sharedMemoryMinBytes,
    2 ** 32 - 1,
  );
  return { enabled: true, minBytes: Math.max(minBytes, 4096) };
}
