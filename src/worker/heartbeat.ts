/**
 * The host's side of a worker's heartbeat: ping every `intervalMs`, and call the worker hung when nothing at all
 * has arrived from it for `timeoutMs`.
 *
 * Any frame counts as a sign of life (a busy worker streaming results is plainly alive); the worker's reader
 * thread answers `ping` even while a tool runs, so only a worker whose whole interpreter is stuck — C code holding
 * the GIL, a deadlock in the bridge — goes silent. The pings also tell the worker its host is alive (the worker
 * leaves when they stop; PROTOCOL.md §6).
 *
 * A blocked host event loop must not be blamed on the worker: when a tick fires much later than scheduled, the
 * worker's frames may be sitting unread in the socket, so the silence clock restarts instead.
 */

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Send one `ping` frame with this id. */
  ping(id: number): void;
  /** Nothing arrived for `silentMs` (≥ timeoutMs). Called once; the heartbeat stops itself first. */
  onSilent(silentMs: number): void;
  /**
   * The last ping got no answer (nothing at all arrived since it was sent) by the next beat: `missed` pings in a
   * row. `fatal` when the silence also reached `timeoutMs` (onSilent follows).
   */
  onMissed?(silentMs: number, missed: number, fatal: boolean): void;
  /** Clock in ms (performance.now by default; tests pass their own). */
  now?: () => number;
}

export class Heartbeat {
  readonly #options: HeartbeatOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #lastTick = 0;
  /** When the last ping went out (undefined: none since start or since the host was blocked). */
  #lastPing: number | undefined;
  #missed = 0;
  #nextId = 1;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer) return;
    this.#lastHeard = this.#lastTick = this.#now();
    this.#lastPing = undefined;
    this.#missed = 0;
    this.#timer = setInterval(() => this.tick(), this.#options.intervalMs);
    this.#timer.unref(); // an idle worker's heartbeat must not keep the host alive
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A frame arrived from the worker. */
  heard(): void {
    this.#lastHeard = this.#now();
  }

  /** One beat (exposed for tests): judge the silence so far, then ping. */
  tick(): void {
    const now = this.#now();
    if (now - this.#lastTick > 2 * this.#options.intervalMs) {
      this.#lastHeard = now; // we were blocked, not it
      this.#lastPing = undefined;
    }
    this.#lastTick = now;
    const silentMs = now - this.#lastHeard;
    const fatal = silentMs >= this.#options.timeoutMs;
    if (this.#lastPing !== undefined && this.#lastHeard < this.#lastPing) {
      this.#options.onMissed?.(silentMs, ++this.#missed, fatal);
    } else {
      this.#missed = 0;
    }
    if (fatal) {
      this.stop();
      this.#options.onSilent(silentMs);
      return;
    }
    this.#lastPing = now;
    this.#options.ping(this.#nextId++);
  }
}
