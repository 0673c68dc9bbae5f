/**
 * What the benchmark needs of a system under test. Each driver calls Python the way its library's documentation
 * recommends; optional members are workloads a system cannot do (reported as "n/a" with the reason).
 */

export interface DriverOptions {
  /** Python interpreter every system must use (the same one, so only the bridge differs). */
  python: string;
  /** Worker processes, where the system has such a thing. */
  workers: number;
  /** Directory of bench_funcs.py / bench_adapter.py / shell_server.py. */
  pythonDir: string;
  /** snakepit: fork workers from the pool's template (its default on Linux), or start each cold (false). */
  template?: boolean;
}

export interface BenchDriver {
  /** Worker processes actually used (1 for single-process bridges, 0 for an in-process interpreter). */
  readonly workers: number;
  add(a: number, b: number): Promise<number>;
  sumList(values: number[]): Promise<number>;
  /** Float64Array in, its sum out; absent when the system cannot pass typed arrays. */
  sumF64?(values: Float64Array): Promise<number>;
  cpu(ms: number): Promise<unknown>;
  sleep(ms: number): Promise<unknown>;
  /** Consume a stream of `n` chunks; resolves with the number received. Absent when unsupported. */
  stream?(n: number): Promise<number>;
  /** Float64Array in, `x * 2` (computed by numpy) back; absent when the system cannot pass typed arrays. */
  doubleF64?(values: Float64Array): Promise<ArrayLike<number>>;
  /** An apache-arrow Table to a pandas DataFrame and back; absent when neither tables nor bytes cross. */
  tableRoundTrip?(table: import('apache-arrow').Table): Promise<import('apache-arrow').Table>;
  /** Bytes in, the same bytes back; absent when the system has no bytes type. */
  echoBytes?(data: Buffer): Promise<Uint8Array>;
  /** Call a function that ends the Python process with os._exit (robustness table). */
  die(): Promise<unknown>;
  /** Call a function that raises ValueError('bench failure marker') two frames deep. */
  fail(): Promise<unknown>;
  /** `sleep(ms)` bounded by the system's own timeout mechanism; absent when it has none. */
  sleepWithTimeout?(ms: number, timeoutMs: number): Promise<unknown>;
  /**
   * Keep a counter in a session's Python state, replace the worker holding it on purpose (a planned recycle), and
   * return the counter's values before and after; absent when the system has no sessions or recycling.
   */
  counterAcrossRecycle?(): Promise<{ before: number; after: number }>;
  /**
   * Start a second pool whose adapter cannot import until `gateFile` exists, then create the file: resolves with
   * what a call answered while it was broken, and how long until calls succeed on their own; absent when the
   * system does not supervise workers.
   */
  healAfterFix?(gateFile: string): Promise<{ brokenError: string; brokenMs: number; healedMs: number }>;
  /**
   * Start two pools, one whose adapter cannot import (`gateFile` is never created): with the default start policy
   * (which should refuse, naming the error) and with the one that starts what can start (the healthy pool should
   * serve, the broken one fail fast); absent when the system has no pools.
   */
  brokenBesideHealthy?(gateFile: string): Promise<{
    defaultPolicy: string;
    healthyOk: boolean;
    healthyMs: number;
    brokenError: string;
    brokenMs: number;
  }>;
  /** Pids of the Python processes (for RSS); empty for an in-process interpreter. */
  pythonPids(): number[];
  close(): Promise<void>;
}

export interface SystemSpec {
  /** Stable key, e.g. `snakepit-msgpack`. */
  id: string;
  /** Shown in tables. */
  label: string;
  /** Why the system cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  start(options: DriverOptions): Promise<BenchDriver>;
}
