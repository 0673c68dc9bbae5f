/**
 * The host's BridgeService for one Snakepit-style worker: the callbacks such a worker makes (its
 * `--elixir-address`). One server per worker, on a Unix socket (mode 0600) in a directory only the host's user can
 * enter (the link's private directory), so no other user's process can call it (docs/SECURITY.md).
 *
 *   Ping, Heartbeat ......................... answered (heartbeats are counted: a worker that stops them is gone)
 *   InitializeSession (idempotent), GetSession, CleanupSession ... the sessions the worker told us about
 *   RegisterTools ........................... the worker's tools (its `ready` tool list)
 *   GetExposedElixirTools, ExecuteElixirTool . host tools (pit.tools), through the worker's channel as host calls
 *   ExecuteTool, ExecuteStreamingTool, StreamTelemetry ... UNIMPLEMENTED: a host runs no tools of this kind
 */
import { chmodSync } from 'node:fs';
import type { sendUnaryData, Server, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import type { ParameterSpec, WireToolSpec } from '../protocol/messages.js';
import type { BridgeProto } from '../remote/grpc-proto.js';
import { type AnyMessage, decodeAny, resultAny } from './snakepit-values.js';

/** What the worker's translator does for the service. */
export interface HostServiceDelegate {
  /** Run a host tool for the worker (a `host_call` through the channel). */
  hostCall(request: {
    tool: string;
    args: Record<string, unknown>;
    session: string | undefined;
    parent: number | undefined;
    timeoutMs: number | undefined;
  }): Promise<{ value: unknown } | { error: { name: string; message: string; code?: string } }>;
}

interface ParameterMessage {
  name: string;
  type: string;
  description: string;
  required: boolean;
}
/** ExecuteElixirTool's request: a Snakepit worker asking the host to run one of its tools. */
interface ExecuteToolRequest {
  session_id: string;
  tool_name: string;
  parameters: Record<string, AnyMessage>;
  metadata: Record<string, string>;
}

interface ToolSpecMessage {
  name: string;
  description: string;
  parameters: ParameterMessage[];
  metadata: Record<string, string>;
  supports_streaming: boolean;
}

function timestamp(ms = Date.now()): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

export class SnakepitHostService {
  readonly #proto: BridgeProto;
  #server: Server | undefined;
  #delegate: HostServiceDelegate | undefined;
  readonly #sessions = new Map<string, { metadata: Record<string, string>; createdAt: number }>();
  /** Tools the worker registered (RegisterTools), as ToolSpecs. */
  /** The tools as a worker's `ready` advertises them (the translator sends them on as one). */
  tools: WireToolSpec[] = [];
  /** The worker's id in its RegisterTools. */
  registeredWorker: string | undefined;
  /** Heartbeat calls received. */
  heartbeats = 0;
  /** Ping calls received (the worker pings first, before it binds). */
  pings = 0;
  /**
   * The first 100 RPCs received other than Heartbeat, by name, in order (diagnostics and tests: the worker pings
   * first, then registers its tools).
   */
  readonly calls: string[] = [];

  constructor(proto: BridgeProto) {
    this.#proto = proto;
  }

  set delegate(delegate: HostServiceDelegate) {
    this.#delegate = delegate;
  }

  /**
   * Listen on the Unix socket `path` (in a private directory: the caller's), readable and writable by this user
   * only; resolves with the gRPC address (`unix:<path>`).
   */
  async start(path: string): Promise<string> {
    const { grpc, BridgeService } = this.#proto;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 100 * 1024 * 1024 });
    const unimplemented = (_call: unknown, callback: sendUnaryData<unknown>): void =>
      callback({
        code: grpc.status.UNIMPLEMENTED,
        details: 'the host runs no tools of its own here',
      } as ServiceError);
    server.addService(BridgeService.service, {
      Ping: this.#unary('Ping', (req: { message: string }) => {
        this.pings++;
        return { message: `pong: ${req.message}`, server_time: timestamp() };
      }),
      Heartbeat: this.#unary('Heartbeat', (req: { session_id: string }) => {
        this.heartbeats++;
        return {
          server_time: timestamp(),
          session_valid: req.session_id === '' || this.#sessions.has(req.session_id),
        };
      }),
      InitializeSession: this.#unary(
        'InitializeSession',
        (req: { session_id: string; metadata: Record<string, string> }) => {
          if (req.session_id && !this.#sessions.has(req.session_id)) {
            this.#sessions.set(req.session_id, { metadata: req.metadata ?? {}, createdAt: Date.now() });
          }
          return { success: true, error_message: '', available_tools: {} };
        },
      ),
      GetSession: (
        call: ServerUnaryCall<{ session_id: string }, unknown>,
        callback: sendUnaryData<unknown>,
      ) => {
        this.#record('GetSession');
        const found = this.#sessions.get(call.request.session_id);
        if (!found) {
          callback({
            code: grpc.status.NOT_FOUND,
            details: `no session "${call.request.session_id}"`,
          } as ServiceError);
          return;
        }
        callback(null, {
          session_id: call.request.session_id,
          metadata: found.metadata,
          created_at: timestamp(found.createdAt),
          tool_count: this.tools.length,
        });
      },
      CleanupSession: this.#unary('CleanupSession', (req: { session_id: string }) => ({
        success: true,
        resources_cleaned: this.#sessions.delete(req.session_id) ? 1 : 0,
      })),
      RegisterTools: this.#unary('RegisterTools', (req: { worker_id: string; tools: ToolSpecMessage[] }) => {
        this.registeredWorker = req.worker_id;
        this.tools = req.tools.map(toolSpecFromMessage);
        return {
          success: true,
          tool_ids: Object.fromEntries(req.tools.map((t) => [t.name, `${req.worker_id}:${t.name}`])),
          error_message: '',
        };
      }),
      GetExposedElixirTools: (
        call: ServerUnaryCall<{ session_id: string }, unknown>,
        callback: sendUnaryData<unknown>,
      ) => {
        void this.#hostCall(
          '__snakepit__.host_tools',
          {},
          call.request.session_id,
          undefined,
          undefined,
        ).then((outcome) => {
          const list = 'value' in outcome && Array.isArray(outcome.value) ? outcome.value : [];
          callback(null, { tools: list.map(hostToolSpec) });
        });
      },
      ExecuteElixirTool: (
        call: ServerUnaryCall<ExecuteToolRequest, unknown>,
        callback: sendUnaryData<unknown>,
      ) => void this.#executeHostTool(call, callback),
      ExecuteTool: unimplemented,
      ExecuteStreamingTool: (call: { emit(event: 'error', err: ServiceError): void }) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not on the host' } as ServiceError),
      StreamTelemetry: (call: { emit(event: 'error', err: ServiceError): void }) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not on the host' } as ServiceError),
      WorkerChannel: (call: { emit(event: 'error', err: ServiceError): void }) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not on the host' } as ServiceError),
    });
    const address = `unix:${path}`;
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    chmodSync(path, 0o600);
    this.#server = server;
    return address;
  }

  close(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  #unary<Req, Res>(name: string, fn: (request: Req) => Res) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      this.#record(name);
      callback(null, fn(call.request));
    };
  }

  #record(name: string): void {
    if (name !== 'Heartbeat' && this.calls.length < 100) this.calls.push(name); // heartbeats are counted instead
  }

  #hostCall(
    tool: string,
    args: Record<string, unknown>,
    session: string | undefined,
    parent: number | undefined,
    timeoutMs: number | undefined,
  ): ReturnType<HostServiceDelegate['hostCall']> {
    if (!this.#delegate)
      return Promise.resolve({ error: { name: 'HostNotReady', message: 'the worker is not ready' } });
    return this.#delegate.hostCall({ tool, args, session: session || undefined, parent, timeoutMs });
  }

  async #executeHostTool(
    call: ServerUnaryCall<ExecuteToolRequest, unknown>,
    callback: sendUnaryData<unknown>,
  ): Promise<void> {
    this.#record('ExecuteElixirTool');
    const started = Date.now();
    const req = call.request;
    let args: Record<string, unknown>;
    try {
      args = Object.fromEntries(Object.entries(req.parameters ?? {}).map(([k, v]) => [k, decodeAny(v)]));
    } catch (err) {
      callback(null, failure('InvalidArgumentsError', `a parameter is not JSON: ${(err as Error).message}`));
      return;
    }
    const parent = Number(req.metadata?.['parent_call_id']);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(1, deadlineMs - Date.now()) : undefined;
    const outcome = await this.#hostCall(
      req.tool_name,
      args,
      req.session_id,
      Number.isInteger(parent) ? parent : undefined,
      timeoutMs,
    );
    if ('error' in outcome) {
      callback(null, failure(outcome.error.name, outcome.error.message, outcome.error.code));
      return;
    }
    const value = outcome.value;
    const elapsed = Date.now() - started;
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      callback(null, { success: true, binary_result: Buffer.from(value), execution_time_ms: elapsed });
      return;
    }
    try {
      callback(null, {
        success: true,
        result: value === null || value === undefined ? null : resultAny(value, 'result'),
        execution_time_ms: elapsed,
      });
    } catch (err) {
      callback(null, failure('SerializationError', (err as Error).message));
    }
  }
}

