/**
 * A pool's worker profile (docs/PROFILES.md): `profile`, `threadsPerWorker`, `nativeThreads`, and what they mean
 * for the calls one worker holds at once (`workerConcurrency`, `pipelineDepth`).
 *
 * - `process` (the default): a worker runs one sync call at a time; `workerConcurrency` lets async tools overlap
 *   and `pipelineDepth` lets fast calls wait inside a busy worker.
 * - `thread`: a worker runs up to `threadsPerWorker` calls at once — sync tools on its thread pool, async tools
 *   on its event loop. That number is the worker's capacity: the host never sends it more (no pipelining), and
 *   calls beyond it wait in the pool's queue.
 */
import { ConfigError } from '../errors/errors.js';
import { describe, positiveInt } from './checks.js';
import type { ResolvedLimits, TransportKind, WorkerProfile } from './config-types.js';
import { DEFAULTS } from './defaults.js';

export interface ResolvedProfile {
  profile: WorkerProfile;
  /** Set for `thread`: the worker's thread pool and its capacity. */
  threadsPerWorker: number | undefined;
  workerConcurrency: number;
  pipelineDepth: number;
  /** Threads each native math library may start in a worker; undefined: the host's environment, else 1. */
  nativeThreads: number | undefined;
}

interface ProfileInput {
  profile?: unknown;
  threadsPerWorker?: unknown;
  nativeThreads?: unknown;
  workerConcurrency?: unknown;
  pipelineDepth?: unknown;
}

export function resolveProfile(
  where: string,
  pool: ProfileInput,
  transport: TransportKind,
  limits: ResolvedLimits,
): ResolvedProfile {
  const profile = pool.profile ?? DEFAULTS.profile;
  if (profile !== 'process' && profile !== 'thread') {
    throw new ConfigError(`${where}.profile`, `must be "process" or "thread", got ${describe(profile)}`);
  }
  const nativeThreads =
    pool.nativeThreads === undefined
      ? undefined
      : positiveInt(`${where}.nativeThreads`, pool.nativeThreads, 1, 1_024);
  if (profile === 'process') {
    if (pool.threadsPerWorker !== undefined) {
      throw new ConfigError(
        `${where}.threadsPerWorker`,
        'applies to profile "thread" only; set profile: "thread", or remove threadsPerWorker',
      );
    }
    return {
      profile,
      threadsPerWorker: undefined,
      workerConcurrency: positiveInt(
        `${where}.workerConcurrency`,
        pool.workerConcurrency,
        DEFAULTS.workerConcurrency,
        10_000,
      ),
      pipelineDepth: positiveInt(`${where}.pipelineDepth`, pool.pipelineDepth, DEFAULTS.pipelineDepth, 1_000),
      nativeThreads,
    };
  }
  for (const key of ['workerConcurrency', 'pipelineDepth'] as const) {
    if (pool[key] !== undefined) {
      throw new ConfigError(
        `${where}.${key}`,
        'does not apply to profile "thread": a thread worker runs threadsPerWorker calls at once and is ' +
          'sent no more; set threadsPerWorker instead',
      );
    }
  }
  if (transport === 'snakepit') {
    throw new ConfigError(
      `${where}.profile`,
      'transport "snakepit" runs workers the Snakepit way, one call at a time; use profile "process"',
    );
  }
  if (limits.cpuSeconds !== undefined) {
    throw new ConfigError(
      `${where}.limits.cpuSeconds`,
      'is a budget per call for a worker that runs one call at a time; the CPU time of a thread worker is ' +
        'shared by its calls. Use profile "process", or limit the calls with timeouts',
    );
  }
  const threads = positiveInt(
    `${where}.threadsPerWorker`,
    pool.threadsPerWorker,
    DEFAULTS.threadsPerWorker,
    1_024,
  );
  return {
    profile,
    threadsPerWorker: threads,
    workerConcurrency: threads,
    pipelineDepth: threads,
    nativeThreads,
  };
}

/** The variables that size native math libraries' own thread pools (OpenMP, BLAS, numexpr). */
export const NATIVE_THREAD_VARIABLES = [
  'OMP_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'MKL_NUM_THREADS',
  'BLIS_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS',
  'NUMEXPR_NUM_THREADS',
] as const;
