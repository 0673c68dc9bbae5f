/**
 * Configuration: the all-optional input a user writes (`SnakepitConfig`) and the all-required resolved form the
 * engine runs on (`ResolvedConfig`). `resolveConfig` turns one into the other once, at the edge.
 */
import type { GracefulOption, GracefulWire } from './graceful.js';
import type { CodecName } from '../protocol/messages.js';
import type { Logger, LogLevel } from '../util/logger.js';
import type { PoolHooks, ResolvedHooks } from '../hooks/adapter-hooks.js';
import type { CommandConfig, RuntimeKind } from './runtime-config.js';
import type { RayBackendConfig, ResolvedRayBackend } from '../ray/ray-config.js';

export interface QueueConfig {
  /** Most calls waiting for a worker; one more is refused with PoolSaturatedError. Default 10,000. */
  max?: number;
  /** Longest a call waits for a worker before QueueTimeoutError. Default: no separate limit (the call timeout applies). */
  timeoutMs?: number;
}

export interface HeartbeatConfig {
  /** How often the host pings each worker. Default 2,000 ms. */
  intervalMs?: number;
  /**
   * A worker that has sent nothing (not even a pong) for this long is hung — e.g. stuck in C code holding the GIL —
   * and is killed and replaced. At least 2 × intervalMs. Default 30,000 ms.
   */
  timeoutMs?: number;
  /**
   * A worker that has heard nothing from the host for this long exits on its own (a frozen or vanished host). At
   * least 2 × intervalMs. Default 60,000 ms.
   */
  hostTimeoutMs?: number;
}

export interface RecycleConfig {
  /** Replace a worker once it has been ready this long. Default: never. */
  ttlMs?: number;
  /** Replace a worker once it has answered this many calls. Default: never. */
  maxRequests?: number;
  /** Replace a worker once its resident memory exceeds this many MiB (read from /proc; Linux). Default: never. */
  maxRssMb?: number;
  /** How often age and memory are checked. Default 1,000 ms. */
  checkIntervalMs?: number;
}

/**
 * Hard limits on each local worker process, set in the worker before the adapter is imported (docs/RELIABILITY.md,
 * "Limits"). Unlike `recycle.maxRssMb`, which renews a worker after a call, these stop the call that crosses them.
 */
export interface LimitsConfig {
  /**
   * The most memory a worker may allocate, in MiB (its private writable memory, Linux's RLIMIT_DATA, plus a
   * sampler for what that does not count). An allocation past it fails with Python's `MemoryError`; memory it
   * cannot refuse gets the worker killed (`WorkerCrashedError`, kind `oom_kill`). At least 64. Default: none.
   */
  memoryMb?: number;
  /** The CPU time one call may use, in seconds (whole seconds); past it the call fails with `CpuLimitExceeded`. */
  cpuSeconds?: number;
  /** The most descriptors a worker may have open (RLIMIT_NOFILE); one more is `OSError` EMFILE. At least 16. */
  openFiles?: number;
}

export interface RestartConfig {
  /**
   * Consecutive failed replacements (a worker that fails to start, or dies on its own right after) before the pool
   * reports itself degraded (`pool:degraded`); it keeps trying, `maxBackoffMs` apart at most, and reports
   * `pool:recovered` once back to size (`pit.resume(pool)` tries at once). Default 10.
   */
  maxAttempts?: number;
  /** Delay before the second attempt; each further attempt doubles it. Default 100 ms. */
  initialBackoffMs?: number;
  /** The longest delay between attempts, degraded or not. Default 30,000 ms. */
  maxBackoffMs?: number;
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
  /**
   * The folder holding the Python package `snakepit_bridge/` (the npm package's `python/` folder), for an app
   * bundled with esbuild, Electron or pkg that ships that folder beside itself. Default: `SNAKEPIT_BRIDGE_PATH`,
   * then this installation's own `python/`. Top level only.
   */
  bridgePath?: string;
}

/** A package to install on start when its module is missing (opt-in; see docs/GENERIC_ADAPTER.md). */
export interface LibraryInstall {
  /** The pip distribution name, with optional extras: `numpy`, `pandas[excel]`. */
  package: string;
  /** A version: `1.26.4` (exact) or clauses such as `>=1.26,<3`. */
  version?: string;
}

