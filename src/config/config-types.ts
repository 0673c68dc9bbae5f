/**
 * Configuration: the all-optional input a user writes (`SnakepitConfig`) and the all-required resolved form the
 * engine runs on (`ResolvedConfig`). `resolveConfig` turns one into the other once, at the edge.
 */
import type { CodecName } from '../protocol/messages.js';
import type { Logger, LogLevel } from '../util/logger.js';

export interface QueueConfig {
  /** Most calls waiting for a worker; one more is refused with PoolSaturatedError. Default 10,000. */
  max?: number;
  /** Longest a call waits for a worker before QueueTimeoutError. Default: no separate limit (the call timeout applies). */
  timeoutMs?: number;
}

export interface PythonConfig {
  /**
   * The interpreter. Resolution when absent: `SNAKEPIT_PYTHON`, then `./.venv/bin/python`, then the active
   * `VIRTUAL_ENV`, then a uv-managed Python (with `strategy: "uv"`), then `python3` on PATH.
   */
  executable?: string;
  /** `"uv"`: when nothing above picked an interpreter and uv is on PATH, use a uv-managed one. Default `"auto"`. */
  strategy?: 'auto' | 'uv';
  /** The Python version asked of uv (`"3.12"`); `snakepit setup` also creates the venv with it. Only with uv. */
  version?: string;
  /**
   * Packages (pip requirement specifiers such as `"numpy>=1.26"`) that `snakepit setup` installs and
   * `snakepit doctor` checks. Top level only.
   */
  packages?: string[];
}

export interface PoolConfig {
  /** Pool name, used in `execute(..., { pool })`. */
  name: string;
  /** Adapter class, `package.module:Class` (or `package.module.Class`). */
  adapter: string;
  /** Number of worker processes. Default: the machine's available parallelism. */
  size?: number;
  /** Extra directories put on the workers' PYTHONPATH (after the bridge's own). */
  pythonPath?: string[];
  /** Extra environment variables for the workers. */
  env?: Record<string, string>;
  /** Spawn to ready, per worker. Default 30,000 ms. */
  startupTimeoutMs?: number;
  /** Default timeout of a call (queue wait included). Default 30,000 ms; streams 300,000 ms. */
  requestTimeoutMs?: number;
  /** Default timeout of a stream call. Default 300,000 ms. */
  streamTimeoutMs?: number;
  queue?: QueueConfig;
  /** Wire codec: `auto` (msgpack when the worker has it, else JSON), or force one. Default `auto`. */
  codec?: 'auto' | CodecName;
  /** Calls one worker runs at once (>1 only helps async adapters). Default 1. */
  workerConcurrency?: number;
  /**
   * Calls that may wait inside a busy worker behind fast calls (host-measured < 2 ms), to cut round trips under
   * load. 1 turns pipelining off. Default 32.
   */
  pipelineDepth?: number;
  /** Largest frame either way, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Interpreter for this pool only. */
  python?: PythonConfig;
  /** Working directory of the workers. Default: the host's. */
  cwd?: string;
  /**
   * Session affinity: `strict` (default) runs a session's calls only on the worker that served it before (its
   * Python state is there; if that worker is gone, calls fail with SessionLostError); `prefer` uses that worker
   * when it has room and any worker otherwise.
   */
  affinity?: AffinityMode;
}

export type AffinityMode = 'strict' | 'prefer';

export interface SessionsConfig {
  /** A session not used for this long ends (its Python state is dropped). Default 3,600,000 ms (1 h). */
  ttlMs?: number;
  /** How often expired sessions are looked for. Default 60,000 ms. */
  cleanupIntervalMs?: number;
}

/** Pool fields allowed at the top level as a shorthand for one pool named `default`. */
export type SinglePoolShorthand = Omit<PoolConfig, 'name'> & { name?: string };

export interface SnakepitConfig extends Partial<SinglePoolShorthand> {
  python?: PythonConfig;
  /** Several named pools; the first is the default target of `execute`. */
  pools?: PoolConfig[];
  /** Where host and worker logs go: a pino-compatible logger, or `false` for silence. Default: the console. */
  logger?: Logger | false;
  /** Log level for the default console logger. Default `SNAKEPIT_LOG_LEVEL`, else `info`. */
  logLevel?: LogLevel;
  /** How long `close()` lets in-flight calls finish before stopping workers. Default 10,000 ms. */
  closeTimeoutMs?: number;
  /** Between asking a worker to stop and killing it. Default 2,000 ms. */
  killGraceMs?: number;
  /** Session store: time to live and expiry sweep. */
  sessions?: SessionsConfig;
}

export interface ResolvedPython {
  executable: string;
  /** Why this interpreter was chosen, e.g. `SNAKEPIT_PYTHON`, `./.venv`, `python3 on PATH`. */
  source: string;
  /** What resolution passed over on the way (e.g. a `VIRTUAL_ENV` without an interpreter). */
  notes?: string[];
}

export interface ResolvedPoolConfig {
  name: string;
  adapter: string;
  size: number;
  pythonPath: string[];
  env: Record<string, string>;
  startupTimeoutMs: number;
  requestTimeoutMs: number;
  streamTimeoutMs: number;
  queue: { max: number; timeoutMs: number | undefined };
  codec: 'auto' | CodecName;
  workerConcurrency: number;
  pipelineDepth: number;
  maxFrameBytes: number;
  python: ResolvedPython;
  cwd: string | undefined;
  killGraceMs: number;
  affinity: AffinityMode;
}

export interface ResolvedConfig {
  pools: ResolvedPoolConfig[];
  logger: Logger;
  closeTimeoutMs: number;
  killGraceMs: number;
  sessions: { ttlMs: number; cleanupIntervalMs: number };
}
