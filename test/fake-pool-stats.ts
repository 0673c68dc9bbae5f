// A PoolStats snapshot for unit tests of what reads one (dashboard, doctor, metrics): a healthy 1-worker pool, then `over`.
import type { PoolStats } from '../src/pool/pool-stats.js';

export function fakePoolStats(over: Partial<PoolStats> = {}): PoolStats {
  const zero = { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  return {
    pool: 'default',
    state: 'running',
    size: 1,
    workers: 1,
    available: 1,
    busy: 0,
    queued: 0,
    inFlight: 0,
    requests: 0,
    errors: 0,
    timeouts: 0,
    saturations: 0,
    restarts: 0,
    recycles: 0,
    retries: 0,
    returned: 0,
    degraded: false,
    degradedSince: undefined,
    restartFailures: 0,
    nextRestartInMs: undefined,
    lastStartError: undefined,
    transfer: { sharedValues: 0, sharedBytes: 0, inlineValues: 0, inlineBytes: 0 },
    heartbeatsMissed: 0,
    latencyMs: zero,
    queueWaitMs: zero,
    streamChunks: 0,
    ...over,
  };
}
