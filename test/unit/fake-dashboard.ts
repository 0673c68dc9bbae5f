// Dashboard values for the viewer and `snakepit top` tests: a history point, an error entry, a snapshot.
import type { DashboardSnapshot, ErrorEntry, HistoryPoint } from '../../src/dashboard/dashboard-types.js';
import { fakePoolStats as stats } from '../fake-pool-stats.js';

export function point(t: number, over: Partial<HistoryPoint> = {}): HistoryPoint {
  return { t, calls: 1, errors: 0, queued: 0, inFlight: 0, p50: 1, p99: 2, ...over };
}

export function errorEntry(seq: number, over: Partial<ErrorEntry> = {}): ErrorEntry {
  return {
    seq,
    at: 1_700_000_000_000 + seq,
    pool: 'default',
    tool: 'boom',
    worker: 'default-1',
    session: undefined,
    correlationId: `c-${seq}`,
    errorName: 'PythonValueError',
    errorCode: 'SNAKEPIT_PYTHON_VALUE_ERROR',
    kind: 'python',
    message: `ValueError: bad ${seq}`,
    pythonType: 'ValueError',
    traceback: `Traceback (most recent call last):\n  File "a.py", line 1, in boom\nValueError: bad ${seq}`,
    durationMs: 1,
    ...over,
  };
}

export function snapshot(over: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    version: 1,
    at: 10_000,
    intervalMs: 1000,
    historyMs: 3000,
    host: { pid: 1, runId: 'r', hostname: 'h', node: 'v20', rssMb: 50, uptimeMs: 1000 },
    pools: [
      {
        name: 'default',
        state: 'ready',
        stats: stats({ requests: 5 }),
        workers: [
          {
            id: 'default-1',
            sharedMemory: true,
            pool: 'default',
            pid: 42,
            state: 'ready',
            load: 0,
            served: 5,
            codec: 'msgpack',
            python: '3.11',
            pythonExecutable: 'python3',
            pythonSource: 'PATH',
            uptimeMs: 65_000,
            lastError: undefined,
            rssMb: 14.5,
            profile: 'process',
            freeThreaded: false,
            restarts: 1,
            recycles: 2,
          },
        ],
        latency: { count: 0, p50: 0, p90: 0, p99: 0, bars: [] },
        history: [point(8000), point(9000), point(10_000)],
      },
    ],
    sessions: { stats: { active: 0, created: 0, deleted: 0, expired: 0 }, newest: [], limit: 50 },
    errors: [errorEntry(2), errorEntry(1)],
    ...over,
  };
}