/** One Python library exposed by the generic adapter as `python.<namespace>.<function>` tools. */
export interface LibraryConfig {
  /** Unique name of the library in this pool. */
  name: string;
  /** The module to import, e.g. `numpy` or `docling.document_converter`. */
  module: string;
  /** Tool prefix: `python.<namespace>.<function>`. Default: `name`. */
  namespace?: string;
  /**
   * The functions callers may use (paths such as `DataFrame.describe` allowed). With the default `expose` these
   * (and `aliases`) are all the library serves.
   */
  functions?: string[];
  /** Functions never exposed. */
  exclude?: string[];
  /** Extra names: `{ parse: 'convert_document' }` makes `python.<namespace>.parse`. */
  aliases?: Record<string, string>;
  /**
   * What the library serves: `listed` (default) only `functions` and `aliases`; `public` also every public
   * callable of the module — only for callers you trust (docs/SECURITY.md). `toLlmTools` exports only listed ones.
   */
  expose?: 'listed' | 'public';
  /**
   * Allow a module that can run processes or code (`os`, `subprocess`, `pickle`, `shutil`, `sys`, ...; the list
   * is in docs/GENERIC_ADAPTER.md), and functions of such modules re-exported by a library. Default false.
   */
  allowUnsafe?: boolean;
  /** Import on first use instead of at worker start. Default false. */
  lazy?: boolean;
  /** Install the package on start when the module cannot be imported (opt-in). */
  install?: LibraryInstall;
  /** Python-side hooks around each call: `timing`, `log`, `cache`, or `module:attr` of your own. */
  hooks?: string[];
  /**
   * pandas DataFrames by value: `records` (a list of row objects, default), `columns` (an object of columns) or
   * `arrow` (an apache-arrow Table; needs pyarrow in the worker and apache-arrow on the host, docs/DATA.md).
   */
  dataframes?: 'records' | 'columns' | 'arrow';
  /** numeric numpy arrays: `typed` (an NDArray with dtype, shape and a typed array, default) or `lists`. */
  arrays?: 'typed' | 'lists';
  /** Entries of the `cache` hook. Default 1024. */
  cacheSize?: number;
}

