/**
 * When to replace a dead worker, and when to stop trying.
 *
 * Replacements start at once after a healthy worker dies. A replacement that fails to start — or a worker that
 * dies on its own, with nothing in flight, within STABLE_AFTER_MS of becoming ready — counts as a failure: the next
 * attempt waits `initialBackoffMs`, doubling up to `maxBackoffMs`. After `maxAttempts` failures in a row the pool
 * reports itself degraded, and keeps trying every `maxBackoffMs` — a missing dependency fixed a minute later heals
 * it. A worker that was healthy when it died (it had been up a while, or a call it ran killed it), a replacement
 * that starts, or `resume()` resets the count.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import type { WorkerExit } from '../worker/worker-handle.js';

/** A worker up this long before it died on its own was healthy. */
export const STABLE_AFTER_MS = 1_000;

export class RestartPolicy {
  readonly #config: ResolvedPoolConfig['restart'];
  #failures = 0;

  constructor(config: ResolvedPoolConfig['restart']) {
    this.#config = config;
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** True once `maxAttempts` failures in a row have happened: the pool reports itself degraded. */
  get degraded(): boolean {
    return this.#failures >= this.#config.maxAttempts;
  }

  /** Start over: the next attempt runs at once (a replacement started, or `resume()`). */
  reset(): void {
    this.#failures = 0;
  }

  /** How long to wait before the next replacement. */
  delayMs(): number {
    if (this.#failures === 0) return 0;
    return Math.min(this.#config.maxBackoffMs, this.#config.initialBackoffMs * 2 ** (this.#failures - 1));
  }

  /** A replacement failed to start. */
  startFailed(): void {
    this.#failures++;
  }

  /** A running worker died (not stopped by the host): healthy, or failing right after its start? */
  workerDied(exit: Pick<WorkerExit, 'callsInFlight' | 'uptimeMs'>): void {
    if (exit.callsInFlight > 0 || exit.uptimeMs >= STABLE_AFTER_MS) this.#failures = 0;
    else this.#failures++;
  }
}
