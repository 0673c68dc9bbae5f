/**
 * Host side of the bare framed loop: the same frames, codec and socket pair as snakepit, with none of its
 * machinery (no pool, queue, timers, errors, back-pressure). Round-robins over N worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr, RESERVE_START_SPACE } from 'msgpackr';

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
    // Chunks of an unfinished frame are gathered and joined once it is whole (a 1 MiB answer arrives in 64 KiB
    // reads: joining at every read would copy it ~16 times), as snakepit's frame decoder does.
    let buf: Buffer = Buffer.alloc(0);
    let held: Buffer[] = [];
    let heldBytes = 0;
    let need = 0;
    socket.on('data', (chunk: Buffer) => {
      if (heldBytes > 0) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes < need) return;
        buf = Buffer.concat(held, heldBytes);
        held = [];
        heldBytes = 0;
      } else buf = chunk;
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
      if (pos < buf.length) {
        const tail = Buffer.from(buf.subarray(pos)); // the socket may reuse the chunk's memory
        held = [tail];
        heldBytes = tail.length;
        need = tail.length >= 4 ? 4 + tail.readUInt32BE(0) : 4;
      }
    });
  }

  /** Call a bench_funcs function by name with keyword arguments. */
  call(tool: string, args: Record<string, unknown>, onChunk?: (data: unknown) => void): Promise<unknown> {
    const id = this.#nextId++;
    const message = { type: 'call', id, tool, args };
    // Header and body in one buffer, the body packed once (as snakepit's codecs do): no concat copy.
    let frame: Buffer;
    if (this.#codec === 'msgpack') {
      frame = this.#packr.pack(message, RESERVE_START_SPACE | 4);
    } else {
      const text = JSON.stringify(message);
      frame = Buffer.allocUnsafe(4 + Buffer.byteLength(text));
      frame.write(text, 4);
    }
    frame.writeUInt32BE(frame.length - 4, 0);
    const socket = this.#sockets[this.#rr++ % this.#sockets.length]!;
    socket.write(frame);
    return new Promise((resolve) => this.#pending.set(id, { resolve, onChunk }));
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    for (const c of this.#children) c.kill('SIGKILL');
  }
}
