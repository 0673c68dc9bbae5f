/**
 * SnakepitChannel: the local channel's protocol, spoken on behalf of a Snakepit-style worker by turning its
 * messages into BridgeService RPCs. To the WorkerHandle above it this is an ordinary worker on a byte pipe (JSON
 * codec), so pools, sessions, timeouts, cancellation, heartbeats and host tools need no code of their own.
 *
 *   host frame            RPC to the worker                       frames back
 *   ──────────            ─────────────────                       ───────────
 *   (open)                                                        hello {codecs: [json]}
 *   welcome               wait for the ready file, Ping            ready {tools: RegisterTools'}
 *   call                  ExecuteTool                             result | error
 *   call {stream}         ExecuteStreamingTool (paused at 0 credit) chunk* then result | error
 *   cancel                cancel the RPC                          error {kind: cancelled}
 *   credit                resume the stream
 *   ping                  Ping                                    pong
 *   session_end           CleanupSession
 *   shutdown                                                      bye (the link then stops the process)
 *   host_result/_error    (answers ExecuteElixirTool, from the host service)
 */
import { Duplex } from 'node:stream';
import type { Client, ClientReadableStream, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import {
  PROTOCOL_VERSION,
  type ErrorInfo,
  type HostMessage,
  type WorkerMessage,
} from '../protocol/messages.js';
import { jsonCodec } from '../transport/codec-json.js';
import { FrameDecoder } from '../transport/frame-decoder.js';
import type { Grpc } from '../remote/grpc-proto.js';
import type { HostServiceDelegate, SnakepitHostService } from './snakepit-host-service.js';
import {
  type AnyMessage,
  decodeAny,
  decodeChunkData,
  encodeParameters,
  errorInfoFromJson,
} from './snakepit-values.js';

/** Extra time past a call's own timeout before its RPC is cut (the host cancels it at the timeout anyway). */
const DEADLINE_SLACK_MS = 2_000;
/** A failed RPC on a worker that is still running becomes an error after this long (a dead one exits first). */
const EXIT_WAIT_MS = 1_000;

interface BridgeClient extends Client {
  ExecuteTool(
    req: unknown,
    md: Metadata,
    opts: { deadline?: number },
    cb: (e: ServiceError | null, r?: ToolResponse) => void,
  ): ClientUnaryCall;
  ExecuteStreamingTool(
    req: unknown,
    md: Metadata,
    opts: { deadline?: number },
  ): ClientReadableStream<ToolChunkMessage>;
  Ping(
    req: unknown,
    md: Metadata,
    opts: { deadline?: number },
    cb: (e: ServiceError | null) => void,
  ): ClientUnaryCall;
  CleanupSession(
    req: unknown,
    md: Metadata,
    opts: { deadline?: number },
    cb: (e: ServiceError | null) => void,
  ): ClientUnaryCall;
}

interface ToolResponse {
  success: boolean;
  result: AnyMessage | null;
  error_message: string;
  binary_result: Buffer;
}
interface ToolChunkMessage {
  chunk_id: string;
  data: Buffer;
  is_final: boolean;
  metadata: Record<string, string>;
}

interface OpenCall {
  tool: string;
  rpc: ClientUnaryCall | ClientReadableStream<ToolChunkMessage>;
  cancelled: string | undefined;
  credits: number;
  paused: boolean;
  seq: number;
}

export interface SnakepitChannelOptions {
  workerId: string;
  adapter: string;
  maxFrameBytes: number;
  /**
   * Resolves once the worker is up (its ready file written, Ping answered) with a client of its BridgeService,
   * the grpc module and the host service it calls back; rejects when it cannot be reached.
   */
  connect(): Promise<{ client: Client; grpc: Grpc; service: SnakepitHostService }>;
  /** Resolves when the worker process has exited. */
  exited: Promise<unknown>;
}

export class SnakepitChannel extends Duplex implements HostServiceDelegate {
  readonly #options: SnakepitChannelOptions;
  readonly #decoder: FrameDecoder;
  readonly #calls = new Map<number, OpenCall>();
  readonly #hostCalls = new Map<
    number,
    (outcome: Awaited<ReturnType<HostServiceDelegate['hostCall']>>) => void
  >();
  #client: BridgeClient | undefined;
  #grpc: Grpc | undefined;
  #service: SnakepitHostService | undefined;
  #nextHostCall = 1;
  #exited = false;
  #finished = false;

  constructor(options: SnakepitChannelOptions) {
    super();
    this.#options = options;
    this.#decoder = new FrameDecoder(options.maxFrameBytes);
    void options.exited.then(() => {
      this.#exited = true;
    });
    this.#emit({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      bridge: 'snakepit-style',
      pid: 0,
      python: '',
      codecs: ['json'],
      worker: options.workerId,
    });
  }

  /** The worker process ended: no more frames. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const call of this.#calls.values()) call.rpc.cancel();
    this.#calls.clear();
    this.#client?.close();
    this.push(null);
  }

  // ── HostServiceDelegate: ExecuteElixirTool arrives here and goes to the host as a host_call ─────────────

  hostCall(
    request: Parameters<HostServiceDelegate['hostCall']>[0],
  ): ReturnType<HostServiceDelegate['hostCall']> {
    const id = this.#nextHostCall++;
    return new Promise((resolve) => {
      this.#hostCalls.set(id, resolve);
      this.#emit({
        type: 'host_call',
        id,
        tool: request.tool,
        args: request.args,
        ...(request.session ? { session: request.session } : {}),
        ...(request.parent !== undefined ? { parent: request.parent } : {}),
        ...(request.timeoutMs !== undefined ? { timeout_ms: request.timeoutMs } : {}),
      });
    });
  }

  // ── Duplex ────────────────────────────────────────────────────────────────────────────────────────────

  override _read(): void {
    /* frames are pushed as they are made */
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.#decoder.push(chunk, (body) => this.#onHostMessage(jsonCodec.decode(body) as HostMessage));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  // ── host → worker ─────────────────────────────────────────────────────────────────────────────────────

  #onHostMessage(message: HostMessage): void {
    switch (message.type) {
      case 'welcome':
        return void this.#connect();
      case 'call':
        return message.stream ? this.#stream(message) : this.#execute(message);
      case 'cancel': {
        const call = this.#calls.get(message.id);
        if (call && !call.cancelled) {
          call.cancelled = message.reason;
          call.rpc.cancel();
        }
        return;
      }
      case 'credit': {
        const call = this.#calls.get(message.id);
        if (!call) return;
        call.credits += message.n;
        if (call.paused && call.credits > 0) {
          call.paused = false;
          (call.rpc as ClientReadableStream<ToolChunkMessage>).resume();
        }
        return;
      }
      case 'ping':
        this.#client?.Ping(
          { message: 'heartbeat' },
          this.#metadata(),
          { deadline: Date.now() + 5_000 },
          (err) => {
            if (!err) this.#emit({ type: 'pong', id: message.id });
          },
        );
        return;
      case 'session_end':
        this.#client?.CleanupSession(
          { session_id: message.session, force: false },
          this.#metadata(),
          {},
          () => {},
        );
        return;
      case 'shutdown':
        return this.#emit({ type: 'bye' });
      case 'host_result':
      case 'host_error': {
        const resolve = this.#hostCalls.get(message.id);
        this.#hostCalls.delete(message.id);
        resolve?.(message.type === 'host_result' ? { value: message.value } : { error: message.error });
        return;
      }
      default:
        return; // pong, release: nothing to do for a worker without object references
    }
  }

  async #connect(): Promise<void> {
    try {
      const { client, grpc, service } = await this.#options.connect();
      this.#client = client as BridgeClient;
      this.#grpc = grpc;
      this.#service = service;
    } catch (err) {
      if (this.#exited) return; // the exit (code, stderr) tells the story
      this.#emit({
        type: 'fatal',
        phase: 'initialize',
        error: info('internal', 'SnakepitStartError', (err as Error).message),
      });
      return;
    }
    this.#emit({ type: 'ready', adapter: this.#options.adapter, tools: this.#service!.tools });
  }

  #request(message: Extract<HostMessage, { type: 'call' }>): Record<string, unknown> {
    return {
      session_id: message.session ?? '',
      tool_name: message.tool,
      ...encodeParameters(message.args ?? {}),
      metadata: {
        call_id: String(message.id),
        ...(message.correlation_id ? { correlation_id: message.correlation_id } : {}),
      },
      stream: message.stream === true,
    };
  }

  #deadline(message: Extract<HostMessage, { type: 'call' }>): { deadline?: number } {
    return message.timeout_ms ? { deadline: Date.now() + message.timeout_ms + DEADLINE_SLACK_MS } : {};
  }

  #execute(message: Extract<HostMessage, { type: 'call' }>): void {
    const client = this.#client!;
    const metadata = this.#metadata(message.correlation_id);
    const rpc = client.ExecuteTool(
      this.#request(message),
      metadata,
      this.#deadline(message),
      (err, response) => {
        const call = this.#calls.get(message.id);
        this.#calls.delete(message.id);
        if (err) return this.#rpcFailed(message.id, message.tool, call, err);
        if (response!.success) {
          const value =
            response!.binary_result.length > 0 ? response!.binary_result : decodeAny(response!.result);
          this.#emit({ type: 'result', id: message.id, value });
        } else {
          this.#emit({
            type: 'error',
            id: message.id,
            error: errorInfoFromJson(response!.error_message, message.tool),
          });
        }
      },
    );
    this.#calls.set(message.id, {
      tool: message.tool,
      rpc,
      cancelled: undefined,
      credits: 0,
      paused: false,
      seq: 0,
    });
  }

  #stream(message: Extract<HostMessage, { type: 'call' }>): void {
    const client = this.#client!;
    const rpc = client.ExecuteStreamingTool(
      this.#request(message),
      this.#metadata(message.correlation_id),
      this.#deadline(message),
    );
    const call: OpenCall = {
      tool: message.tool,
      rpc,
      cancelled: undefined,
      credits: message.window ?? Number.POSITIVE_INFINITY,
      paused: false,
      seq: 0,
    };
    this.#calls.set(message.id, call);
    rpc.on('data', (chunk: ToolChunkMessage) => {
      const encoding = chunk.metadata?.['encoding'];
      if (chunk.is_final && chunk.data.length === 0 && encoding === undefined) return; // the closing marker
      this.#emit({
        type: 'chunk',
        id: message.id,
        seq: call.seq++,
        data: decodeChunkData(chunk.data, encoding),
        ...(chunk.is_final ? { final: true } : {}),
      });
      if (--call.credits <= 0 && !call.paused) {
        call.paused = true;
        rpc.pause();
      }
    });
    rpc.on('error', (err: ServiceError) => {
      this.#calls.delete(message.id);
      this.#rpcFailed(message.id, message.tool, call, err);
    });
    rpc.on('end', () => {
      if (!this.#calls.delete(message.id)) return;
      this.#emit({ type: 'result', id: message.id, value: null });
    });
  }

  /** An RPC failed: a cancel we asked for, a tool error (streams), or the worker going away. */
  #rpcFailed(id: number, tool: string, call: OpenCall | undefined, err: ServiceError): void {
    const grpc = this.#grpc!;
    if (call?.cancelled) {
      this.#emit({
        type: 'error',
        id,
        error: info('cancelled', 'CancelledError', 'cancelled', { reason: call.cancelled }),
      });
      return;
    }
    if (err.code === grpc.status.INTERNAL) {
      this.#emit({ type: 'error', id, error: errorInfoFromJson(err.details, tool) });
      return;
    }
    // Most likely the worker died: its exit fails the call with the exit status. If it is still alive after a
    // moment, the RPC itself failed; say so.
    setTimeout(() => {
      if (this.#exited) return;
      this.#emit({
        type: 'error',
        id,
        error: info('internal', 'RpcError', `${tool}: ${grpc.status[err.code] ?? err.code}: ${err.details}`),
      });
    }, EXIT_WAIT_MS).unref();
  }

  #metadata(correlationId?: string): Metadata {
    const metadata = new this.#grpc!.Metadata();
    if (correlationId) metadata.set('x-snakepit-correlation-id', correlationId);
    return metadata;
  }

  #emit(message: WorkerMessage): void {
    if (this.#finished) return; // the worker is gone: late answers (a Ping, a cancelled RPC) have nowhere to go
    this.push(jsonCodec.encodeFrame(message as unknown as HostMessage, this.#options.maxFrameBytes));
  }
}

function info(
  kind: ErrorInfo['kind'],
  type: string,
  message: string,
  details: Record<string, unknown> = {},
): ErrorInfo {
  return { kind, type, module: 'snakepit', mro: [type], message, traceback: '', details };
}
