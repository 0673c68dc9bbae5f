/**
 * Deadlines: one timer per distinct timeout instead of one per call.
 *
 * Calls with the same `timeoutMs` expire in the order they were submitted, so each timeout gets a FIFO of
 * (deadline, entry) and one Node timer armed for its head. Registering a call appends to the FIFO; settling it only
 * marks its entry dead (no timer to clear). When the timer fires, the entries whose deadline has passed expire in
 * order (dead ones are skipped) and the timer is re-armed for the next live one. A FIFO whose entries are mostly
 * dead is compacted, so a call that settled long before its deadline is not kept until then.
 *
 * This is what Node's own timer lists do per duration, without a Timeout object per call: at tens of thousands of
 * calls per second, creating and clearing a timer per call was a measurable share of the host's CPU.
 */

/** A registered deadline: `cancel()` when the call settles first. */
export interface Deadline {
  cancel(): void;
}

class Entry implements Deadline {
  at: number;
  fire: (() => void) | undefined;
  readonly #fifo: Fifo;

  constructor(at: number, fire: () => void, fifo: Fifo) {
    this.at = at;
    this.fire = fire;
    this.#fifo = fifo;
  }

  cancel(): void {
    if (this.fire === undefined) return;
    this.fire = undefined;
    this.#fifo.died();
  }
}

/** Compaction: only once a FIFO has this many entries, and more than half of them are dead. */
const COMPACT_MIN = 256;

/** Re-arms for a timer that fired before its deadline by the real clock, before the deadline counts as due. */
const MAX_EARLY_FIRES = 5;

class Fifo {
  readonly #timeoutMs: number;
  readonly #lists: Map<number, Fifo>;
  #entries: Entry[] = [];
  #head = 0;
  #live = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer was armed for, and how many times it fired short of it (see `#expire`). */
  #armedFor = 0;
  #early = 0;

  constructor(timeoutMs: number, lists: Map<number, Fifo>) {
    this.#timeoutMs = timeoutMs;
    this.#lists = lists;
  }

  add(fire: () => void): Entry {
    const entry = new Entry(performance.now() + this.#timeoutMs, fire, this);
    this.#entries.push(entry);
    this.#live++;
    if (this.#timer === undefined) this.#arm(entry.at);
    return entry;
  }

  died(): void {
    this.#live--;
    if (this.#live === 0) {
      // Nothing left to expire: drop the timer and the FIFO (a later call starts a new one).
      this.#clear();
      return;
    }
    const size = this.#entries.length - this.#head;
    if (size >= COMPACT_MIN && this.#live * 2 < size) {
      this.#entries = this.#entries.slice(this.#head).filter((e) => e.fire !== undefined);
      this.#head = 0;
    }
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
    if (this.#lists.get(this.#timeoutMs) === this) this.#lists.delete(this.#timeoutMs);
  }

  #arm(at: number): void {
    if (at !== this.#armedFor) this.#early = 0;
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(at - performance.now())));
  }

  #expire(): void {
    this.#timer = undefined;
    let now = performance.now();
    if (now < this.#armedFor) {
      // Node fires timers from the loop's cached clock, which can lag performance.now() by the time the current
      // loop turn has run: the timer may fire up to that much early. Wait out the rest, so no call expires before its
      // timeout. A clock that never moves (fake timers that fake setTimeout but not performance) must not loop
      // forever: after a few early fires the armed deadline counts as due.
      if (++this.#early <= MAX_EARLY_FIRES) {
        this.#arm(this.#armedFor); // the same deadline: its count of early fires goes on
        return;
      }
      now = this.#armedFor;
    }
    const entries = this.#entries;
    // Entries expire in order; a fire() may register new deadlines (a retry) or cancel others: both are safe,
    // since new entries go to the end and a cancelled one is skipped.
    while (this.#head < entries.length && entries === this.#entries) {
      const entry = entries[this.#head]!;
      if (entry.fire === undefined) {
        this.#head++;
        continue;
      }
      if (entry.at > now) break; // not due yet: re-armed below
      const fire = entry.fire;
      entry.fire = undefined;
      this.#head++;
      this.#live--;
      fire();
    }
    if (this.#entries !== entries) {
      if (this.#timer === undefined && this.#live > 0) this.#armNext();
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
    if (this.#live === 0) this.#clear();
    else if (this.#timer === undefined) this.#armNext();
  }

  #armNext(): void {
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head]!.fire === undefined) this.#head++;
    const next = entries[this.#head];
    if (next !== undefined) this.#arm(next.at);
  }
}

/** The deadlines of one host (every pool): a FIFO and a timer per distinct timeout. */
export class Deadlines {
  readonly #lists = new Map<number, Fifo>();

  /** Call `fire` once `timeoutMs` have passed, unless the returned deadline is cancelled first. */
  add(timeoutMs: number, fire: () => void): Deadline {
    let fifo = this.#lists.get(timeoutMs);
    if (fifo === undefined) {
      fifo = new Fifo(timeoutMs, this.#lists);
      this.#lists.set(timeoutMs, fifo);
    }
    return fifo.add(fire);
  }

  /** Distinct timeouts with live deadlines (for tests). */
  get size(): number {
    return this.#lists.size;
  }
}

/** The process's deadlines, shared by every call. */
export const deadlines = new Deadlines();
