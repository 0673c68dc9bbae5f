/**
 * How a local worker process is started: the bridge's command line and the environment it runs in. Separate from
 * `WorkerHandle` because it is the one place that knows the bridge's command line and flags and the variables a
 * worker reads (PROTOCOL.md §1), while the handle is the same code over every link.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { workerCgroup } from '../limits/cgroup.js';
import { LIMITS_ENV, limitsEnvValue } from '../limits/worker-limits.js';
import { NATIVE_THREAD_VARIABLES } from '../config/profile-config.js';
import { warmUpCodecsSoon } from '../transport/codec-warm-up.js';
import { inheritedEnv } from './worker-env.js';
import { WorkerProcess } from './worker-process.js';

export interface LocalWorkerSpec {
  config: ResolvedPoolConfig;
  workerId: string;
  runId: string;
  /** One line the process wrote on stdout or stderr. */
  onLine(stream: 'stdout' | 'stderr', line: string): void;
  /** The worker's ledger file (worker/ledger.ts), passed as fd 4; none when undefined. */
  ledgerFd?: number | undefined;
}

/**
 * How the interpreter runs the bridge: `python -c "...main()"` rather than `python -m snakepit_bridge`, with the
 * same arguments after it. `-m` imports `runpy` and, with it, `importlib.util`, `importlib.machinery` and
 * `warnings`, which nothing else in a worker's start needs: ~2 ms of a quiet cold start's CPU (more under load),
 * on the way to the first answer (docs/PERFORMANCE.md, "Start of one worker"). The process's command line still
 * names `snakepit_bridge`, which the orphan sweep matches.
 */
export const BRIDGE_MAIN = ['-c', 'import sys; from snakepit_bridge.__main__ import main; sys.exit(main())'];

/**
 * Spawn the bridge (`BRIDGE_MAIN`, what `python -m snakepit_bridge` runs) for one worker, its channel on fd 3 (and
 * its ledger on fd 4), or a pool's `command` (runtimes `node` and `command`: no ledger, which is the bridge's).
 */
export function spawnLocalWorker(spec: LocalWorkerSpec): WorkerProcess {
  const { config, workerId, runId, onLine, ledgerFd } = spec;
  if (config.command) {
    // The user's command line as it is; what the bridge takes as flags, the worker finds in its environment
    // (PROTOCOL.md §1).
    const [executable, ...args] = config.command;
    return new WorkerProcess({
      executable: executable!,
      args,
      env: commandWorkerEnv(config, runId, workerId),
      cwd: config.cwd,
      onLine,
    });
  }
  const { memoryMb } = config.limits; // a cgroup of its own where the host may make one (limits/cgroup.ts)
  const worker = new WorkerProcess({
    executable: config.python.executable,
    args: [
      ...BRIDGE_MAIN,
      '--adapter',
      config.adapter,
      '--channel-fd',
      '3',
      '--worker-id',
      workerId,
      '--pool',
      config.name,
      '--run-id',
      runId,
      '--codec',
      config.codec,
      ...(ledgerFd === undefined ? [] : ['--ledger-fd', '4']),
    ],
    env: workerEnv(config, runId, workerId),
    cwd: config.cwd,
    onLine,
    fd4: ledgerFd,
    cgroup: memoryMb === undefined ? undefined : workerCgroup(runId, workerId, memoryMb),
  });
  warmUpCodecsSoon(); // while the interpreter starts (codec-warm-up.ts); once per process
  return worker;
}

/** A `command` worker's environment: a Python worker's, plus what the bridge would take as flags. */
export function commandWorkerEnv(
  config: ResolvedPoolConfig,
  runId: string,
  workerId: string,
): NodeJS.ProcessEnv {
  return {
    ...workerEnv(config, runId, workerId),
    SNAKEPIT_CHANNEL_FD: '3',
    SNAKEPIT_POOL: config.name,
    SNAKEPIT_CODEC: config.codec,
  };
}

export function workerEnv(config: ResolvedPoolConfig, runId: string, workerId: string): NodeJS.ProcessEnv {
  const pythonPath = [config.bridgeDir, ...config.pythonPath, process.env['PYTHONPATH'] ?? '']
    .filter(Boolean)
    .join(':');
  return {
    // One native thread per worker by default: N workers × M BLAS threads on few cores thrash (Snakepit 0.5.1);
    // the host's own values of these variables come next, then the pool's `nativeThreads`, then its `env`.
    ...nativeThreadEnv(1),
    ...heapEnv(config),
    ...inheritedEnv(), // the host's environment without its secrets (worker-env.ts)
    ...(config.nativeThreads === undefined ? {} : nativeThreadEnv(config.nativeThreads)),
    ...config.env,
    PYTHONPATH: pythonPath,
    PYTHONUNBUFFERED: '1',
    SNAKEPIT_RUN_ID: runId,
    SNAKEPIT_WORKER_ID: workerId,
    SNAKEPIT_SPIN_US: String(config.spinUs),
    [LIMITS_ENV]: limitsEnvValue(config.limits), // rlimits, set before the adapter's import (limits.py)
    // The worker leaves when this process is gone (PROTOCOL.md §1, "Leaving with the host").
    SNAKEPIT_HOST_PID: String(process.pid),
  };
}

/**
 * glibc's heap thresholds for a worker. By default glibc gives every allocation above 128 KiB-32 MiB fresh pages
 * from mmap and unmaps them at free, so a tool that returns a large array faults its result in page by page on
 * every call (~25,000 faults, ~100 ms for 100 MB on our bench VM). Here allocations up to 1 GiB come from the heap,
 * and freed memory stays there for the next call while the worker is busy; once it has been idle for a moment
 * (dispatch/memory.py, IDLE_TRIM_S) it gives every free page back. With a memory limit or an RSS threshold for
 * recycling the worker keeps small thresholds (4 MiB / 8 MiB): memory kept for reuse would count against them.
 * Below 4 MiB the heap serves either way (a 1 MiB round trip ~2.2 -> ~1.7 ms on our bench VM against glibc's own).
 */
function heapEnv(config: ResolvedPoolConfig): Record<string, string> {
  return config.limits.memoryMb === undefined && config.recycle.maxRssMb === undefined
    ? { MALLOC_MMAP_THRESHOLD_: String(1024 ** 3), MALLOC_TRIM_THRESHOLD_: String(4 * 1024 ** 3) }
    : { MALLOC_MMAP_THRESHOLD_: String(4 * 1024 ** 2), MALLOC_TRIM_THRESHOLD_: String(8 * 1024 ** 2) };
}

function nativeThreadEnv(threads: number): Record<string, string> {
  return Object.fromEntries(NATIVE_THREAD_VARIABLES.map((name) => [name, String(threads)]));
}
