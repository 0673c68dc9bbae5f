/** The defaults a resolved config falls back to: one table that every config section reads. */
export const DEFAULTS = {
  startupTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  streamTimeoutMs: 300_000,
  queueMax: 10_000,
  workerConcurrency: 1,
  pipelineDepth: 32,
  threadsPerWorker: 8,
  spinUs: 50,
  maxFrameBytes: 64 * 1024 * 1024,
  /** Binary values from this many bytes on travel in shared memory (a pool's `sharedMemory.minBytes`). */
  sharedMemoryMinBytes: 64 * 1024,
  closeTimeoutMs: 10_000,
  killGraceMs: 2_000,
  maxPoolSize: 1_000,
  sessionTtlMs: 3_600_000,
  sessionCleanupIntervalMs: 60_000,
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 30_000,
  hostTimeoutMs: 60_000,
  recycleCheckIntervalMs: 1_000,
  maxRetries: 1,
  restartMaxAttempts: 10,
  restartInitialBackoffMs: 100,
  restartMaxBackoffMs: 30_000,
  toolsMaxDepth: 8,
  affinity: 'strict_queue',
  codec: 'auto',
  profile: 'process',
  startupBatchSize: 8,
  startupBatchDelayMs: 0,
  startPolicy: 'all',
  handleSignals: false,
  /** The console logger's level when neither `logLevel` nor `SNAKEPIT_LOG_LEVEL` says. */
  logLevel: 'info',
  telemetry: { calls: true, tracing: 'auto' },
  /** A pool's `snakepit` section (transport `snakepit`). */
  snakepitHeartbeat: true,
  /** Each entry of a pool's `libraries`. */
  library: {
    expose: 'listed',
    allowUnsafe: false,
    lazy: false,
    dataframes: 'records',
    arrays: 'typed',
    cacheSize: 1024,
  },
  /** A stream call's back-pressure window, in chunks (`options.window`). */
  streamWindow: 512,
  /** How long a cancelled call may take to answer its cancel before its worker is stopped (not configurable). */
  cancelGraceMs: 5_000,
  /** A pool's `grpc` section. */
  grpc: {
    workersPerEndpoint: 1,
    connectTimeoutMs: 5_000,
    keepaliveMs: 2_000,
    resolveIntervalMs: 10_000,
    reconnectInitialBackoffMs: 200,
    reconnectMaxBackoffMs: 10_000,
  },
} as const;
