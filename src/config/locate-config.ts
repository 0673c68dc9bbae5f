/**
 * The second step of resolving a config, after the pure `resolveConfig`: find on this machine what the checked
 * config only describes — each pool's interpreter (`findPython`: file checks, and `uv python find` with
 * `python.strategy: "uv"`, all without blocking the event loop), the folder holding `snakepit_bridge/`, the Node
 * runtime's entry for `runtime: "node"`, and a gRPC pool's TLS files. `Snakepit.start` runs it; the CLI commands
 * that need an interpreter (`inspect`, `types`, `conformance`) too.
 */
import { findPython } from '../python-env/interpreter.js';
import { bridgeDirectory } from '../python-env/bridge-path.js';
import { readTlsFiles } from '../remote/grpc-config.js';
import type {
  CheckedConfig,
  CheckedPoolConfig,
  HostFacts,
  ResolvedConfig,
  ResolvedPoolConfig,
  ResolvedPython,
} from './config-types.js';
import { nodeWorkerCommand } from './runtime-config.js';

/**
 * Complete a checked config with what is found on disk.
 * @param host the environment interpreter resolution reads (`SNAKEPIT_PYTHON`, `VIRTUAL_ENV`, `PATH`, ...)
 * @throws PythonEnvError when a pool's interpreter cannot be found (the first pool in config order that fails);
 *   BridgeNotFoundError; ConfigError for a TLS file that cannot be read or a missing Node runtime
 */
export async function locateConfig(
  checked: CheckedConfig,
  host: Pick<HostFacts, 'env'> = { env: process.env },
): Promise<ResolvedConfig> {
  // Pools asking for the same interpreter share one lookup (a uv query can take seconds).
  const lookups = new Map<string, Promise<ResolvedPython>>();
  const settled = await Promise.allSettled(
    checked.pools.map((pool, i) =>
      locatePool(pool, checked.pools.length > 1 ? `pools[${i}]` : 'pool', host, lookups),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { ...checked, pools: settled.map((r) => (r as PromiseFulfilledResult<ResolvedPoolConfig>).value) };
}

async function locatePool(
  pool: CheckedPoolConfig,
  where: string,
  host: Pick<HostFacts, 'env'>,
  lookups: Map<string, Promise<ResolvedPython>>,
): Promise<ResolvedPoolConfig> {
  const { executable, strategy, version, cwd } = pool.interpreter;
  const key = JSON.stringify([executable, strategy, version, cwd]);
  let python = lookups.get(key);
  if (!python) {
    python = findPython(executable, {
      env: host.env as NodeJS.ProcessEnv,
      ...(cwd ? { cwd } : {}),
      ...(strategy ? { strategy } : {}),
      ...(version ? { version } : {}),
    });
    lookups.set(key, python);
  }
  const grpc = pool.grpc ? await readTlsFiles(where, pool.grpc) : undefined;
  return {
    ...pool,
    python: await python,
    bridgeDir: bridgeDirectory(pool.bridgePath),
    grpc,
    command: pool.runtime === 'node' ? nodeWorkerCommand(pool.module!) : pool.command,
  };
}
