/**
 * Snakepit: the public facade. It checks arguments, picks the pool and delegates; the engine (pools, workers,
 * channels) lives in private fields users cannot reach.
 */
import { registerArrowTables } from './arrow/arrow-tables.js';
import { afterCall, beforeCall, hasResultHooks } from './hooks/adapter-hooks.js';
import {
  type CallMethodOptions,
  callGraceful,
  checkCallOptions,
  checkCallShape,
  checkOptionsObject,
  type ExecuteOptions,
  type RefCallOptions,
  type StreamOptions,
  streamWindow,
  type ToolArgs,
} from './call/call-options.js';
import { locateConfig } from './config/locate-config.js';
import { resolveConfig } from './config/resolve-config.js';
import type { CheckedConfig, ResolvedConfig, SnakepitConfig } from './config/config-types.js';
import { adoptCallerStack } from './errors/caller-stack.js';
import type { Dashboard, DashboardOptions } from './dashboard/dashboard.js';
import type { DashboardSource } from './dashboard/dashboard-source.js';
import { ConfigError, InvalidArgumentsError, PoolClosedError } from './errors/errors.js';
import type { DoctorReport } from './doctor/doctor-types.js';
import { poolsReport } from './doctor/pool-checks.js';
import { describeLibrary } from './generic/describe-library.js';
import { installMissingLibraries } from './generic/library-install.js';
import type { LibraryInfo, ToolSpec } from './protocol/messages.js';
import { allocateCallId, Call } from './call/call.js';
import { ChunkStream } from './call/chunk-stream.js';
import { Pool } from './pool/pool.js';
import type { PoolStats, WorkerInfo } from './pool/pool-stats.js';
import type { PyRef } from './refs/py-ref.js';
import { attrCall, methodCall, type RefCall } from './refs/ref-calls.js';
import { RefManager } from './refs/ref-manager.js';
import { SessionStore, type Sessions } from './session/session-store.js';
import { sweepOrphans } from './orphans/orphan-sweep.js';
import { ProcessRegistry } from './orphans/process-registry.js';
import { registerForSignals, unregisterForSignals } from './shutdown/signal-handler.js';
import type { EventBus, Listener, SnakepitEventName, SnakepitEvents } from './telemetry/event-bus.js';
import type { PromRegistry } from './telemetry/prometheus.js';
import { Telemetry, type TelemetrySources } from './telemetry/telemetry.js';
import { type CallTracer, loadCallTracer } from './telemetry/tracing.js';
import { HostCallRouter } from './tools/host-call-router.js';
import { type HostTools, ToolRegistry } from './tools/tool-registry.js';
import { nestedCallOptions } from './tools/tool-scope.js';
import { EarlyWorker } from './worker/early-worker.js';
import { newRunId } from './worker/worker-handle.js';

// Tables cross as Arrow; apache-arrow itself loads when the first one does (arrow-tables.ts).
registerArrowTables();

export type { CallMethodOptions, ExecuteOptions, RefCallOptions, StreamOptions, ToolArgs };

/** What `Snakepit.start` does before it builds the instance: the run's id and record, and first workers. */
interface BegunStart {
  runId: string;
  registry: ProcessRegistry | undefined;
  /** Each pool's first worker, spawned already where it is a cold local one (worker/early-worker.ts). */
  workers: Map<string, EarlyWorker>;
}

/** The run's id and its record in the process registry, written before any worker of the run is spawned. */
function openRun(config: CheckedConfig): { runId: string; registry: ProcessRegistry | undefined } {
  const runId = newRunId();
  const registry = config.registryDir
    ? ProcessRegistry.open(config.registryDir, runId, config.logger)
    : undefined;
  return { runId, registry };
}

/**
 * Spawn each pool's first cold worker, so that the interpreter starts while the host builds the rest
 * (docs/PERFORMANCE.md, "Start of one worker"). The run's record comes first (`openRun`): a sweep after this
 * host's death finds its workers by it and by the run's marker in their environment (orphans/orphan-sweep.ts).
 */
function spawnFirstWorkers(
  config: ResolvedConfig,
  run: { runId: string; registry: ProcessRegistry | undefined },
): BegunStart {
  const workers = new Map<string, EarlyWorker>();
  try {
    for (const pool of config.pools) {
      const early = EarlyWorker.spawn(pool, run.runId);
      if (early) workers.set(pool.name, early);
    }
  } catch (err) {
    for (const early of workers.values()) early.abandon();
    run.registry?.close();
    throw err;
  }
  return { ...run, workers };
}

