/**
 * FIFO of calls waiting for a worker.
 *
 *   [ gone | gone | live | gone | live | live ]
 *            ^head
 *
 * A call that times out or is aborted while queued is settled in place and skipped when it reaches the head
 * (lazy deletion), so removal is O(1). The count is the queue's own: `size` is the number of its members, and a
 * call stops being a member when it is shifted, drained, removed (`remove`, from the pool's `abandon`), or found
 * settled at the head. No caller keeps the count right by remembering to decrement it: removing a call twice, or
 * one that was never queued, changes nothing, and a settled call nobody removed leaves the count once it reaches
 * the head.
 */
import type { Call } from '../call/call.js';

export class TaskQueue {
  #items: Call[] = [];
  #head = 0;
  /** The calls that count: queued and not removed. A settled call may still be here until it reaches the head. */
  readonly #members = new Set<Call>();

  get size(): number {
    return this.#members.size;
  }

  push(call: Call): void {
    this.#items.push(call);
    this.#members.add(call);
  }

  /** Put a call back at the front: a retried call goes before the calls that arrived after it. */
  unshift(call: Call): void {
    if (this.#head > 0) this.#items[--this.#head] = call;
    else this.#items.unshift(call);
    this.#members.add(call);
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
    this.#members.delete(call);
    this.#compact();
    return call;
  }

  /**
   * A queued call was settled (timeout, abort): it stops counting now rather than when it reaches the head.
   * @returns whether it was in the queue
   */
  remove(call: Call): boolean {
    return this.#members.delete(call);
  }

  /** Remove and return every live call (for shutdown). */
  drain(): Call[] {
    const live = this.#items.slice(this.#head).filter((c) => c && !c.settled && this.#members.has(c));
    this.#items = [];
    this.#head = 0;
    this.#members.clear();
    return live;
  }

  #skipGone(): void {
    while (this.#head < this.#items.length) {
      const call = this.#items[this.#head]!;
      if (!call.settled && this.#members.has(call)) break;
      this.#members.delete(call);
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