export interface PoolConfig {
  /** Pool name, used in `execute(..., { pool })`. */
  name: string;
  /**
   * Adapter class, `package.module:Class` (or `package.module.Class`). Optional when `libraries` is given:
   * the generic adapter then serves the libraries alone, or wraps this adapter and serves both.
   */
  adapter?: string;
  /** Python libraries callable as `python.<namespace>.<function>`, with no adapter code. */
  libraries?: LibraryConfig[];
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
  /**
   * How a worker runs calls (docs/PROFILES.md): `process` (default) runs one sync call at a time per worker;
   * `thread` runs up to `threadsPerWorker` calls at once, sync tools on the worker's thread pool. A thread pool
   * needs an adapter that declares `__thread_safe__`.
   */
  profile?: WorkerProfile;
  /** Profile `thread`: the worker's threads, and so the calls it runs at once (its capacity). Default 8. */
  threadsPerWorker?: number;
  /**
   * Threads each native math library (OpenMP, OpenBLAS, MKL, BLIS, Accelerate, numexpr) may start in a worker:
   * sets `OMP_NUM_THREADS` and its kin. Default: the host's own values of those variables, else 1. A pool's
   * `env` still wins for any one of them.
   */
  nativeThreads?: number;
  /** Profile `process`: calls one worker runs at once (>1 only helps async adapters). Default 1. */
  workerConcurrency?: number;
  /**
   * Calls that may wait inside a busy worker behind fast calls (host-measured < 2 ms), to cut round trips under
   * load. 1 turns pipelining off. Default 32.
   */
  pipelineDepth?: number;
  /**
   * After answering a second lone call in a row, how long (µs) a local worker keeps polling for the next one before
   * it sleeps. On virtual machines a sleeping CPU wakes slowly, so this cuts sequential latency (about 80 → 50 µs per
   * call on our bench VM) for at most this much CPU per call; a worker answering batches never polls, and one whose
   * poll found nothing skips the next 1, 2, 4 … 16 chances. 0 turns it off. Default 50.
   */
  spinUs?: number;
  /** Largest frame either way, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * Large binary values (typed arrays, `Buffer`, `ArrayBuffer`, `NDArray`; numpy arrays and bytes results) of a
   * local worker travel in shared memory (/dev/shm) from `minBytes` on (default 64 KiB), not in the frame; numpy
   * gets a read-only view (docs/DATA.md). `false` sends them inline. Remote workers always get them inline.
   */
  sharedMemory?: boolean | { minBytes?: number };
  /**
   * Result values with no by-value form become a marker (`{ __ffi_unserializable__: true, __type__ }`, plus
   * `__repr__` with `{ repr: true }`) instead of failing the call, in or out of a session (docs/VALUES.md).
   * Default false: such a call fails with SerializationError, or, in a session, the value comes back as a PyRef.
   */
  graceful?: GracefulOption;
  /** Interpreter for this pool only. */
  python?: PythonConfig;
  /** Working directory of the workers. Default: the host's. */
  cwd?: string;
  /** Liveness checks both ways; `false` turns them off (the worker still leaves on end of file or parent death). */
  heartbeat?: HeartbeatConfig | false;
  /** Replace workers by age, calls served or memory; a replacement is ready before the old worker stops. */
  recycle?: RecycleConfig;
  /**
   * How many times a call marked `idempotent: true` is retried on another worker when its worker dies under it.
   * Calls not so marked are never retried. Default 1.
   */
  maxRetries?: number;
  /** Replacing workers that died. */
  restart?: RestartConfig;
  /** Hard per-worker limits (memory, CPU per call, descriptors); local workers only. */
  limits?: LimitsConfig;
  /**
   * Session affinity, named as in Snakepit (docs/SESSIONS.md has the table):
   * - `strict_queue` (default; alias `strict`): a session's calls run only on its worker, waiting for it when it
   *   is busy. When the worker is recycled, the session's state moves to the replacement; when it dies, the
   *   session's next call fails with SessionLostError and the session continues on another worker, its state gone.
   * - `strict_fail_fast`: the same, but a call whose worker is busy fails at once with WorkerBusyError, and after
   *   the worker died every call fails with SessionLostError until the session is deleted.
   * - `hint` (alias `prefer`): the session's worker when it has room, any worker otherwise; no call ever fails
   *   because of affinity (state may be missing where it runs).
   */
  affinity?: AffinityMode | 'strict' | 'prefer';
  /**
   * Workers started at once when the pool starts (or refills): the next batch starts when one is ready, so a large
   * pool does not import its adapter 100 times at once. Default 8.
   */
  startupBatchSize?: number;
  /** Pause between two start-up batches. Default 0. */
  startupBatchDelayMs?: number;
  /**
   * Fast start (docs/WORKERS.md): a template process imports the bridge, the adapter's module, the modules of
   * `libraries` and `preload` once, and forks each worker from it, ready in milliseconds and sharing its pages.
   * `initialize()` still runs in each worker. Default: on for Python workers on Linux; off elsewhere (fork without
   * exec is unsafe on macOS), and a pool whose adapter declares `__fork_safe__ = False`, or whose imports start
   * threads or open sockets, starts its workers cold.
   */
  template?: boolean | { enabled?: boolean; preload?: string[] };
  /** How the pool reaches its workers (`local`, `grpc`, `snakepit`). Default `local`. */
  transport?: TransportKind;
  /** With transport `grpc`: the remote endpoints (`"host:port"`), or a resolver function. */
  endpoints?: string[] | EndpointResolver;
  /** With transport `grpc`: security, keepalive, reconnection. */
  grpc?: GrpcConfig;
  /** With transport `snakepit`: the worker command. */
  snakepit?: SnakepitStyleConfig;
  /**
   * What the workers run (docs/WORKERS.md): `"python"` (the default: the bridge with `adapter`), `"node"` (the
   * Node.js worker runtime serving the exports of `module`), or `"command"` (any executable speaking the local
   * protocol, given as `command`).
   */
  runtime?: RuntimeKind;
  /** With runtime `node`: the JavaScript module whose exported functions are the tools. */
  module?: string;
  /** With runtime `command`: the program, script and arguments of a worker that speaks the local protocol. */
  command?: CommandConfig;
  /** Host-side adapter hooks: argument validation and transformation, result post-processing, per-tool timeouts. */
  hooks?: PoolHooks;
  /** Where the workers run: `{ kind: 'ray', … }` makes each a Ray actor (docs/DISTRIBUTED.md). Default: local processes. */
  backend?: RayBackendConfig;
}