export class Snakepit implements AsyncDisposable {
  readonly #config: ResolvedConfig;
  readonly #pools: Map<string, Pool>;
  readonly #defaultPool: Pool;
  readonly #events: EventBus;
  #maxListeners = 10;
  readonly #telemetry: Telemetry;
  readonly #runId: string;
  readonly #sessions: SessionStore;
  readonly #refs: RefManager;
  readonly #registry: ProcessRegistry | undefined;
  readonly #tools = new ToolRegistry();
  readonly #dashboards = new Set<Dashboard>();
  #closing: Promise<void> | undefined;

  private constructor(config: ResolvedConfig, begun: BegunStart) {
    this.#config = config;
    this.#runId = begun.runId;
    this.#registry = begun.registry;
    this.#telemetry = new Telemetry({
      runId: this.#runId,
      logger: config.logger,
      calls: config.telemetry.calls,
    });
    this.#events = this.#telemetry.events;
    this.#refs = new RefManager(this.#runId, (pool, workerId, message) => {
      for (const p of pool === undefined ? this.#pools.values() : [this.#pools.get(pool)]) {
        p?.notify(workerId, message);
      }
    });
    this.#sessions = new SessionStore({
      ...config.sessions,
      onCreate: (session) => this.#events.emit('session:created', { session }),
      onEnd: (session, servedBy, reason) => {
        for (const [pool, workers] of servedBy) {
          for (const w of workers) this.#pools.get(pool)?.notify(w, { type: 'session_end', session });
        }
        for (const pool of this.#pools.values()) pool.sessionEnded(session);
        this.#refs.sessionEnded(session);
        this.#tools.clearSession(session);
        this.#events.emit('session:ended', { session, reason });
        if (reason === 'expired') this.#events.emit('session:expired', { session });
      },
    });
    const router = new HostCallRouter({
      registry: this.#tools,
      runId: this.#runId,
      maxDepth: config.tools.maxDepth,
    });
    this.#pools = new Map(
      config.pools.map((p) => [
        p.name,
        new Pool(p, {
          logger: this.#telemetry.logger,
          events: this.#events,
          telemetry: this.#telemetry.forPool(p.name),
          runId: this.#runId,
          sessions: this.#sessions,
          registry: this.#registry,
          early: begun.workers.get(p.name),
          onHostCall: (worker, message) => router.handle(worker, message),
          onRefsLost: (session, lost, why) => this.#refs.lost(session, lost, why),
        }),
      ]),
    );
    this.#defaultPool = this.#pools.get(config.pools[0]!.name)!;
  }

  /**
   * Validate the config (`resolveConfig`, pure), find each pool's interpreter and files (`locateConfig`, without
   * blocking the event loop), start every pool's workers concurrently, and resolve when all are ready.
   * @throws ConfigError / PythonEnvError for a bad config or a missing interpreter
   * @throws WorkerStartError (with the Python traceback) when a worker fails to start; nothing is left running
   */
  static async start(config: SnakepitConfig): Promise<Snakepit> {
    const checked = resolveConfig(config);
    // The interpreter's lookup waits on file checks in libuv's thread pool (or on `uv`): the sweep and the run's
    // record, which need only the checked config, are done meanwhile. Both still precede every spawn.
    const locating = locateConfig(checked);
    locating.catch(() => undefined); // awaited below: a rejection while the sweep runs is not unhandled
    if (checked.registryDir) await sweepOrphans(checked.registryDir, { logger: checked.logger });
    const run = openRun(checked);
    let resolved: ResolvedConfig;
    try {
      resolved = await locating;
      await installMissingLibraries(resolved.pools, resolved.logger); // libraries with `install` only
    } catch (err) {
      run.registry?.close();
      throw err;
    }
    const begun = spawnFirstWorkers(resolved, run);
    let pit: Snakepit;
    try {
      pit = new Snakepit(resolved, begun);
    } catch (err) {
      for (const early of begun.workers.values()) early.abandon();
      begun.registry?.close();
      throw err;
    }
    const pools = [...pit.#pools.values()];
    if (resolved.handleSignals) registerForSignals(pit.#signalTarget, resolved.logger);
    const allOrNothing = resolved.startPolicy === 'all';
    const starting = Promise.allSettled(pools.map((p) => p.start(allOrNothing))); // the workers are spawned by now
    // Neither the OpenTelemetry API (unless tracing is true or something is registered with it: tracing.ts) nor
    // apache-arrow (arrow-tables.ts loads it when a table first crosses) is imported here.
    const tracing = await loadCallTracer(resolved.telemetry.tracing).then(
      (tracer): PromiseSettledResult<CallTracer | undefined> => ({ status: 'fulfilled', value: tracer }),
      (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason }),
    );
    const results = [...(await starting), tracing];
    let failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (tracing.status === 'fulfilled') pit.#telemetry.useTracer(tracing.value);
    if (!failed && !allOrNothing && !pools.some((p) => p.serving)) {
      // "available", and nothing is: no pool could start a single worker.
      failed = { status: 'rejected', reason: pools.find((p) => p.startFailure)?.startFailure };
    }
    if (failed) {
      pit.#sessions.close();
      pit.#refs.close();
      await Promise.all(pools.map((p) => p.destroy()));
      pit.#registry?.close();
      unregisterForSignals(pit.#signalTarget);
      throw failed.reason;
    }
    return pit;
  }

  /**
   * Start, run `fn`, and always close, even when `fn` throws. A failure sets `process.exitCode = 1` and is
   * rethrown.
   */
  static async runAsScript<T>(config: SnakepitConfig, fn: (pit: Snakepit) => Promise<T> | T): Promise<T> {
    let pit: Snakepit | undefined;
    try {
      pit = await Snakepit.start({ handleSignals: true, ...config });
      return await fn(pit);
    } catch (err) {
      process.exitCode = 1;
      throw err;
    } finally {
      await pit?.close();
    }
  }

  /**
   * Run a tool on a worker and resolve with its result.
   * @throws PythonError (subclass by exception type), UnknownToolError, InvalidArgumentsError, CallTimeoutError,
   *   AbortError, QueueTimeoutError, PoolSaturatedError, WorkerCrashedError, SerializationError, PoolClosedError
   */
  async execute<T = unknown>(tool: string, args: ToolArgs = {}, options: ExecuteOptions = {}): Promise<T> {
    const call = this.#submit(tool, args, options, undefined);
    try {
      const hooks = this.#pool(options.pool).config.hooks;
      const value = await call.promise;
      // The pool's processResult hooks (adapter-hooks.ts); a pool without them pays no extra await.
      return (
        hooks && hasResultHooks(hooks, tool) ? await afterCall(hooks, tool, call.args, value) : value
      ) as T;
    } catch (err) {
      throw adoptCallerStack(err, new Error());
    }
  }

  /**
   * Run a streaming tool; iterate the chunks as they come. `break` cancels the Python generator.
   * An error after some chunks is thrown by the iteration once those chunks were delivered.
   */
  executeStream<T = unknown>(
    tool: string,
    args?: ToolArgs,
    options?: StreamOptions,
  ): AsyncIterableIterator<T>;
  /** Callback form: `onChunk` runs for each chunk; resolves when the stream ends. */
  executeStream<T = unknown>(
    tool: string,
    args: ToolArgs,
    onChunk: (chunk: T) => void,
    options?: StreamOptions,
  ): Promise<void>;
  executeStream<T = unknown>(
    tool: string,
    args: ToolArgs = {},
    onChunkOrOptions?: StreamOptions | ((chunk: T) => void),
    maybeOptions?: StreamOptions,
  ): AsyncIterableIterator<T> | Promise<void> {
    return this.#stream<T>(tool, args, onChunkOrOptions, maybeOptions, undefined);
  }

  /**
   * Run a tool in a session: on the worker that served the session before (affinity), where its Python state
   * (`ctx.store`, object references) lives. The first call naming a session creates it.
   * @throws SessionLostError in strict affinity when the session's worker is gone (its state with it);
   *   plus everything `execute` throws
   */
  executeInSession<T = unknown>(
    sessionId: string,
    tool: string,
    args: ToolArgs = {},
    options: Omit<ExecuteOptions, 'sessionId'> = {},
  ): Promise<T> {
    return this.execute<T>(tool, args, { ...options, sessionId });
  }

  /** `executeStream` in a session (see `executeInSession`). */
  executeInSessionStream<T = unknown>(
    sessionId: string,
    tool: string,
    args?: ToolArgs,
    options?: Omit<StreamOptions, 'sessionId'>,
  ): AsyncIterableIterator<T>;
  /** Callback form: `onChunk` runs for each chunk; resolves when the stream ends. */
  executeInSessionStream<T = unknown>(
    sessionId: string,
    tool: string,
    args: ToolArgs,
    onChunk: (chunk: T) => void,
    options?: Omit<StreamOptions, 'sessionId'>,
  ): Promise<void>;
  executeInSessionStream<T = unknown>(
    sessionId: string,
    tool: string,
    args: ToolArgs = {},
    onChunkOrOptions?: Omit<StreamOptions, 'sessionId'> | ((chunk: T) => void),
    maybeOptions?: Omit<StreamOptions, 'sessionId'>,
  ): AsyncIterableIterator<T> | Promise<void> {
    return this.#stream<T>(tool, args, onChunkOrOptions, maybeOptions, sessionId);
  }

  /**
   * Call a method of a Python object held by reference: `ref.<method>(*args, **kwargs)` in the worker, in the
   * reference's session. The arguments are spelled as for `execute`: keyword arguments, with positional ones in
   * `_args` (`callMethod(ref, 'add', { _args: [1], scale: 2 })`); the older `callMethod(ref, name, [args],
   * { kwargs })` still works. A result that cannot be sent by value comes back as a new PyRef.
   * @throws InvalidArgumentsError when the reference was released or its session ended; SessionLostError when
   *   its worker is gone; PythonError (e.g. PythonAttributeError) from the method
   */
  async callMethod<T = unknown>(
    ref: PyRef,
    method: string,
    args: ToolArgs | unknown[] = {},
    options: CallMethodOptions = {},
  ): Promise<T> {
    return this.#runRef<T>(methodCall(ref, method, args, options?.kwargs), options);
  }

  /**
   * Read an attribute of a Python object held by reference (a new PyRef if it cannot be sent by value).
   * @throws as `callMethod`
   */
  async getAttr<T = unknown>(ref: PyRef, name: string, options: RefCallOptions = {}): Promise<T> {
    return this.#runRef<T>(attrCall(ref, name), options);
  }

  /** Sessions: create, inspect, update and end them; calls create them on first use. */
  get sessions(): Sessions {
    return this.#sessions;
  }

  /**
   * Host tools: functions Python calls with `ctx.call_host_tool(name, **kwargs)`, global or per session
   * (docs/TOOL_BRIDGE.md). Calls a handler makes with `execute` are nested in the Python call that called it.
   */
  get tools(): HostTools {
    return this.#tools;
  }

  /** Chunks are typed by the caller (`executeStream<Row>`): like `execute<T>`, a promise about Python, not a check. */
  #stream<T>(
    tool: string,
    args: ToolArgs,
    onChunkOrOptions: StreamOptions | ((chunk: T) => void) | undefined,
    maybeOptions: StreamOptions | undefined,
    sessionId: string | undefined,
  ): AsyncIterableIterator<T> | Promise<void> {
    let options = (typeof onChunkOrOptions === 'function' ? maybeOptions : onChunkOrOptions) ?? {};
    if (sessionId !== undefined) options = { ...options, sessionId };
    const stream = new ChunkStream(streamWindow(tool, options));
    this.#submit(tool, args, options, stream);
    const typed = stream as AsyncIterableIterator<unknown> as AsyncIterableIterator<T>;
    if (typeof onChunkOrOptions !== 'function') return typed;
    const onChunk = onChunkOrOptions;
    return (async () => {
      for await (const chunk of typed) onChunk(chunk);
    })();
  }

  async #runRef<T>(ref: RefCall, options: RefCallOptions): Promise<T> {
    checkOptionsObject(ref.tool, options);
    const { timeoutMs, signal, graceful } = options;
    const call = this.#submit(
      ref.tool,
      ref.args,
      { timeoutMs, signal, graceful, pool: ref.pool, sessionId: ref.sessionId },
      undefined,
      ref.workerId,
    );
    try {
      return (await call.promise) as T;
    } catch (err) {
      throw adoptCallerStack(err, new Error());
    }
  }

  /**
   * The tools a pool's adapter offers (from the workers' handshake), or one library's functions:
   * `describe()` / `describe('pool')` list a pool's tools; `describe('python.numpy')` lists the functions of the
   * library with namespace `numpy` (signature and first docstring line each), and `describe('python.numpy.mean')`
   * that one function. A library is looked up in `options.pool`, else in every pool.
   * @throws UnknownToolError when no pool has that namespace or function
   */
  describe(target?: string, options: { pool?: string } = {}): ToolSpec[] {
    if (target === undefined || !target.startsWith('python.') || (this.#pools.has(target) && !options.pool)) {
      return this.#pool(target ?? options.pool).tools();
    }
    return describeLibrary(
      target,
      options.pool !== undefined ? [this.#pool(options.pool)] : [...this.#pools.values()],
    );
  }

  /** The libraries the generic adapter serves in a pool (or in every pool), as its workers advertised them. */
  libraries(pool?: string): Array<LibraryInfo & { pool: string }> {
    const pools = pool !== undefined ? [this.#pool(pool)] : [...this.#pools.values()];
    return pools.flatMap((p) => p.libraries().map((lib) => ({ ...lib, pool: p.name })));
  }

  /** Counters and gauges of one pool, or of every pool keyed by name. */
  stats(pool: string): PoolStats;
  stats(): Record<string, PoolStats>;
  stats(pool?: string): PoolStats | Record<string, PoolStats> {
    if (pool !== undefined) return this.#pool(pool).stats();
    return Object.fromEntries([...this.#pools].map(([name, p]) => [name, p.stats()]));
  }

  /**
   * Every pool's metrics in the Prometheus text exposition format (0.0.4; `METRICS_CONTENT_TYPE`), all named
   * `snakepit_*` (docs/TELEMETRY.md lists them). Rendered by prom-client when it is installed, otherwise by
   * snakepit itself (same metrics, same samples). Read at call time: serve it from your `/metrics` endpoint.
   */
  metrics(): Promise<string> {
    return this.#telemetry.metrics(this.#metricSources);
  }

  /**
   * Add snakepit's metrics to a prom-client registry (default: prom-client's global `register`), next to your
   * own; they are read from the pools at each scrape. Resolves with a function that removes them again.
   * @throws ConfigError when prom-client is not installed; Error from prom-client when the registry already has
   *   snakepit's metrics (from another Snakepit: give each its own registry)
   */
  registerMetrics(registry?: PromRegistry): Promise<() => void> {
    return this.#telemetry.registerMetrics(this.#metricSources, registry);
  }

  readonly #metricSources: TelemetrySources = {
    pools: () => [...this.#pools.values()].map((p) => ({ stats: p.stats(), workers: p.workers() })),
    sessions: () => this.#sessions.stats(),
  };

  /**
   * Try now to bring a pool (or every pool) back to full size. A degraded pool retries on its own, with capped
   * back-off; call this once the cause is fixed. Resolves when the missing workers started (a degraded pool emits
   * `pool:recovered`).
   * @throws WorkerStartError when a worker still fails to start (the pool keeps trying); PoolClosedError
   */
  async resume(pool?: string): Promise<void> {
    const pools = pool !== undefined ? [this.#pool(pool)] : [...this.#pools.values()];
    await Promise.all(pools.map((p) => p.resume()));
  }

  /**
   * The state of every pool as doctor checks: `ok` (serving at full size), `warn` (short of workers, or degraded
   * with some running), `fail` (degraded with none: its calls fail at once), each with what to do.
   */
  doctor(): DoctorReport {
    return poolsReport([...this.#pools.values()].map((p) => p.stats()));
  }

  /**
   * Serve a live, read-only web page of the pools (workers, queue, throughput and latency over the last minutes,
   * sessions, recent errors with their Python tracebacks) and its JSON/Server-Sent Events endpoints, which
   * `snakepit top` reads (docs/DASHBOARD.md). Listens on 127.0.0.1:7433 by default; bound elsewhere it requires a
   * token (generated unless given). The dashboard's code is loaded by this call only. It stops with its
   * `close()` or when this Snakepit closes.
   * @throws ConfigError for a bad option or a port in use; PoolClosedError once closing
   */
  async dashboard(options: DashboardOptions = {}): Promise<Dashboard> {
    if (this.#closing) throw new PoolClosedError('snakepit is closing; no dashboard can start');
    const { startDashboard } = await import('./dashboard/dashboard.js');
    const dashboard = await startDashboard(this.#dashboardSource(), options);
    const close = dashboard.close.bind(dashboard);
    const tracked: Dashboard = Object.freeze({
      ...dashboard,
      close: () => {
        this.#dashboards.delete(tracked);
        return close();
      },
    });
    this.#dashboards.add(tracked);
    if (this.#closing) await tracked.close(); // closed while it started
    return tracked;
  }

  /** What a dashboard reads: the public snapshots, and the latency buckets the public API does not give. */
  #dashboardSource(): DashboardSource {
    return {
      runId: this.#runId,
      stats: () => this.stats(),
      workers: () => this.workers(),
      sessions: this.#sessions,
      on: (event, listener) => this.#events.on(event, listener),
      metrics: () => this.metrics(),
      latencyCounts: (pool, into) => {
        const calls = this.#telemetry.forPool(pool);
        calls?.latency.copyCounts(into);
        return calls !== undefined;
      },
      logError: (message) => this.#telemetry.logger.error({}, message),
    };
  }

  /** One entry per live worker: id, pid, state, load, calls served, codec, Python version, uptime, last error. */
  workers(pool?: string): WorkerInfo[] {
    if (pool !== undefined) return this.#pool(pool).workers();
    return [...this.#pools.values()].flatMap((p) => p.workers());
  }

  /**
   * Replace one worker (see `recycle` in the pool config): its replacement starts and is ready before it stops
   * taking calls, then it finishes what it holds and stops. No call fails. Resolves once the old worker stopped.
   * @throws InvalidArgumentsError when no ready worker has this id; WorkerStartError when the replacement cannot
   *   start (the worker then keeps serving)
   */
  async recycleWorker(id: string): Promise<void> {
    const pool = [...this.#pools.values()].find((p) => p.hasWorker(id));
    if (!pool) {
      const ids = this.workers().map((w) => w.id);
      throw new InvalidArgumentsError(
        'recycleWorker',
        undefined,
        `no live worker has id ${JSON.stringify(id)} (workers: ${ids.join(', ') || 'none'})`,
      );
    }
    return pool.recycleWorker(id);
  }

  /**
   * This host's run id: every worker carries it (`--run-id` on its command line, `SNAKEPIT_RUN_ID` in its
   * environment), and the process registry records it.
   */
  get runId(): string {
    return this.#runId;
  }

  // ── events: Node's EventEmitter interface over the typed event bus ─────────────────────────────────────────
  // `events.once(pit, 'pool:ready')` and `for await (const [e] of events.on(pit, 'call:stop'))` work. The bus
  // keeps what EventEmitter does not: a throwing listener is logged, never thrown into the pool. snakepit never
  // emits 'error' (a failure belongs to its call), so listening for it is harmless and needed by events.once.

  /** Listen to an event (docs/TELEMETRY.md lists them with their payloads). */
  on<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    this.#events.add(event, listener, false);
    return this;
  }

  addListener<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    return this.on(event, listener);
  }

  /** Listen to the next occurrence only. */
  once<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    this.#events.add(event, listener, false, true);
    return this;
  }

  prependListener<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    this.#events.add(event, listener, true);
    return this;
  }

  prependOnceListener<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    this.#events.add(event, listener, true, true);
    return this;
  }

  off<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    this.#events.remove(event, listener);
    return this;
  }

  removeListener<E extends SnakepitEventName>(event: E, listener: Listener<E>): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: SnakepitEventName): this {
    this.#events.removeAll(event);
    return this;
  }

  listeners<E extends SnakepitEventName>(event: E): Array<Listener<E>> {
    return this.#events.listeners(event) as Array<Listener<E>>;
  }

  rawListeners<E extends SnakepitEventName>(event: E): Array<Listener<E>> {
    return this.#events.listeners(event, true) as Array<Listener<E>>;
  }

  listenerCount(event: SnakepitEventName): number {
    return this.#events.listeners(event).length;
  }

  eventNames(): SnakepitEventName[] {
    return this.#events.eventNames() as SnakepitEventName[];
  }

  /** Kept for the EventEmitter interface: snakepit never warns about many listeners. */
  setMaxListeners(n: number): this {
    this.#maxListeners = n;
    return this;
  }

  getMaxListeners(): number {
    return this.#maxListeners;
  }

  /**
   * Deliver `payload` to this Snakepit's listeners, as EventEmitter's `emit` does (and to the event's
   * diagnostics channel). For the interface and for tests; the pools emit the real events.
   */
  emit<E extends SnakepitEventName>(event: E, payload: SnakepitEvents[E]): boolean {
    const had = this.#events.hasListeners(event);
    this.#events.emit(event, payload);
    return had;
  }

  /**
   * Refuse new calls, let in-flight calls finish (up to `closeTimeoutMs`), then stop every worker: a `shutdown`
   * frame, SIGTERM after `killGraceMs`, SIGKILL after another. Idempotent; every caller gets the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= Promise.all(
      [...this.#pools.values()].map((p) => p.close(this.#config.closeTimeoutMs)),
    ).then(() => this.#closed()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────────

  /** What the signal handler closes: gracefully, or (second signal) at once. */
  readonly #signalTarget = {
    close: () => this.close(),
    forceClose: (): Promise<void> => {
      const error = new PoolClosedError('snakepit was stopped by a signal');
      const forced = Promise.all([...this.#pools.values()].map((p) => p.destroy(error, 0))).then(() =>
        this.#closed(),
      );
      this.#closing ??= forced;
      return forced;
    },
  };

  /** After every pool has stopped (gracefully or forced): release what the facade itself holds. */
  #closed(): void {
    for (const dashboard of this.#dashboards) void dashboard.close();
    this.#sessions.close();
    this.#refs.close();
    this.#registry?.close();
    unregisterForSignals(this.#signalTarget);
  }

  #pool(name: string | undefined): Pool {
    if (name === undefined) return this.#defaultPool;
    const pool = this.#pools.get(name);
    if (!pool) {
      throw new ConfigError(
        'options.pool',
        `no pool named "${name}" (pools: ${[...this.#pools.keys()].join(', ')})`,
      );
    }
    return pool;
  }

  #submit(
    tool: string,
    args: ToolArgs,
    options: ExecuteOptions,
    stream: ChunkStream | undefined,
    workerId?: string,
  ): Call {
    checkCallShape(tool, args, options);
    const pool = this.#pool(options.pool);
    // Host-side adapter hooks: refuse, validate, transform before anything is queued (adapter-hooks.ts).
    const hooked = pool.config.hooks ? beforeCall(pool.config.hooks, pool.name, tool, args) : undefined;
    if (hooked) args = hooked.args;
    const { timeoutMs, sessionId, correlationId } = checkCallOptions(
      tool,
      options,
      hooked?.timeoutMs ?? (stream ? pool.config.streamTimeoutMs : pool.config.requestTimeoutMs),
    );
    // References in the arguments: refused here if unusable; the call then runs where they are held.
    const pinned = this.#refs.checkArgs(tool, args, sessionId, pool.name) ?? workerId;
    // Inside a host tool: nested in the Python call that called it (deadline, abort, worker slot).
    const nested = nestedCallOptions(this.#runId, timeoutMs, options.signal);
    if (sessionId !== undefined) this.#sessions.callStarted(sessionId);
    const call = new Call({
      id: allocateCallId(),
      pool: pool.name,
      tool,
      args,
      sessionId: options.sessionId,
      timeoutMs: nested.timeoutMs,
      queueTimeoutMs: pool.config.queue.timeoutMs,
      signal: nested.signal,
      stream,
      owner: pool,
      workerId: pinned,
      idempotent: options.idempotent,
      parent: nested.parent,
      depth: nested.depth,
      correlationId,
      graceful: callGraceful(tool, options.graceful, pool.config.graceful),
      observer: this.#telemetry.forPool(pool.name),
    });
    if (sessionId !== undefined) {
      const ended = (): void => this.#sessions.callEnded(sessionId);
      call.promise.then(ended, ended);
    }
    if (this.#closing) call.fail(new PoolClosedError('snakepit is closing; no new calls are taken'));
    else pool.submit(call);
    return call;
  }
}
