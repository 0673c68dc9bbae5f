/**
 * Host side of the bare framed loop: the same frames, codec and socket pair as snakepit, with none of its
 * machinery (no pool, queue, timers, errors). Round-robins over N worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';

const here = dirname(fileURLToPath(import.meta.url));
// The .py file sits next to the source; the compiled client runs from dist/bench/bare.
const WORKER_PY = join(here.replace(/\/dist\/bench\//, '/bench/'), 'bare_worker.py');

interface Endpoint {
  child: ChildProcess;
  socket: Socket;
}

export class BareLoop {
  readonly #endpoints: Endpoint[] = [];
  readonly #pending = new Map<number, (value: unknown) => void>();
  readonly #onChunk = new Map<number, (data: unknown) => void>();
  readonly #codec: 'msgpack' | 'json';
  readonly #packr = new Packr({ useRecords: false });
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
      loop.#endpoints.push({ child, socket });
    }
    // One call per worker proves each is up.
    await Promise.all(loop.#endpoints.map(() => loop.call(1, 1)));
    return loop;
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
          value: unknown;
          data: unknown;
        };
        if (msg.type === 'chunk') {
          this.#onChunk.get(msg.id)?.(msg.data);
          continue;
        }
        const resolve = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        this.#onChunk.delete(msg.id);
        resolve?.(msg.value);
      }
      buf = buf.subarray(pos);
    });
  }

  /** A stream of `n` small dicts; resolves with the number of chunks received. */
  async stream(n: number): Promise<number> {
    let received = 0;
    const id = this.#nextId;
    this.#onChunk.set(id, () => received++);
    await this.#send('count', { n });
    return received;
  }

  call(a: number, b: number): Promise<unknown> {
    return this.#send('add', { a, b });
  }

  #send(tool: string, args: Record<string, number>): Promise<unknown> {
    const id = this.#nextId++;
    const message = { type: 'call', id, tool, args };
    const body = this.#codec === 'msgpack' ? this.#packr.pack(message) : Buffer.from(JSON.stringify(message));
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(body.length);
    const endpoint = this.#endpoints[this.#rr++ % this.#endpoints.length]!;
    endpoint.socket.write(Buffer.concat([header, body]));
    return new Promise((resolve) => this.#pending.set(id, resolve));
  }

  close(): void {
    for (const e of this.#endpoints) {
      e.socket.destroy();
      e.child.kill('SIGKILL');
    }
  }
}
