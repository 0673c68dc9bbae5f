/**
 * The host's half of `limits.memoryMb`: a sampler for the memory the worker's own limit cannot refuse.
 *
 * Inside the worker, RLIMIT_DATA makes an allocation past the limit fail with `MemoryError` before the memory is
 * touched (snakepit_bridge/dispatch/limits.py). It does not count shared mappings (`mmap(MAP_SHARED)`, /dev/shm,
 * memfd), nor anything on a kernel booted with `ignore_rlimit_data`. So every `SAMPLE_MS` the host reads the
 * private and shared resident memory of each worker with calls in flight (idle ones every `IDLE_EVERY` ticks) (RssAnon + RssShmem from /proc; the code pages in RssFile are clean
 * and do not count) and kills a worker past `memoryMb + SLACK_MB`: its calls fail with `WorkerCrashedError`, kind
 * `oom_kill`, and the pool replaces it. The slack covers the main thread's stack, which RLIMIT_DATA does not
 * count either, so a worker within its rlimit is never killed here.
 *
 * What a sampler cannot promise: memory that grows faster than it looks overshoots by the growth of one interval
 * (measured in docs/RELIABILITY.md, "Limits"). Linux only (/proc); elsewhere the rlimit alone applies.
 */
import type { Logger } from '../util/logger.js';
import { cgroupProbe } from './cgroup.js';
import { readResidentBytes, readResidentMemory } from '../util/proc.js';
import type { WorkerHandle } from '../worker/worker-handle.js';

/** How often a worker with calls in flight is sampled (one read of /proc/<pid>/statm, ~50 µs on our VM). */
export const SAMPLE_MS = 50;
/** Idle workers are sampled every this many ticks (memory grows mostly during calls; threads may run idle). */
const IDLE_EVERY = 10;
/** Above the limit before the sampler acts: the main stack (≤ 8 MiB) and rounding, never a limit the rlimit kept. */
export const SLACK_MB = 16;
const MIB = 1024 * 1024;

export interface MemoryWatchHost {
  readonly name: string;
  readonly logger: Logger;
  readonly memoryMb: number;
  /** The pool's workers (any state). */
  workers(): readonly WorkerHandle[];
}

export class MemoryWatch {
  readonly #host: MemoryWatchHost;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;

  constructor(host: MemoryWatchHost) {
    this.#host = host;
  }

  start(): void {
    if (this.#timer || process.platform !== 'linux') return;
    const cgroup = cgroupProbe();
    this.#host.logger.info(
      { pool: this.#host.name },
      `limits.memoryMb ${this.#host.memoryMb}: RLIMIT_DATA in each worker and a sampler every ${SAMPLE_MS} ms` +
        (cgroup.usable
          ? `, and a cgroup per worker under ${cgroup.parent}`
          : `; no cgroup (${cgroup.reason})`),
    );
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Look at the workers with calls in flight (and, every `IDLE_EVERY`th time, at all of them); kill those past the
   * limit. A sample reads `statm` (its RSS), and `status` (the split by kind) only when the RSS alone is past the
   * threshold: RSS counts private + shared + code pages, so below the threshold nothing can be past it.
   */
  sample(): void {
    const limitMb = this.#host.memoryMb;
    const threshold = (limitMb + SLACK_MB) * MIB;
    const everyone = this.#ticks++ % IDLE_EVERY === 0;
    for (const worker of this.#host.workers()) {
      const pid = worker.pid;
      if (pid === undefined || !LIVE.has(worker.state) || (worker.load === 0 && !everyone)) continue;
      if ((readResidentBytes(pid) ?? 0) <= threshold) continue;
      const memory = readResidentMemory(pid);
      if (!memory) continue;
      const usedMb = Math.round((memory.anon + memory.shmem) / MIB);
      if (usedMb <= limitMb + SLACK_MB) continue;
      worker.kill(
        `its memory reached ${usedMb} MiB (private ${Math.round(memory.anon / MIB)}, shared ` +
          `${Math.round(memory.shmem / MIB)}), past limits.memoryMb ${limitMb}`,
        'oom_kill',
      );
    }
  }
}

const LIVE: ReadonlySet<string> = new Set(['starting', 'ready', 'draining']);
