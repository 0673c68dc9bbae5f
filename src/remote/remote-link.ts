/**
 * RemoteLink: a worker process on another machine, reached through one WorkerChannel stream to
 * `python -m snakepit_bridge serve --grpc`. The stream carries the local channel's bytes (GrpcByteStream), the
 * worker's stdout/stderr lines, and finally its exit status; cancelling the stream kills the process over there.
 *
 *   connecting ──(endpoint ready within connectTimeoutMs)──► open ──(exit status, stream OK)──► ended: exit code
 *        │                                                    ├──(stream error: UNAVAILABLE…)──► ended: lost
 *        └──(timeout, refused)─────────────────────────────────┴──(we cancelled: signal())───────► ended: signal
 */
import type { Client, ClientDuplexStream, Metadata, StatusObject } from '@grpc/grpc-js';
import type { ChannelInMessage, ChannelOutMessage, Grpc } from './grpc-proto.js';
import { GrpcByteStream } from './grpc-stream.js';

import { askThenKill, type ExitInfo, type OutputStream, type WorkerLink } from '../worker/worker-link.js';

const TAIL_LINES = 40;

export interface RemoteLinkOptions {
  grpc: Grpc;
  client: Client;
  endpoint: string;
  metadata: Metadata;
  connectTimeoutMs: number;
  onLine(stream: OutputStream, line: string): void;
}

type Call = ClientDuplexStream<ChannelInMessage, ChannelOutMessage>;

export class RemoteLink implements WorkerLink {
  readonly channel = new GrpcByteStream();
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly endpoint: string;
  readonly #options: RemoteLinkOptions;
  readonly #stderrTail: string[] = [];
  #resolveExit!: (info: ExitInfo) => void;
  #call: Call | undefined;
  /** The worker's own exit status, from the stream's last message. */
  #remoteExit: ChannelOutMessage['exit'] = null;
  /** Set when we ended it (signal, stop). */
  #endedBy: NodeJS.Signals | undefined;
  #heardAnything = false;
  /** The remote worker's pid, from its exit status (the host learns it from `hello` too). */
  remotePid: number | undefined;

  constructor(options: RemoteLinkOptions) {
    this.#options = options;
    this.endpoint = options.endpoint;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    this.channel.on('error', () => {
      /* reported through the exit */
    });
    this.#connect();
  }

  get pid(): number | undefined {
    return undefined; // no local process: nothing on this machine to signal, sweep or measure
  }

  get label(): string {
    return `endpoint ${this.endpoint}`;
  }

  stderrTail(): string[] {
    return [...this.#stderrTail];
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo) return;
    this.#endedBy ??= signal;
    if (this.#call) this.#call.cancel();
    else this.#end({ code: null, signal });
  }

  setRef(): void {
    /* an open gRPC stream holds the event loop until the pool closes (grpc-js has no per-call unref) */
  }

  stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    return askThenKill(this, graceMs, this.#call ? ask : undefined);
  }

  #connect(): void {
    const { grpc, client, connectTimeoutMs, endpoint } = this.#options;
    client.waitForReady(Date.now() + connectTimeoutMs, (err) => {
      if (this.exitInfo) return;
      if (err) {
        void this.#whyNoConnection(grpc).then((why) =>
          this.#end({
            code: null,
            signal: null,
            lost: `cannot connect to ${endpoint} within ${connectTimeoutMs} ms (grpc.connectTimeoutMs): ${why ?? err.message}`,
          }),
        );
        return;
      }
      const call = (client as unknown as { WorkerChannel(metadata: Metadata): Call }).WorkerChannel(
        this.#options.metadata,
      );
      this.#call = call;
      call.on('data', (message: ChannelOutMessage) => this.#onMessage(message));
      call.on('error', () => {
        /* the status says it */
      });
      call.on('status', (status: StatusObject) => this.#onStatus(grpc, status));
      this.channel.attach(call);
    });
  }

  /**
   * waitForReady only says "not ready"; a call that does not wait for readiness fails with the channel's last
   * error (a refused connection, a certificate that does not verify), which is what the user needs to read.
   */
  #whyNoConnection(grpc: Grpc): Promise<string | undefined> {
    return new Promise((resolve) => {
      const client = this.#options.client as unknown as {
        Ping(
          request: { message: string },
          metadata: Metadata,
          options: { deadline: number; waitForReady: boolean },
          callback: (err: { code: number; details: string } | null) => void,
        ): void;
      };
      client.Ping(
        { message: 'why' },
        this.#options.metadata,
        { deadline: Date.now() + 1_000, waitForReady: false },
        (err) =>
          resolve(
            err
              ? `${grpc.status[err.code] ?? err.code}: ${err.details.replace(/\.? ?Resolution note: ?$/, '')}`
              : undefined,
          ),
      );
    });
  }

  #onMessage(message: ChannelOutMessage): void {
    this.#heardAnything = true;
    for (const line of message.stdout) this.#options.onLine('stdout', line);
    for (const line of message.stderr) {
      this.#stderrTail.push(line);
      if (this.#stderrTail.length > TAIL_LINES) this.#stderrTail.shift();
      this.#options.onLine('stderr', line);
    }
    if (message.data.length > 0) this.channel.deliver(message.data);
    if (message.exit) {
      this.#remoteExit = message.exit;
      this.remotePid = message.exit.pid || undefined;
    }
  }

  #onStatus(grpc: Grpc, status: StatusObject): void {
    const exit = this.#remoteExit;
    if (exit) {
      this.#end({
        code: exit.code < 0 ? null : exit.code,
        signal: (exit.signal || null) as NodeJS.Signals | null,
      });
    } else if (this.#endedBy) {
      this.#end({ code: null, signal: this.#endedBy });
    } else {
      const name = grpc.status[status.code] ?? String(status.code);
      this.#end({
        code: null,
        signal: null,
        lost:
          status.code === grpc.status.OK
            ? `the stream from ${this.endpoint} ended without the worker's exit status`
            : this.#heardAnything
              ? `connection to ${this.endpoint} lost (${name}: ${status.details})`
              : `${this.endpoint} refused the worker (${name}: ${status.details})`,
      });
    }
  }

  #end(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    if (this.#remoteExit) this.channel.finish();
    else this.channel.fail();
    this.#resolveExit(info);
  }
}
