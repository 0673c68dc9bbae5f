/**
 * The `backend: { kind: 'ray', … }` option of a pool: its workers are Ray actors (docs/DISTRIBUTED.md). Checked
 * here, apart from the rest of the pool's config, so the Ray backend stays in one folder.
 */
import { describe, isPlainObject, rejectUnknownKeys } from '../config/checks.js';
import { ConfigError } from '../errors/errors.js';

/** Where each actor runs, in Ray's terms (`@ray.remote` options). */
export interface RayResources {
  /** CPUs each actor reserves. Default 1. */
  num_cpus?: number;
  /** GPUs each actor reserves. Default 0. */
  num_gpus?: number;
  /** Memory (bytes) each actor reserves, for Ray's scheduler. */
  memory?: number;
  /** Custom resources, e.g. `{ trainer: 1 }`: the actor runs only on nodes started with them. */
  custom?: Record<string, number>;
}

export interface RayBackendConfig {
  kind: 'ray';
  /**
   * The cluster: `"ray://head:10001"` (Ray client), `"head:6379"` (a node of the cluster), `"auto"`. Default:
   * Ray's own choice (`RAY_ADDRESS`, then a cluster started on this machine, else a new local one for this pool).
   */
  address?: string;
  /** What each actor reserves. */
  resources?: RayResources;
  /** Ray's `runtime_env` for the pool's job (`pip`, `working_dir`, `env_vars`, …). The bridge is added to it. */
  runtimeEnv?: Record<string, unknown>;
  /** Ray namespace of the pool's job. */
  namespace?: string;
  /**
   * Ship the bridge (`snakepit_bridge`) with the job as a `py_modules` entry, so actors on any node import it.
   * Default true. False when the nodes have it installed (in the image, or on `PYTHONPATH`): actors then use the
   * workers Ray keeps started in advance, which makes each actor start seconds faster.
   */
  shipBridge?: boolean;
  /** Further `ray.init` keyword arguments (`object_store_memory`, `_temp_dir`, …) for a cluster it starts. */
  init?: Record<string, unknown>;
}

export interface ResolvedRayBackend {
  kind: 'ray';
  address: string | undefined;
  resources: { num_cpus: number; num_gpus?: number; memory?: number; custom?: Record<string, number> };
  runtimeEnv: Record<string, unknown>;
  namespace: string | undefined;
  init: Record<string, unknown>;
  shipBridge: boolean;
}

const KEYS = new Set(['kind', 'address', 'resources', 'runtimeEnv', 'namespace', 'init', 'shipBridge']);
const RESOURCE_KEYS = new Set(['num_cpus', 'num_gpus', 'memory', 'custom']);

/** Check a pool's `backend` (undefined: the pool's workers are not Ray actors). */
export function resolveBackend(
  where: string,
  value: unknown,
  transport: string,
  runtime: string,
): ResolvedRayBackend | undefined {
  if (value === undefined) return undefined;
  const key = `${where}.backend`;
  if (transport !== 'local' || runtime !== 'python') {
    throw new ConfigError(
      key,
      `Ray actors run the Python bridge over the default transport; this pool has transport "${transport}", runtime "${runtime}"`,
    );
  }
  if (!isPlainObject(value)) throw new ConfigError(key, `must be { kind: "ray", … }, got ${describe(value)}`);
  if (value['kind'] !== 'ray') {
    throw new ConfigError(`${key}.kind`, `must be "ray" (the only backend), got ${describe(value['kind'])}`);
  }
  rejectUnknownKeys(`${key}.`, value, KEYS);
  const address = optionalText(`${key}.address`, value['address']);
  const namespace = optionalText(`${key}.namespace`, value['namespace']);
  const runtimeEnv = optionalObject(`${key}.runtimeEnv`, value['runtimeEnv']);
  const init = optionalObject(`${key}.init`, value['init']);
  for (const reserved of ['address', 'namespace', 'runtime_env', 'log_to_driver', 'configure_logging']) {
    if (reserved in init) {
      throw new ConfigError(
        `${key}.init.${reserved}`,
        'is set by snakepit: use backend.address, namespace or runtimeEnv',
      );
    }
  }
  const resources = optionalObject(`${key}.resources`, value['resources']);
  rejectUnknownKeys(`${key}.resources.`, resources, RESOURCE_KEYS);
  const amount = (name: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`${key}.resources.${name}`, `must be a number ≥ 0, got ${describe(v)}`);
    }
    return v;
  };
  const custom = optionalObject(`${key}.resources.custom`, resources['custom']);
  for (const [name, v] of Object.entries(custom)) amount(`custom.${name}`, v);
  const numGpus = amount('num_gpus', resources['num_gpus']);
  const memory = amount('memory', resources['memory']);
  return {
    kind: 'ray',
    address,
    resources: {
      num_cpus: amount('num_cpus', resources['num_cpus']) ?? 1,
      ...(numGpus === undefined ? {} : { num_gpus: numGpus }),
      ...(memory === undefined ? {} : { memory }),
      ...(Object.keys(custom).length ? { custom: custom as Record<string, number> } : {}),
    },
    runtimeEnv,
    namespace,
    init,
    shipBridge:
      value['shipBridge'] === undefined ? true : checkBoolean(`${key}.shipBridge`, value['shipBridge']),
  };
}

function checkBoolean(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(key, `must be true or false, got ${describe(value)}`);
  return value;
}

function optionalText(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value)
    throw new ConfigError(key, `must be a non-empty string, got ${describe(value)}`);
  return value;
}

function optionalObject(key: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError(key, `must be an object, got ${describe(value)}`);
  // It travels to Python as JSON: refuse what JSON cannot carry now, not in the driver.
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(key, `must be plain JSON data: ${(err as Error).message}`);
  }
}
