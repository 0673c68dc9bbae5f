/**
 * StallWatch: no call waits inside a worker behind one that has run long.
 *
 * Pipelining writes calls into a busy worker behind calls to fast tools, where they wait their turn. If the call
 * running there turns out to be slow — it hangs, it is timing out, it is about to kill the worker — the calls
 * behind it must not wait with it. While some worker holds two calls or more, this checks every STALL_CHECK_MS:
 * a worker that was busy at the previous check and has answered nothing since is *stalled*. It then gets no more
 * pipelined calls (the picker skips it), and it is asked to give back the calls it has not begun (`withdraw`),
 * which the pool runs on other workers. A stalled worker's next answer clears the mark.
 *
 *   check k:   w1 busy, served 120          check k+1:  w1 busy, served 120  → stalled: withdraw its waiting calls
 *
 * `onStalled` runs at every check while a stalled worker holds more than one call (it asks only for calls not asked
 * for before). So a call pipelined behind a slow one starts elsewhere within about two checks plus the time the worker takes to
 * read the request (its watchdog reads within a few ms while a tool runs; a worker whose interpreter is stuck in C
 * code gives its calls back only when it dies, through its ledger).
 */
/** What the watch needs of a worker (WorkerHandle has it). */
export interface WatchedWorker {
  readonly load: number;
  /** Calls it has answered: unchanged between two checks means no progress. */
  readonly served: number;
  stalled: boolean;
}

/** How often a pool with pipelined calls looks for stalled workers. */
export const STALL_CHECK_MS = 10;

export class StallWatch<W extends WatchedWorker = WatchedWorker> {
  readonly #workers: () => readonly W[];
  readonly #onStalled: (worker: W) => void;
  /** Each busy worker's answer count at the previous check. */
  #seen = new Map<W, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `onStalled(worker)`: the worker is stalled and holds calls behind the one it runs. */
  constructor(workers: () => readonly W[], onStalled: (worker: W) => void) {
    this.#workers = workers;
    this.#onStalled = onStalled;
  }

  /** A call was just dispatched to `worker`: start checking if it now holds more than one. */
  dispatched(worker: W): void {
    if (this.#timer === undefined && worker.load > 1 && !this.#stopped) this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#check(), STALL_CHECK_MS);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const seen = new Map<W, number>();
    for (const w of this.#workers()) {
      if (w.load === 0) continue;
      if (!w.stalled && this.#seen.get(w) === w.served) w.stalled = true;
      if (w.stalled && w.load > 1) this.#onStalled(w);
      seen.set(w, w.served);
    }
    this.#seen = seen;
    if (seen.size > 0 && !this.#stopped) this.#arm(); // until every worker is idle again
  }
}
