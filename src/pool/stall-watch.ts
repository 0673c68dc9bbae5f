/**
 * StallWatch: no call waits inside a worker behind one that has run long.
 *
 * Pipelining writes calls into a busy worker behind calls to fast tools, where they wait their turn. If the call
 * running there turns out to be slow — it hangs, it runs into its timeout, it is about to kill the worker — the
 * calls behind it must not wait with it. From the first pipelined dispatch until every worker is idle again, this
 * looks at the workers every STALL_CHECK_MS: a worker that was busy at the previous look and has answered nothing
 * since is *stalled* — if another worker is idle and could take its calls (while every worker is busy, a slow
 * moment of a loaded machine is not worth breaking up the batches pipelining makes). A stalled worker gets no more
 * pipelined calls (the picker skips it), and while it holds more than one call it is asked to give back those it
 * has not begun (`withdraw`; each call is asked for once), which the pool runs on the idle ones. Its next answer
 * clears the mark.
 *
 *   look k:   w1 busy, served 120          look k+1:  w1 busy, served 120  → stalled: withdraw its waiting calls
 *
 * So a call pipelined behind a slow one starts elsewhere within about two looks plus the time the worker takes to
 * read the request (its watchdog reads within a few ms while a tool runs Python code). A worker whose interpreter
 * is stuck in C code cannot read it: its calls come back when it dies, through its ledger.
 */
/** What the watch needs of a worker (WorkerHandle has it). */
export interface WatchedWorker {
  readonly state: string;
  readonly load: number;
  /** Calls it has answered: unchanged between two checks means no progress. */
  readonly served: number;
  stalled: boolean;
}

/** How often a pool with pipelined calls looks for stalled workers. */
export const STALL_CHECK_MS = 10;

export class StallWatch<W extends WatchedWorker = WatchedWorker> {
  readonly #workers: () => readonly W[];
  readonly #isIdle: (worker: W) => boolean;
  readonly #onStalled: (worker: W) => void;
  /** Each busy worker's answer count at the previous check. */
  #seen = new Map<W, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /**
   * `isIdle(worker)`: it could take a call now without pipelining it. `onStalled(worker)`: the worker is stalled
   * and holds calls behind the one it runs.
   */
  constructor(workers: () => readonly W[], isIdle: (worker: W) => boolean, onStalled: (worker: W) => void) {
    this.#workers = workers;
    this.#isIdle = isIdle;
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
    const workers = this.#workers();
    for (const w of workers) {
      if (w.load === 0) continue;
      if (!w.stalled && this.#seen.get(w) === w.served && workers.some((o) => o !== w && this.#isIdle(o))) {
        w.stalled = true;
      }
      if (w.stalled && w.load > 1) this.#onStalled(w);
      seen.set(w, w.served);
    }
    this.#seen = seen;
    if (seen.size > 0 && !this.#stopped) this.#arm(); // until every worker is idle again
  }
}
