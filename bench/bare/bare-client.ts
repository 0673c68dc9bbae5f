/**
 * Host side of the bare framed loop: the same frames, codec and socket pair as snakepit, with none of its
 * machinery (no pool, queue, timers, errors, back-pressure). Round-robins over N worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';

const here = dirname(fileURLToPath(import.meta.url));
// The .py file sits next to the source; the compiled client runs from dist/bench/bare.
const WORKER_PY = join(here.replace(/\/dist\/bench\//, '/bench/'), 'bare_worker.py');

interface Pending {
  resolve(value: unknown): void;
  onChunk?: ((data: unknown) => void) | undefined;
}

export class BareLoop {
  readonly #children: ChildProcess[] = [];
  readonly #sockets: Socket[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #codec: 'msgpack' | 'json';
  readonly #packr = new Packr({ useRecords: false, mapsAsObjects: true });
  #nextId = 1;
  #rr = 0;

  private constructor(codec: 'msgpack' | 'json') {
    this.#codec = codec;
  }

  static async start(python: string, codec: 'msgpack' | 'json', workers: number): Promise<BareLoop> {
    const loop = new BareLoop(codec);
    for (let i = 0; i < workers; i++) {
      const child = spawn(python, [WORKER_PY, codec], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
      const socket = child.stdio[3] as Socket;
      loop.#listen(socket);
      loop.#children.push(child);
      loop.#sockets.push(socket);
    }
    // One call per worker proves each is up.
    await Promise.all(loop.#sockets.map(() => loop.call('add', { a: 1, b: 1 })));
    return loop;
  }

  get pids(): number[] {
    return this.#children.map((c) => c.pid!);
  }

  #listen(socket: Socket): void {
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let pos = 0;
      while (buf.length - pos >= 4) {
        const length = buf.readUInt32BE(pos);
        if (buf.length - pos - 4 < length) break;
        const body = buf.subarray(pos + 4, pos + 4 + length);
        pos += 4 + length;
        const msg = (this.#codec === 'msgpack' ? this.#packr.unpack(body) : JSON.parse(body.toString())) as {
          type: string;
          id: number;
          value?: unknown;
          data?: unknown;
        };
        const pending = this.#pending.get(msg.id);
        if (msg.type === 'chunk') {
          pending?.onChunk?.(msg.data);
          continue;
        }
        this.#pending.delete(msg.id);
        pending?.resolve(msg.value);
      }
      buf = buf.subarray(pos);
    });
  }

  /** Call a bench_funcs function by name with keyword arguments. */
  call(tool: string, args: Record<string, unknown>, onChunk?: (data: unknown) => void): Promise<unknown> {
    const id = this.#nextId++;
    const message = { type: 'call', id, tool, args };
    const body = this.#codec === 'msgpack' ? this.#packr.pack(message) : Buffer.from(JSON.stringify(message));
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(body.length);
    const socket = this.#sockets[this.#rr++ % this.#sockets.length]!;
    socket.write(Buffer.concat([header, body]));
    return new Promise((resolve) => this.#pending.set(id, { resolve, onChunk }));
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    for (const c of this.#children) c.kill('SIGKILL');
  }
}
