/**
 * Server-Sent Events, both ends: `formatEvent` writes one event, `SseParser` reads a stream of them (for
 * `snakepit top`; browsers have EventSource).
 */

/** One event as text: `event:` and `id:` lines, then the data (one `data:` line per line of it). */
export function formatEvent(event: string, data: string, id?: number): string {
  let out = `event: ${event}\n`;
  if (id !== undefined) out += `id: ${id}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** Reads SSE text as it arrives, in chunks of any size; calls `onEvent` for each complete event. */
export class SseParser {
  readonly #onEvent: (e: SseEvent) => void;
  readonly #maxEventChars: number;
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #dataChars = 0;
  #id: string | undefined;

  /** An event larger than `maxEventChars` is an error (the stream is not what we expect). */
  constructor(onEvent: (e: SseEvent) => void, maxEventChars = 64 * 1024 * 1024) {
    this.#onEvent = onEvent;
    this.#maxEventChars = maxEventChars;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.#buffer.slice(start).search(/\r\n|\r|\n/);
      if (nl < 0) break;
      const end = start + nl;
      const line = this.#buffer.slice(start, end);
      start = end + (this.#buffer.startsWith('\r\n', end) ? 2 : 1);
      this.#line(line);
    }
    this.#buffer = this.#buffer.slice(start);
    if (this.#buffer.length + this.#dataChars > this.#maxEventChars) {
      throw new Error(`an event of more than ${this.#maxEventChars} characters`);
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) {
        this.#onEvent({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      }
      this.#event = '';
      this.#data = [];
      this.#dataChars = 0;
      return;
    }
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#data.push(value);
      this.#dataChars += value.length;
    } else if (field === 'id') this.#id = value;
  }
}