/** Session affinity modes (Snakepit's names; `strict` and `prefer` are accepted as aliases). */
export type AffinityMode = 'hint' | 'strict_queue' | 'strict_fail_fast';

/**
 * How a pool reaches its workers:
 * - `local`: spawned child processes on a private socket pair (the default);
 * - `grpc`: remote workers, one long-lived gRPC stream each, to `python -m snakepit_bridge serve --grpc` endpoints
 *   (plus `size` local workers, 0 by default: a mixed pool);
 * - `snakepit`: spawned child processes driven through Snakepit's BridgeService RPCs (interop with Python workers
 *   written for Snakepit).
 */
export type TransportKind = 'local' | 'grpc' | 'snakepit';

/** A pool's `template`, resolved: whether workers fork from a template, and the modules it imports besides the adapter's. */
export interface ResolvedTemplate {
  enabled: boolean;
  preload: string[];
}
export type WorkerProfile = 'process' | 'thread';

/**
 * Where a pool's remote workers are, asked at start and every `grpc.resolveIntervalMs` (DNS-based discovery such
 * as a Kubernetes headless Service: see `dnsEndpoints`). Returns `"host:port"` strings.
 */
export type EndpointResolver = () => string[] | Promise<string[]>;

export interface GrpcTlsConfig {
  /** CA bundle that signed the servers' certificates (file path or PEM); default: the system's roots. */
  ca?: string | Buffer;
  /** Client certificate chain, for servers that require one (file path or PEM). */
  cert?: string | Buffer;
  /** The client certificate's private key (file path or PEM). */
  key?: string | Buffer;
  /** The name the servers' certificates carry, when it differs from the endpoint's host (e.g. an IP). */
  serverName?: string;
}

export interface GrpcConfig {
  /** Worker processes (streams) per endpoint. Default 1. */
  workersPerEndpoint?: number;
  /** Sent to the servers as `authorization: Bearer <token>`. Default: `SNAKEPIT_GRPC_TOKEN`. At least 16 characters. */
  token?: string;
  /** TLS with server verification (`true`: the system's roots), optionally with a client certificate. */
  tls?: GrpcTlsConfig | boolean;
  /** Allow endpoints off this machine without TLS. Default false. */
  insecure?: boolean;
  /** Longest wait for an endpoint to accept a connection. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** HTTP/2 keepalive ping interval; a link silent for this plus 3 s is dead. Default 2,000 ms. */
  keepaliveMs?: number;
  /** How often a resolver function is asked again. Default 10,000 ms. */
  resolveIntervalMs?: number;
  /** Reconnecting to a lost endpoint, in the background: first delay, doubling up to the maximum. */
  reconnect?: { initialBackoffMs?: number; maxBackoffMs?: number };
}

export interface SnakepitStyleConfig {
  /**
   * The worker's command, to which `--adapter`, `--port 0`, `--elixir-address` and `--snakepit-run-id` are
   * appended. Default: this package's bridge in Snakepit mode (`python -m snakepit_bridge serve --snakepit`).
   */
  command?: string[];
  /** Let the worker send heartbeats to the host (Snakepit's default). Default true. */
  heartbeat?: boolean;
}

export interface SessionsConfig {
  /** A session not used for this long ends (its Python state is dropped). Default 3,600,000 ms (1 h). */
  ttlMs?: number;
  /** How often expired sessions are looked for. Default 60,000 ms. */
  cleanupIntervalMs?: number;
}

export interface ToolsConfig {
  /**
   * Deepest chain of host tools: Python → host tool → Python → host tool … is cut with NestingDepthError past
   * this many host-tool hops. Default 8.
   */
  maxDepth?: number;
}

