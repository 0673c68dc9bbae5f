/**
 * A fake worker for unit tests of the pool's seams: a `LinkKind` whose links are in-process peers speaking the
 * channel protocol (hello → welcome → ready, calls answered when the test says so), so Pool, PoolSupervisor and
 * WorkerHandle run their real code in milliseconds, with no Python. A test drives each worker: answer or fail a
 * call, die with calls in flight, fail to start.
 */
import { Duplex } from 'node:stream';
import { resolveConfig } from '../src/config/resolve-config.js';
import type { ResolvedPoolConfig, SnakepitConfig } from '../src/config/config-types.js';
import type { CallMessage, HostMessage, WorkerMessage } from '../src/protocol/messages.js';
import { jsonCodec } from '../src/transport/codec-json.js';
import { FrameDecoder } from '../src/transport/frame-decoder.js';
import { PROTOCOL_VERSION } from '../src/protocol/messages.js';
import type { LinkKind } from '../src/worker/link-kind.js';
import type { ExitInfo, OutputStream, WorkerLink } from '../src/worker/worker-link.js';

/** Two in-process Duplex ends: what one writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        other().push(chunk);
        done();
      },
      final(done) {
        other().push(null);
        done();
      },
    });
  ends.push(
    make(() => ends[1]!),
    make(() => ends[0]!),
  );
  return [ends[0]!, ends[1]!];
}

export interface FakeWorkerBehaviour {
  /** Never send `ready` (the start times out or is stopped). */
  hang?: boolean;
  /** Answer every call at once with `{ tool, args }`. */
  echo?: boolean;
}

/** The worker side of one fake link. */
export class FakeWorker implements WorkerLink {
  readonly pid = undefined;
  readonly label: string;
  readonly channel: Duplex;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  /** Calls received and not answered yet, in arrival order. */
  readonly pending: CallMessage[] = [];
  /** Every message the host sent (welcome, calls, cancels, shutdown, ...). */
  readonly received: HostMessage[] = [];
  readonly #peer: Duplex;
  readonly #behaviour: FakeWorkerBehaviour;
  #resolveExit!: (exit: ExitInfo) => void;

  constructor(
    readonly workerId: string,
    behaviour: FakeWorkerBehaviour,
    readonly onLine: (stream: OutputStream, line: string) => void,
  ) {
    this.label = `fake ${workerId}`;
    this.#behaviour = behaviour;
    const [host, worker] = duplexPair();
    this.channel = host;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#peer = worker;
    // The worker's side of the channel: frames in, JSON bodies (the host never switches: hello offers only json).
    const decoder = new FrameDecoder(1 << 20);
    worker.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (body) => this.#onMessage(jsonCodec.decode(body) as HostMessage)),
    );
    worker.on('end', () => this.#exit({ code: 0, signal: null }));
    queueMicrotask(() =>
      this.#send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        bridge: 'fake',
        pid: 0,
        python: '3.12.0',
        codecs: ['json'],
        worker: workerId,
      }),
    );
  }

  #send(message: WorkerMessage): void {
    if (!this.exitInfo) this.#peer.write(jsonCodec.encodeFrame(message as unknown as HostMessage, 1 << 20));
  }

  #onMessage(message: HostMessage): void {
    this.received.push(message);
    switch (message.type) {
      case 'welcome':
        if (!this.#behaviour.hang) this.#send({ type: 'ready', adapter: 'fake:Adapter', tools: [] });
        return;
      case 'call':
        if (this.#behaviour.echo) this.answer(message.id, { tool: message.tool, args: message.args });
        else this.pending.push(message);
        return;
      case 'ping':
        return this.#send({ type: 'pong', id: message.id } as WorkerMessage);
      case 'shutdown':
        return this.die({ code: 0, signal: null });
      default:
        return;
    }
  }

  #take(id: number): void {
    const i = this.pending.findIndex((c) => c.id === id);
    if (i >= 0) this.pending.splice(i, 1);
  }

  answer(id: number, value: unknown): void {
    this.#take(id);
    this.#send({ type: 'result', id, value });
  }

  fail(id: number, type: string, message: string): void {
    this.#take(id);
    this.#send({ type: 'error', id, error: { type, message, traceback: '' } } as WorkerMessage);
  }

  /** The worker process ends (a crash unless `exit` says otherwise): its pipe closes. */
  die(exit: ExitInfo = { code: null, signal: 'SIGSEGV' }): void {
    this.#exit(exit);
  }

  #exit(exit: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.#peer.end();
    this.#peer.destroy();
    this.channel.destroy();
    this.#resolveExit(exit);
  }

  stderrTail(): string[] {
    return [];
  }
  signal(signal: NodeJS.Signals): void {
    this.#exit({ code: null, signal });
  }
  setRef(): void {}
  /** Like a process: `ask` sends the shutdown frame (the fake exits when it reads it), forced after `graceMs`. */
  async stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    ask?.();
    setTimeout(() => this.#exit({ code: null, signal: 'SIGKILL' }), ask ? graceMs : 0).unref();
    return this.exited;
  }
}

/** A link kind that makes every local worker a FakeWorker; `workers` lists them in creation order. */
export function fakeLinks(behaviour: (n: number) => FakeWorkerBehaviour = () => ({})): {
  kind: LinkKind;
  workers: FakeWorker[];
} {
  const workers: FakeWorker[] = [];
  const kind: LinkKind = {
    name: 'fake',
    open: () => ({
      linkFor: (endpoint) =>
        endpoint === undefined
          ? ({ workerId, onLine }) => {
              const worker = new FakeWorker(workerId, behaviour(workers.length), onLine);
              workers.push(worker);
              return worker;
            }
          : undefined,
    }),
  };
  return { kind, workers };
}

/** A resolved pool config for fakes (no interpreter is ever started: the path only has to exist). */
export function fakePoolConfig(config: Partial<SnakepitConfig> = {}): ResolvedPoolConfig {
  return resolveConfig({
    adapter: 'fake:Adapter',
    size: 1,
    logger: false,
    heartbeat: false,
    python: { executable: process.execPath },
    ...config,
  } as SnakepitConfig).pools[0]!;
}