function failure(name: string, message: string, code?: string): Record<string, unknown> {
  return {
    success: false,
    error_message: JSON.stringify({ name, type: name, message, ...(code ? { code } : {}) }),
  };
}

function toolSpecFromMessage(t: ToolSpecMessage): WireToolSpec {
  const parameters: ParameterSpec[] = t.parameters.map((p) => ({
    name: p.name,
    kind: 'positional_or_keyword',
    ...(p.type && p.type !== 'any' ? { annotation: p.type } : {}),
    required: p.required,
  }));
  return {
    name: t.name,
    description: t.description,
    supports_streaming: t.supports_streaming,
    is_async: t.metadata?.['is_async'] === 'true',
    signature: t.metadata?.['signature'] || `${t.name}(${t.parameters.map((p) => p.name).join(', ')})`,
    parameters,
  };
}

function hostToolSpec(entry: unknown): ToolSpecMessage {
  const e = (entry ?? {}) as { name?: string; description?: string; parameters?: unknown };
  const schema = (e.parameters ?? {}) as {
    properties?: Record<string, { type?: string; description?: string }>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  return {
    name: String(e.name ?? ''),
    description: String(e.description ?? ''),
    parameters: Object.entries(schema.properties ?? {}).map(([name, p]) => ({
      name,
      type: typeof p?.type === 'string' ? p.type : 'any',
      description: typeof p?.description === 'string' ? p.description : '',
      required: required.has(name),
    })),
    metadata: { parameters_schema: JSON.stringify(e.parameters ?? {}) },
    supports_streaming: false,
  };
}
