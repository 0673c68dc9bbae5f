/**
 * A worker's calls in flight: every call whose `call` frame was written and whose terminal frame has not arrived,
 * including calls the caller already gave up on (their cancel is pending), and the deadline of each such cancel.
 * Its size is the worker's load; `blockers` counts those no call may be pipelined behind (kept here as calls come
 * and go, so the picker asks one number instead of walking every worker's calls for every dispatch).
 */
import type { Call } from '../call/call.js';

export class InFlightCalls {
  readonly #calls = new Map<number, Call>();
  /** A call's cancel deadline: set by `cancel`, cleared when the call's terminal frame arrives. */
  readonly #cancelTimers = new Map<number, NodeJS.Timeout>();
  #blockers = 0;

  get size(): number {
    return this.#calls.size;
  }

  /** Calls in flight that nothing may be pipelined behind (`Call.blocksPipelining`). */
  get blockers(): number {
    return this.#blockers;
  }

  has(id: number): boolean {
    return this.#calls.has(id);
  }

  get(id: number): Call | undefined {
    return this.#calls.get(id);
  }

  /** `blocking`: nothing may be pipelined behind it (a stream, a tool not measured as fast). */
  add(call: Call, blocking: boolean): void {
    this.#calls.set(call.id, call);
    call.blocksPipelining = blocking;
    if (blocking) this.#blockers++;
  }

  /** The call was given up on (its cancel is pending): nothing is pipelined behind it any more. */
  block(call: Call): void {
    if (call.blocksPipelining || !this.#calls.has(call.id)) return;
    call.blocksPipelining = true;
    this.#blockers++;
  }

  values(): IterableIterator<Call> {
    return this.#calls.values();
  }

  /** The call's terminal frame arrived: forget it and its cancel deadline. Undefined for an unknown id. */
  settle(id: number): Call | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    if (call.blocksPipelining) {
      call.blocksPipelining = false;
      this.#blockers--;
    }
    const timer = this.#cancelTimers.get(id);
    if (timer) {
      clearTimeout(timer);
      this.#cancelTimers.delete(id);
    }
    return call;
  }

  /** Run `onExpired` unless the call ends within `ms` (an unref'd timer). */
  armCancelDeadline(id: number, ms: number, onExpired: () => void): void {
    const timer = setTimeout(() => {
      this.#cancelTimers.delete(id);
      onExpired();
    }, ms);
    timer.unref();
    this.#cancelTimers.set(id, timer);
  }

  clearCancelDeadlines(): void {
    for (const timer of this.#cancelTimers.values()) clearTimeout(timer);
    this.#cancelTimers.clear();
  }

  /** Every call still held, now forgotten (the worker died). */
  takeAll(): Call[] {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) call.blocksPipelining = false;
    this.#blockers = 0;
    return calls;
  }
}
