/**
 * Progress of a long step (pip installing numpy) on a terminal and in a log. On a TTY one status line under the
 * steps is redrawn in place: a spinner, the time so far and the installer's latest line. Elsewhere (CI logs,
 * pipes) only plain lines are written: each step as it comes, and a "still working" line after each quiet stretch,
 * so a log shows the command is alive without control characters.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Prefix of a step line (a coloured `›`). */
  mark: string;
  /** Redraw interval on a TTY. Default 100 ms. */
  frameMs?: number;
  /** In a log: a "still working" line after this long without output. Default 30 s. */
  quietMs?: number;
  now?: () => number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  readonly #o: Required<Omit<ProgressOptions, 'stream' | 'mark'>> & Pick<ProgressOptions, 'stream' | 'mark'>;
  readonly #started: number;
  #status = '';
  #frame = 0;
  #drawn = false;
  #lastLine: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#o = { frameMs: 100, quietMs: 30_000, now: () => performance.now(), ...options };
    this.#started = this.#lastLine = this.#o.now();
    const tick = this.#o.stream.isTTY ? () => this.#draw() : () => this.#still();
    this.#timer = setInterval(tick, this.#o.stream.isTTY ? this.#o.frameMs : 1_000);
    this.#timer.unref();
  }

  /** A step: a permanent line. */
  step(line: string): void {
    this.#clear();
    this.#o.stream.write(`${this.#o.mark} ${line}\n`);
    this.#lastLine = this.#o.now();
  }

  /** The installer's latest line: the status line's text on a TTY; nothing in a log (steps say enough). */
  status(line: string): void {
    this.#status = line.trim();
  }

  /** Stop drawing and leave no status line behind. */
  stop(): void {
    clearInterval(this.#timer);
    this.#clear();
  }

  #seconds(): string {
    return `${Math.round((this.#o.now() - this.#started) / 1000)} s`;
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length]!;
    const text = `${frame} ${this.#seconds()}${this.#status ? `  ${this.#status}` : ''}`;
    const width = Math.max(20, (this.#o.stream.columns ?? 80) - 1);
    this.#o.stream.write(`\r\u001b[K${text.slice(0, width)}`);
    this.#drawn = true;
  }

  #clear(): void {
    if (!this.#drawn) return;
    this.#o.stream.write('\r\u001b[K');
    this.#drawn = false;
  }

  #still(): void {
    const now = this.#o.now();
    if (now - this.#lastLine < this.#o.quietMs) return;
    this.#o.stream.write(`  … still working (${this.#seconds()})\n`);
    this.#lastLine = now;
  }
}