export interface TelemetryConfig {
  /**
   * Per-call telemetry: the latency and queue-wait histograms of `pit.stats()` and `pit.metrics()`, the events
   * `call:start` / `call:stop` / `call:exception`, and OpenTelemetry spans. Lifecycle events, counters and logs
   * stay on either way. Default true.
   */
  calls?: boolean;
  /**
   * OpenTelemetry spans per call (via `@opentelemetry/api`, an optional peer dependency): `"auto"` when it is
   * installed, `true` requires it (ConfigError otherwise), `false` never. A span is recorded only while the
   * application has registered a tracer provider (an SDK). Default `"auto"`.
   */
  tracing?: boolean | 'auto';
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
  /**
   * Close every pool gracefully on SIGINT/SIGTERM (a second signal forces), then let the signal end the process.
   * Default false (`Snakepit.runAsScript`: true).
   */
  handleSignals?: boolean;
  /**
   * Directory of the process registry (live workers per host, so the next start can sweep what a dead host left),
   * or `false` for none. Default `SNAKEPIT_REGISTRY_DIR`, else `<os.tmpdir()>/snakepit-<uid>`.
   */
  registryDir?: string | false;
  /** Host tools (`pit.tools`): limits of the tool bridge. */
  tools?: ToolsConfig;
  /** Per-call telemetry and tracing (docs/TELEMETRY.md); `false` turns both off. Default: on, tracing `"auto"`. */
  telemetry?: boolean | TelemetryConfig;
  /**
   * What `Snakepit.start` does when a pool cannot start: `"all"` (default) rejects with the failure and stops every
   * pool (nothing half-started); `"available"` resolves with the pools that started — a pool whose workers failed
   * is degraded (`pit.stats(pool).state`, `pit.doctor()`), fails calls at once with its WorkerStartError, and keeps
   * trying with back-off until it recovers (`pool:recovered`).
   */
  startPolicy?: StartPolicy;
}

export type StartPolicy = 'all' | 'available';

export interface ResolvedPython {
  executable: string;
  /** Why this interpreter was chosen, e.g. `SNAKEPIT_PYTHON`, `./.venv`, `python3 on PATH`. */
  source: string;
  /** What resolution passed over on the way (e.g. a `VIRTUAL_ENV` without an interpreter). */
  notes?: string[];
}

export interface ResolvedLibraryConfig {
  name: string;
  module: string;
  namespace: string;
  functions: string[] | undefined;
  exclude: string[];
  aliases: Record<string, string>;
  expose: 'listed' | 'public';
  allowUnsafe: boolean;
  lazy: boolean;
  install: { package: string; version: string | undefined } | undefined;
  hooks: string[];
  dataframes: 'records' | 'columns' | 'arrow';
  arrays: 'typed' | 'lists';
  cacheSize: number;
}

/** A PEM value as configured: a file path (read by `locateConfig`) or the PEM data. */
export type PemSource = string | Buffer;

/** The `grpc` section checked, its TLS files not yet read. */
export interface CheckedGrpcConfig extends Omit<ResolvedGrpcConfig, 'tls'> {
  tls:
    | {
        ca: PemSource | undefined;
        cert: PemSource | undefined;
        key: PemSource | undefined;
        serverName: string | undefined;
      }
    | undefined;
}

export interface ResolvedGrpcConfig {
  /** A static list, or a resolver asked at start and every resolveIntervalMs. */
  endpoints: { list: string[]; resolver: undefined } | { list: undefined; resolver: EndpointResolver };
  workersPerEndpoint: number;
  token: string | undefined;
  tls:
    | {
        ca: Buffer | undefined;
        cert: Buffer | undefined;
        key: Buffer | undefined;
        serverName: string | undefined;
      }
    | undefined;
  insecure: boolean;
  connectTimeoutMs: number;
  keepaliveMs: number;
  resolveIntervalMs: number;
  reconnect: { initialBackoffMs: number; maxBackoffMs: number };
}

export interface ResolvedSnakepitStyle {
  command: string[] | undefined;
  heartbeat: boolean;
}

/**
 * A pool as the pure `resolveConfig` leaves it: every option checked and defaulted. What must be found on this
 * machine (the interpreter, the bridge's folder, the Node runtime's entry, TLS files) is only described here;
 * `locateConfig`, run by `Snakepit.start`, finds it and gives the ResolvedPoolConfig the workers run with.
 */
