/**
 * FIFO of calls waiting for a worker.
 *
 *   [ gone | gone | live | gone | live | live ]
 *            ^head
 *
 * A call that times out or is aborted while queued is settled in place and skipped when it reaches the head
 * (lazy deletion), so removal is O(1) and `size` counts only live calls.
 */
import type { Call } from '../call/call.js';

export class TaskQueue {
  #items: Call[] = [];
  #head = 0;
  #live = 0;

  get size(): number {
    return this.#live;
  }

  push(call: Call): void {
    this.#items.push(call);
    this.#live++;
  }

  /** Put a call back at the front: a retried call goes before the calls that arrived after it. */
  unshift(call: Call): void {
    if (this.#head > 0) this.#items[--this.#head] = call;
    else this.#items.unshift(call);
    this.#live++;
  }

  /** The oldest live call, without removing it. */
  peek(): Call | undefined {
    this.#skipGone();
    return this.#items[this.#head];
  }

  shift(): Call | undefined {
    this.#skipGone();
    if (this.#head >= this.#items.length) return undefined;
    const call = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as unknown as Call;
    this.#live--;
    this.#compact();
    return call;
  }

  /** A queued call was settled (timeout, abort): stop counting it. Call once per settled queued call. */
  forget(): void {
    this.#live--;
  }

  /** Remove and return every live call (for shutdown). */
  drain(): Call[] {
    const live = this.#items.slice(this.#head).filter((c) => c && !c.settled);
    this.#items = [];
    this.#head = 0;
    this.#live = 0;
    return live;
  }

  #skipGone(): void {
    while (this.#head < this.#items.length && this.#items[this.#head]!.settled) {
      this.#items[this.#head++] = undefined as unknown as Call;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
