/**
 * RayLink: one pool worker that runs in a Ray actor, reached through the pool's Ray driver (ray-driver.ts). Its
 * channel is a Duplex whose bytes travel as the driver's `D` frames; the actor hands them to an ordinary worker
 * process and sends back what that process writes, its output lines and finally its exit status.
 *
 *   waiting for the driver ──► actor placed (`P`) ──► exit status (`X`) ──► ended: the worker's exit code or signal
 *          └── driver gone / cluster unreachable ───────┴── actor died ────► ended: lost (why)
 */
import { Duplex } from 'node:stream';
import { askThenKill, type ExitInfo, type OutputStream, type WorkerLink } from '../worker/worker-link.js';

const TAIL_LINES = 40;

/** What a link needs of the driver it runs through. */
export interface RayLinkPort {
  send(kind: 'D' | 'E' | 'K', worker: number, payload: Buffer): void;
  /** Whether this worker keeps the host's event loop alive (busy or starting), through the driver's process. */
  ref(worker: number, ref: boolean): void;
}

/** Where Ray placed the actor (the driver's `P` frame). */
export interface RayPlacement {
  pid: number;
  worker_pid: number;
  node_id: string;
  node_ip: string;
  actor_id: string;
}

class RayByteStream extends Duplex {
  #ended = false;

  constructor(
    private readonly port: RayLinkPort,
    private readonly number: number,
  ) {
    super();
  }

  deliver(data: Buffer): void {
    if (!this.#ended) this.push(data);
  }

  /** The worker ended and said how: end of file for the reader. */
  finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.push(null);
  }

  /** The actor or the driver is gone: close without an end of file (not a peer that broke the protocol). */
  fail(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.destroy();
  }

  override _read(): void {
    /* pushed as it arrives */
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.#ended) this.port.send('D', this.number, chunk);
    callback();
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    if (!this.#ended) this.port.send('D', this.number, Buffer.concat(chunks.map((c) => c.chunk)));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#ended) this.port.send('E', this.number, Buffer.alloc(0));
    callback();
  }
}

export class RayLink implements WorkerLink {
  readonly channel: RayByteStream;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  /** Set once Ray has placed the actor. */
  placement: RayPlacement | undefined;
  readonly #port: RayLinkPort;
  readonly #number: number;
  readonly #onLine: (stream: OutputStream, line: string) => void;
  readonly #stderrTail: string[] = [];
  #resolveExit!: (info: ExitInfo) => void;
  #killed: NodeJS.Signals | undefined;

  constructor(port: RayLinkPort, number: number, onLine: (stream: OutputStream, line: string) => void) {
    this.#port = port;
    this.#number = number;
    this.#onLine = onLine;
    this.channel = new RayByteStream(port, number);
    this.channel.on('error', () => {
      /* reported through the exit */
    });
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
  }

  get pid(): number | undefined {
    return undefined; // the actor's process is the cluster's: nothing here to signal, sweep or measure
  }

  get label(): string {
    const p = this.placement;
    return p
      ? `ray actor ${p.actor_id.slice(0, 12)} on ${p.node_ip}`
      : `ray actor #${this.#number} (not placed yet)`;
  }

  stderrTail(): string[] {
    return [...this.#stderrTail];
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo) return;
    if (signal === 'SIGKILL') this.#killed = signal;
    this.#port.send('K', this.#number, Buffer.from(JSON.stringify({ signal })));
  }

  setRef(ref: boolean): void {
    this.#port.ref(this.#number, ref && this.exitInfo === undefined);
  }

  stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    return askThenKill(this, graceMs, this.placement ? ask : undefined);
  }

  // ── from the driver ──

  placed(placement: RayPlacement): void {
    this.placement = placement;
  }

  data(data: Buffer): void {
    this.channel.deliver(data);
  }

  output(stdout: string[], stderr: string[]): void {
    for (const line of stdout) this.#onLine('stdout', line);
    for (const line of stderr) {
      this.#stderrTail.push(line);
      if (this.#stderrTail.length > TAIL_LINES) this.#stderrTail.shift();
      this.#onLine('stderr', line);
    }
  }

  /** The worker ended: `code`/`signal` from its process, or `lost` when the actor or the driver went. */
  ended(info: ExitInfo): void {
    if (this.exitInfo) return;
    const exit: ExitInfo =
      this.#killed && info.lost !== undefined ? { code: null, signal: this.#killed } : info;
    this.exitInfo = exit;
    this.#port.ref(this.#number, false);
    if (exit.lost === undefined) this.channel.finish();
    else this.channel.fail();
    this.#resolveExit(exit);
  }
}
