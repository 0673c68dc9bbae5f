/**
 * A worker's start as one promise: the one `start()` returns, settled once — ready, or failed with a
 * WorkerStartError — and the start-up deadline (`startupTimeoutMs`) that fails it. Settling twice is a no-op, so
 * a late `ready` after a failed start (or a second failure) changes nothing.
 */
export class StartGate {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;
  #settled = false;
  #failed = false;
  #deadline: NodeJS.Timeout | undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Run `onExpired` after `ms` unless `clearDeadline` is called first. */
  setDeadline(ms: number, onExpired: () => void): void {
    this.#deadline = setTimeout(onExpired, ms);
  }

  clearDeadline(): void {
    clearTimeout(this.#deadline);
  }

  resolve(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve();
  }

  reject(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failed = true;
    this.#reject(err);
  }

  /** The start failed (the process may still be on its way out). */
  get failed(): boolean {
    return this.#failed;
  }
}
