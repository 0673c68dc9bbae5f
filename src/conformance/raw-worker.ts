/**
 * A worker driven by hand, below the pool: spawn it with its channel on fd 3, read its `hello`, and test what the
 * pool cannot show — the shape of `hello`, leaving on end of file, exit code 4 on a broken frame. JSON codec only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

export interface RawWorker {
  child: ChildProcess;
  channel: Socket;
  /** The next frame's body, parsed as JSON (the handshake frames are always JSON). */
  nextMessage(timeoutMs: number): Promise<Record<string, unknown>>;
  send(message: unknown): void;
  sendRaw(bytes: Buffer): void;
  /** Resolves with the exit code (or signal name) once the process ends, or undefined after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | string | undefined>;
  kill(): void;
}

export function spawnRaw(command: string[], env: NodeJS.ProcessEnv, cwd: string | undefined): RawWorker {
  const [executable, ...args] = command;
  const child = spawn(executable!, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env,
    cwd,
    detached: true,
  });
  child.stderr?.resume();
  const channel = child.stdio[3] as Socket;
  let buffered = Buffer.alloc(0);
  const bodies: Buffer[] = [];
  let wake: (() => void) | undefined;
  channel.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const n = buffered.readUInt32BE(0);
      bodies.push(buffered.subarray(4, 4 + n));
      buffered = buffered.subarray(4 + n);
    }
    wake?.();
  });
  channel.on('error', () => {});
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (err) => resolve(`spawn failed: ${err.message}`));
  });
  const frame = (body: Buffer): Buffer => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    return Buffer.concat([header, body]);
  };
  return {
    child,
    channel,
    async nextMessage(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (bodies.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const body = bodies.shift()!;
      if (body[0] !== 0x7b) throw new Error('the frame is not JSON text (a handshake frame must be)');
      return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    },
    send(message) {
      channel.write(frame(Buffer.from(JSON.stringify(message))));
    },
    sendRaw(bytes) {
      channel.write(bytes);
    },
    exited(timeoutMs) {
      return Promise.race([exit, new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs))]);
    },
    kill() {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}
