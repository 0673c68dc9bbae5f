/**
 * SnakepitLink: a worker started the way Snakepit starts one (transport `snakepit`), for Python workers written
 * for Snakepit (or this package's bridge in that mode, the default command).
 *
 *   1. the host's BridgeService for this worker listens on `<dir>/host.sock` (SnakepitHostService);
 *   2. spawn `<command> --adapter A --port 0 --elixir-address unix:<dir>/host.sock --snakepit-run-id R` with
 *      SNAKEPIT_READY_FILE and SNAKEPIT_WORKER_SOCKET=<dir>/worker.sock; the worker pings the host, registers its
 *      tools, binds and writes its address there (`unix:<dir>/worker.sock`, or a port from a worker that binds
 *      TCP as Snakepit's own does);
 *   3. once the file is there and the worker answers Ping, the channel (SnakepitChannel) reports `ready`.
 *
 * `<dir>` is a directory of the host's own (mode 0700) and both sockets are 0600: another local user's process
 * can reach neither server (docs/SECURITY.md, "Local servers").
 *
 * The OS side (process group, output lines, signals, stepwise stop) is a WorkerProcess, as for local workers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { type Grpc, loadBridgeProto } from '../remote/grpc-proto.js';
import { SnakepitHostService } from './snakepit-host-service.js';
import { SnakepitChannel } from './snakepit-translator.js';
import { inheritedEnv } from '../worker/worker-env.js';
import type { LinkKind } from '../worker/link-kind.js';
import type { ExitInfo, LinkFactory, OutputStream, WorkerLink } from '../worker/worker-link.js';
import { WorkerProcess } from '../worker/worker-process.js';

const READY_POLL_MS = 25;
const PING_TIMEOUT_MS = 10_000;

/** Live Snakepit-style links (diagnostics: their host services count pings and heartbeats). */
export const liveSnakepitLinks = new Set<SnakepitLink>();

/** The link factory of a pool with `transport: "snakepit"`. */
export function snakepitLink(config: ResolvedPoolConfig, runId: string): LinkFactory {
  return ({ workerId, onLine }) => new SnakepitLink(config, runId, workerId, onLine);
}

/** The Snakepit link kind: the pool's local workers are Snakepit-style servers (`transport: "snakepit"`). */
export const snakepitLinks: LinkKind = {
  name: 'snakepit',
  open: ({ config, runId }) =>
    config.snakepit
      ? { linkFor: (endpoint) => (endpoint === undefined ? snakepitLink(config, runId) : undefined) }
      : undefined,
};

export class SnakepitLink implements WorkerLink {
  readonly channel: SnakepitChannel;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly #config: ResolvedPoolConfig;
  readonly #runId: string;
  readonly workerId: string;
  readonly #onLine: (stream: OutputStream, line: string) => void;
  readonly #dir = mkdtempSync(join(tmpdir(), 'snakepit-style-'));
  #resolveExit!: (info: ExitInfo) => void;
  #proc: WorkerProcess | undefined;
  #service: SnakepitHostService | undefined;
  #client: Client | undefined;
  #spawned: Promise<{ grpc: Grpc; service: SnakepitHostService }>;
  /** A signal asked for before the process existed. */
  #pendingSignal: NodeJS.Signals | undefined;
  /** Where the host's BridgeService for this worker listens, once started. */
  hostAddress: string | undefined;
  /** Where the worker's BridgeService listens, once its ready file is read. */
  workerAddress: string | undefined;

