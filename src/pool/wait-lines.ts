/**
 * WaitLines: calls parked on the one worker they must run on, one FIFO per worker id.
 *
 *   TaskQueue (FIFO)  [ c7 | c8(s→w1) | c9 | … ]      the pump walks it from the head
 *                            │ w1 busy, strict
 *                            ▼
 *   WaitLines   w1: [ c8 | c12 ]   w2: [ c10 ]          served when their worker has room
 *
 * A call bound to a busy worker (strict session affinity, or an object reference) leaves the main queue for its
 * worker's line, so the calls behind it are not held up (no head-of-line blocking), and each parked call is
 * looked at again only when its own worker can take it. Like TaskQueue, a call settled while parked (timeout,
 * abort) is skipped lazily; `forget` keeps the count right.
 */
import type { Call } from '../call/call.js';
import { TaskQueue } from './task-queue.js';

export class WaitLines {
  readonly #lines = new Map<string, TaskQueue>();
  /** Parked call → the worker id it waits for; a call is in here iff it is live in a line. */
  readonly #where = new Map<Call, string>();

  /** Live parked calls, all lines together. */
  get size(): number {
    return this.#where.size;
  }

  park(workerId: string, call: Call): void {
    let line = this.#lines.get(workerId);
    if (!line) this.#lines.set(workerId, (line = new TaskQueue()));
    line.push(call);
    this.#where.set(call, workerId);
  }

  /** A parked call was settled while waiting: stop counting it. False when `call` is not parked. */
  forget(call: Call): boolean {
    const workerId = this.#where.get(call);
    if (workerId === undefined) return false;
    this.#where.delete(call);
    const line = this.#lines.get(workerId)!;
    line.forget();
    if (line.size === 0) this.#lines.delete(workerId);
    return true;
  }

  /** The oldest live call waiting for `workerId`. */
  peek(workerId: string): Call | undefined {
    return this.#lines.get(workerId)?.peek();
  }

  shift(workerId: string): Call | undefined {
    const line = this.#lines.get(workerId);
    const call = line?.shift();
    if (!line || !call) return undefined;
    this.#where.delete(call);
    if (line.size === 0) this.#lines.delete(workerId);
    return call;
  }

  /** Worker ids with at least one live parked call (a snapshot: safe to modify the lines while iterating). */
  workerIds(): string[] {
    return [...this.#lines.keys()];
  }

  /** Remove and return every live call waiting for `workerId` (its worker is gone). */
  take(workerId: string): Call[] {
    const line = this.#lines.get(workerId);
    if (!line) return [];
    this.#lines.delete(workerId);
    const calls = line.drain();
    for (const call of calls) this.#where.delete(call);
    return calls;
  }

  /** Remove and return every live parked call (for shutdown). */
  drain(): Call[] {
    const calls = [...this.#lines.keys()].flatMap((id) => this.take(id));
    this.#where.clear();
    return calls;
  }
}
