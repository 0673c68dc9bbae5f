/**
 * A worker's stdout and stderr, split into lines for the logger, with the last lines of stderr kept for the error a
 * failed start or a crash reports. Shared by spawned (worker-process.ts) and forked (forked-worker.ts) workers.
 */
import type { Readable } from 'node:stream';
import type { OutputStream } from './worker-link.js';

/** Lines of stderr kept for error messages. */
const TAIL_LINES = 40;
/** A longer line is cut (a worker may write anything). */
const MAX_LINE_CHARS = 16_384;

/**
 * Read `stream` line by line into `onLine`; lines of stderr are also kept in `tail` (the last 40). A line with no
 * end is passed on once it passes four times the line bound, and whatever is left when the stream ends or is
 * destroyed still counts.
 */
export function captureLines(
  stream: Readable,
  name: OutputStream,
  tail: string[],
  onLine: (stream: OutputStream, line: string) => void,
): void {
  let partial = '';
  stream.setEncoding('utf8');
  const emit = (line: string): void => {
    const text =
      line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… (${line.length} chars)` : line;
    if (name === 'stderr') {
      tail.push(text);
      if (tail.length > TAIL_LINES) tail.shift();
    }
    onLine(name, text);
  };
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > MAX_LINE_CHARS * 4) {
      lines.push(partial);
      partial = '';
    }
    for (const line of lines) emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  const flush = (): void => {
    if (partial) emit(partial);
    partial = '';
  };
  stream.on('end', flush);
  stream.on('close', flush); // destroyed after the drain bound: what was read still counts
  stream.on('error', () => {
    /* the exit handler reports the death */
  });
}
