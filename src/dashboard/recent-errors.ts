/**
 * RecentErrors: the last calls that failed, with their Python tracebacks, kept in a ring from `call:exception`
 * events (only while a dashboard listens, so the call path is unchanged without one).
 *
 * What a worker sends back is not trusted: a message or traceback can be any size and hold any characters. Both
 * are cut here (a traceback keeps its end, where the exception is), and shown as text by every viewer.
 */
import type { SnakepitEvents } from '../telemetry/event-bus.js';
import type { ErrorEntry } from './dashboard-types.js';

export const MAX_MESSAGE_CHARS = 2000;
export const MAX_TRACEBACK_CHARS = 16_000;

export class RecentErrors {
  readonly #capacity: number;
  /** Oldest first. */
  readonly #entries: ErrorEntry[] = [];
  #seq = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The number of the newest error (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  record(e: SnakepitEvents['call:exception'], now = Date.now()): void {
    const err = e.error as Error & { pythonType?: unknown; traceback?: unknown };
    const traceback = typeof err.traceback === 'string' && err.traceback !== '' ? err.traceback : undefined;
    this.#entries.push({
      seq: ++this.#seq,
      at: now,
      pool: e.pool,
      tool: cutHead(e.tool, 200),
      worker: e.worker,
      session: e.session === undefined ? undefined : cutHead(e.session, 200),
      correlationId: cutHead(e.correlationId, 200),
      errorName: e.errorName,
      errorCode: e.errorCode,
      kind: e.kind,
      message: cutHead(String(err.message ?? ''), MAX_MESSAGE_CHARS),
      pythonType: typeof err.pythonType === 'string' ? cutHead(err.pythonType, 200) : undefined,
      traceback: traceback === undefined ? undefined : cutTail(traceback, MAX_TRACEBACK_CHARS),
      durationMs: Math.round(e.durationMs * 1000) / 1000,
    });
    if (this.#entries.length > this.#capacity) this.#entries.shift();
  }

  /** The errors numbered above `seq` (all by default), newest first. */
  since(seq = 0): ErrorEntry[] {
    const out: ErrorEntry[] = [];
    for (let i = this.#entries.length - 1; i >= 0 && this.#entries[i]!.seq > seq; i--)
      out.push(this.#entries[i]!);
    return out;
  }
}

function cutHead(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function cutTail(text: string, max: number): string {
  return text.length <= max ? text : `… (${text.length - max} characters cut)\n${text.slice(-max)}`;
}