export interface CheckedPoolConfig {
  name: string;
  /** How to find the interpreter (`python` of the pool over the top level's, and the pool's `cwd`). */
  interpreter: InterpreterRequest;
  /** The top-level `python.bridgePath`, if given (else `SNAKEPIT_BRIDGE_PATH`, else this installation's). */
  bridgePath: string | undefined;
  /** The adapter the workers run: the configured one, or the generic adapter when there are libraries. */
  adapter: string;
  libraries: ResolvedLibraryConfig[];
  size: number;
  pythonPath: string[];
  env: Record<string, string>;
  startupTimeoutMs: number;
  requestTimeoutMs: number;
  streamTimeoutMs: number;
  queue: { max: number; timeoutMs: number | undefined };
  codec: 'auto' | CodecName;
  profile: WorkerProfile;
  /** Set for profile `thread` (then equal to workerConcurrency and pipelineDepth). */
  threadsPerWorker: number | undefined;
  nativeThreads: number | undefined;
  workerConcurrency: number;
  pipelineDepth: number;
  spinUs: number;
  maxFrameBytes: number;
  sharedMemory: { enabled: boolean; minBytes: number };
  graceful: GracefulWire | undefined;
  cwd: string | undefined;
  killGraceMs: number;
  affinity: AffinityMode;
  startupBatchSize: number;
  startupBatchDelayMs: number;
  /** Undefined when heartbeats are off. */
  heartbeat: { intervalMs: number; timeoutMs: number; hostTimeoutMs: number } | undefined;
  recycle: {
    ttlMs: number | undefined;
    maxRequests: number | undefined;
    maxRssMb: number | undefined;
    checkIntervalMs: number;
  };
  maxRetries: number;
  restart: { maxAttempts: number; initialBackoffMs: number; maxBackoffMs: number };
  limits: ResolvedLimits;
  /** Fork workers from a warm template (template-config.ts). */
  template: ResolvedTemplate;
  transport: TransportKind;
  /** Set for transport `grpc`. `size` then counts the pool's local workers (0 by default). TLS files unread. */
  grpc: CheckedGrpcConfig | undefined;
  /** Set for transport `snakepit`. */
  snakepit: ResolvedSnakepitStyle | undefined;
  runtime: RuntimeKind;
  /** Runtime `node`: the absolute path of the module whose exports are the tools. */
  module: string | undefined;
  /** Runtime `command`: the worker's command line, executable first (runtime `node`: set by locateConfig). */
  command: string[] | undefined;
  hooks: ResolvedHooks | undefined;
  /** Set when the workers are Ray actors. */
  backend: ResolvedRayBackend | undefined;
}

/** How to find a pool's interpreter: the resolution order of `findPython` / `resolvePython` with these inputs. */
export interface InterpreterRequest {
  executable: string | undefined;
  strategy: 'auto' | 'uv' | undefined;
  version: string | undefined;
  /** The pool's `cwd` (where `./.venv` is looked for); undefined: the host's. */
  cwd: string | undefined;
}

/** A pool as the workers run it: CheckedPoolConfig with what `locateConfig` found on this machine. */
export interface ResolvedPoolConfig extends CheckedPoolConfig {
  /** The folder holding `snakepit_bridge/`, first on the workers' PYTHONPATH (`python.bridgePath`). */
  bridgeDir: string;
  python: ResolvedPython;
  grpc: ResolvedGrpcConfig | undefined;
}

export interface ResolvedLimits {
  memoryMb: number | undefined;
  cpuSeconds: number | undefined;
  openFiles: number | undefined;
}

/** The whole config as the pure `resolveConfig` leaves it (see CheckedPoolConfig). */
export interface CheckedConfig {
  pools: CheckedPoolConfig[];
  logger: Logger;
  closeTimeoutMs: number;
  killGraceMs: number;
  sessions: { ttlMs: number; cleanupIntervalMs: number };
  handleSignals: boolean;
  /** Undefined when the registry is off. */
  registryDir: string | undefined;
  tools: { maxDepth: number };
  telemetry: { calls: boolean; tracing: boolean | 'auto' };
  startPolicy: StartPolicy;
}

/** The config a Snakepit runs with: CheckedConfig after `locateConfig`. */
export interface ResolvedConfig extends CheckedConfig {
  pools: ResolvedPoolConfig[];
}

/**
 * What `resolveConfig` reads of the host, passed in so the resolution stays a function of its arguments (tests
 * give their own): the environment (`SNAKEPIT_LOG_LEVEL`, `SNAKEPIT_REGISTRY_DIR`, `SNAKEPIT_GRPC_TOKEN`), the
 * working directory relative paths are resolved against, the default pool size, the registry's default folder.
 */
export interface HostFacts {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The default `size` of a local pool (the machine's available parallelism). */
  parallelism: number;
  /** The default `registryDir`. */
  defaultRegistryDir: string;
}
