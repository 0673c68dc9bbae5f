/**
 * FIFO of calls waiting for a worker.
 *
 *   [ gone | gone | live | removed | live | settled | live ]
 *            ^head
 *
 * The count is the queue's own: `size` is the number of calls it holds, and a call stops counting when it is
 * shifted, drained, removed (`remove`, from the pool's `abandon`: its slot becomes a hole), or found settled when
 * it reaches the head (a call settled while queued that nobody removed). No caller keeps the count right by
 * remembering to decrement it: removing a call twice, or one that was never queued, changes nothing.
 *
 * The hot path (push, peek, shift) is a few array operations and a counter; only `remove` searches, from the
 * head — a rare path (a timeout or abort while queued), and the calls that time out first are the oldest.
 */
import type { Call } from '../call/call.js';

export class TaskQueue {
  /** From `#head` on: the queued calls in order, `undefined` where one was removed. */
  #items: Array<Call | undefined> = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(call: Call): void {
    this.#items.push(call);
    this.#size++;
  }

  /** Put a call back at the front: a retried call goes before the calls that arrived after it. */
  unshift(call: Call): void {
    if (this.#head > 0) this.#items[--this.#head] = call;
    else this.#items.unshift(call);
    this.#size++;
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
    this.#items[this.#head++] = undefined;
    this.#size--;
    this.#compact();
    return call;
  }

  /**
   * A queued call was settled (timeout, abort): it stops counting now rather than when it reaches the head.
   * @returns whether it was in the queue
   */
  remove(call: Call): boolean {
    const at = this.#items.indexOf(call, this.#head);
    if (at < 0) return false;
    this.#items[at] = undefined;
    this.#size--;
    return true;
  }

  /** Remove and return every live call (for shutdown). */
  drain(): Call[] {
    const live = this.#items.slice(this.#head).filter((c): c is Call => c !== undefined && !c.settled);
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
    return live;
  }

  /** Step the head past holes and past calls settled while queued (those still count: they stop here). */
  #skipGone(): void {
    while (this.#head < this.#items.length) {
      const call = this.#items[this.#head];
      if (call !== undefined) {
        if (!call.settled) break;
        this.#size--;
      }
      this.#items[this.#head++] = undefined;
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
