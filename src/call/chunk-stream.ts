/**
 * ChunkStream: the AsyncIterable that `executeStream` returns.
 *
 * Chunks arrive from the worker into a buffer; the consumer pulls them. Credit flows back as the consumer pulls
 * (half a window at a time), so the worker never runs more than `window` chunks ahead of the consumer and a slow
 * consumer holds at most one window in memory on either side. An error ends the iteration after the chunks
 * that arrived before it; `break` (iterator `return()`) stops the Python generator.
 */
import { DEFAULTS } from '../config/defaults.js';

export interface ChunkStreamControl {
  /** Give the worker `n` more credits. */
  grant(n: number): void;
  /** The consumer stopped early. */
  stop(): void;
}

export class ChunkStream implements AsyncIterableIterator<unknown> {
  readonly window: number;
  #buffer: unknown[] = [];
  #head = 0;
  #pending: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: Error) => void } | undefined;
  #ended = false;
  #error: Error | undefined;
  #consumedSinceGrant = 0;
  #control: ChunkStreamControl | undefined;
  #stopped = false;
  /** Chunks received so far. */
  received = 0;

  constructor(window: number = DEFAULTS.streamWindow) {
    this.window = window;
  }

  /** Wire the stream to its call (set once, when the call is created). */
  attach(control: ChunkStreamControl): void {
    this.#control = control;
  }

  /** Credit granted up to now is spent by the worker; called by the worker handle per chunk. */
  push(data: unknown): void {
    if (this.#ended || this.#stopped) return;
    this.received++;
    const waiter = this.#pending;
    if (waiter) {
      this.#pending = undefined;
      this.#consumed();
      waiter.resolve({ value: data, done: false });
      return;
    }
    this.#buffer.push(data);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settleWaiter();
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#settleWaiter();
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head];
      this.#buffer[this.#head++] = undefined;
      if (this.#head === this.#buffer.length) {
        this.#buffer = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      this.#consumed();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended)
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    if (this.#pending)
      return Promise.reject(new Error('ChunkStream: next() called again before the previous one settled'));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    if (!this.#ended && !this.#stopped) {
      this.#stopped = true;
      this.#buffer = [];
      this.#head = 0;
      this.#control?.stop();
    }
    this.#ended = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  #consumed(): void {
    if (++this.#consumedSinceGrant * 2 >= this.window && !this.#ended) {
      const n = this.#consumedSinceGrant;
      this.#consumedSinceGrant = 0;
      this.#control?.grant(n);
    }
  }

  #settleWaiter(): void {
    // Buffered chunks are still delivered by next(); only a consumer already waiting on an empty buffer hears now.
    const waiter = this.#pending;
    if (!waiter || this.#head < this.#buffer.length) return;
    this.#pending = undefined;
    if (this.#error) waiter.reject(this.#error);
    else waiter.resolve({ value: undefined, done: true });
  }
}