  constructor(
    config: ResolvedPoolConfig,
    runId: string,
    workerId: string,
    onLine: (stream: OutputStream, line: string) => void,
  ) {
    this.#config = config;
    this.#runId = runId;
    this.workerId = workerId;
    liveSnakepitLinks.add(this);
    this.#onLine = onLine;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#spawned = this.#spawn();
    this.#spawned.catch((err: unknown) =>
      this.#end({
        code: null,
        signal: null,
        spawnError: err instanceof Error ? err : new Error(String(err)),
      }),
    );
    this.channel = new SnakepitChannel({
      workerId,
      adapter: config.adapter,
      maxFrameBytes: config.maxFrameBytes,
      connect: () => this.#connect(),
      exited: this.exited,
    });
    this.channel.on('error', () => {
      /* a bad frame from the host is a host bug; the exit reports the rest */
    });
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get label(): string {
    return `pid ${this.#proc?.pid ?? '?'}, Snakepit style`;
  }

  /** The host's BridgeService of this worker (heartbeats, registered tools), once started. */
  get service(): SnakepitHostService | undefined {
    return this.#service;
  }

  stderrTail(): string[] {
    return this.#proc?.stderrTail() ?? [];
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#proc) this.#proc.signal(signal);
    else this.#pendingSignal ??= signal;
  }

  setRef(ref: boolean): void {
    this.#proc?.setRef(ref);
  }

  /** `ask` (answered by the channel: `bye`), then SIGTERM at once — the worker knows nothing of `shutdown`. */
  async stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    ask?.();
    await this.#spawned.catch(() => undefined);
    if (!this.#proc) return this.exited;
    return this.#proc.stop(graceMs, () => this.#proc!.signal('SIGTERM'));
  }

  async #spawn(): Promise<{ grpc: Grpc; service: SnakepitHostService }> {
    const proto = await loadBridgeProto();
    const service = new SnakepitHostService(proto);
    service.delegate = this.channel;
    this.#service = service;
    const address = await service.start(join(this.#dir, 'host.sock'));
    this.hostAddress = address;
    const config = this.#config;
    const command = config.snakepit?.command ?? [
      config.python.executable,
      '-m',
      'snakepit_bridge',
      'snakepit',
    ];
    const pythonPath = [config.bridgeDir, ...config.pythonPath, process.env['PYTHONPATH'] ?? '']
      .filter(Boolean)
      .join(':');
    const proc = new WorkerProcess({
      executable: command[0]!,
      args: [
        ...command.slice(1),
        '--adapter',
        config.adapter,
        '--port',
        '0',
        '--elixir-address',
        address,
        '--snakepit-run-id',
        this.#runId,
      ],
      env: {
        OPENBLAS_NUM_THREADS: '1',
        OMP_NUM_THREADS: '1',
        MKL_NUM_THREADS: '1',
        SNAKEPIT_HEARTBEAT_CONFIG: JSON.stringify({ enabled: config.snakepit?.heartbeat ?? true }),
        ...inheritedEnv(), // the host's environment without its secrets (worker-env.ts)
        ...config.env,
        PYTHONPATH: pythonPath,
        PYTHONUNBUFFERED: '1',
        SNAKEPIT_READY_FILE: join(this.#dir, 'ready'),
        SNAKEPIT_WORKER_SOCKET: join(this.#dir, 'worker.sock'),
        // The pool's env reaches the worker process the Snakepit-style process starts, secrets included.
        SNAKEPIT_PASS_ENV: Object.keys(config.env).join(','),
        SNAKEPIT_WORKER_ID: this.workerId,
        SNAKEPIT_RUN_ID: this.#runId,
      },
      cwd: config.cwd,
      onLine: this.#onLine,
    });
    this.#proc = proc;
    void proc.exited.then((info) => this.#end(info));
    if (this.#pendingSignal) proc.signal(this.#pendingSignal);
    return { grpc: proto.grpc, service };
  }

  /** Wait for the ready file and a Ping answer; the channel then reports `ready`. */
  async #connect(): Promise<{ client: Client; grpc: Grpc; service: SnakepitHostService }> {
    const { grpc, service } = await this.#spawned;
    const readyFile = join(this.#dir, 'ready');
    while (!existsSync(readyFile)) {
      if (this.exitInfo) throw new Error('the worker exited before it wrote its ready file');
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    const address = workerAddress(readFileSync(readyFile, 'utf8').trim(), this.#dir);
    const proto = await loadBridgeProto();
    this.workerAddress = address;
    const client = new proto.BridgeService(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 100 * 1024 * 1024,
      'grpc.max_send_message_length': 100 * 1024 * 1024,
    });
    this.#client = client;
    await new Promise<void>((resolve, reject) =>
      (
        client as unknown as {
          Ping(req: unknown, md: unknown, opts: unknown, cb: (err: Error | null) => void): void;
        }
      ).Ping(
        { message: 'host' },
        new grpc.Metadata(),
        { deadline: Date.now() + PING_TIMEOUT_MS, waitForReady: true },
        (err: Error | null) =>
          err ? reject(new Error(`the worker at ${address} did not answer Ping: ${err.message}`)) : resolve(),
      ),
    );
    return { client, grpc, service };
  }

  #end(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    liveSnakepitLinks.delete(this);
    this.#service?.close();
    this.#client?.close();
    rmSync(this.#dir, { recursive: true, force: true });
    this.channel.finish();
    this.#resolveExit(info);
  }
}

/**
 * The worker's address from its ready file: `unix:<path>` inside the link's own directory (this package's
 * worker), or a port on 127.0.0.1 (a worker that binds TCP, as Snakepit's own does).
 * @throws Error naming what the file holds when it is neither
 */
function workerAddress(text: string, dir: string): string {
  if (text.startsWith('unix:')) {
    if (dirname(text.slice('unix:'.length)) !== dir) {
      throw new Error(
        `the worker's ready file names a socket outside its directory: ${JSON.stringify(text)}`,
      );
    }
    return text;
  }
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new Error(
      `the worker's ready file holds ${JSON.stringify(text.slice(0, 100))}, not a port or a socket`,
    );
  }
  return `127.0.0.1:${port}`;
}
