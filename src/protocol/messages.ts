/**
 * The messages of the local channel, as documented in docs/PROTOCOL.md. Field names are the wire names.
 */

import type { JsonSchemaObject } from '../tools/json-schema.js';

export const PROTOCOL_VERSION = 1;

export type CodecName = 'msgpack' | 'json';

/** A Python exception or bridge failure, as data (PROTOCOL.md §5, ErrorInfo). */
export interface ErrorInfo {
  kind:
    | 'python'
    | 'tool'
    | 'unknown_tool'
    | 'invalid_arguments'
    | 'serialization'
    | 'payload_too_large'
    | 'cancelled'
    | 'internal';
  type: string;
  module?: string;
  mro?: string[];
  message: string;
  traceback?: string;
  details?: Record<string, unknown>;
}

export interface ParameterSpec {
  name: string;
  kind: 'positional_or_keyword' | 'keyword_only' | 'var_keyword' | 'var_positional' | 'positional_only';
  annotation?: string;
  required: boolean;
  default?: unknown;
}

/** A Python tool as a worker advertises it in `ready` (snake_case on the wire, as Python writes it). */
export interface WireToolSpec {
  name: string;
  description: string;
  supports_streaming: boolean;
  is_async?: boolean;
  signature?: string;
  parameters: ParameterSpec[];
  input_schema?: JsonSchemaObject;
  library?: string;
  function?: string;
  listed?: boolean;
  metadata?: Record<string, unknown>;
}

/** A Python tool, as `pit.describe()` lists it. */
export interface ToolSpec {
  name: string;
  description: string;
  /** The tool yields chunks: call it with `executeStream`. */
  supportsStreaming: boolean;
  /** An `async def` tool (runs on the worker's event loop, concurrently with others). */
  isAsync?: boolean;
  signature?: string;
  parameters: ParameterSpec[];
  /** JSON Schema of the keyword arguments, from the signature, type hints and docstring (PROTOCOL.md §4). */
  inputSchema?: JsonSchemaObject;
  /** Generic adapter tools: the configured library's name. */
  library?: string;
  /** Generic adapter tools: the function's path in its module (`sqrt`, `DataFrame.describe`). */
  function?: string;
  /**
   * Generic adapter tools: named in the library's `functions` or `aliases` (false for a function served only
   * because the library has `expose: "public"`). `toLlmTools` exports only listed ones.
   */
  listed?: boolean;
  /** The `@tool` decorator's other keywords (Snakepit's `required_variables`, ...), as they were given. */
  metadata?: Record<string, unknown>;
}

/**
 * The camelCase spec of a wire spec. A worker's `ready` is untrusted: an entry without a string name is
 * dropped, and only the known fields are kept, each only when it has its type.
 */
export function toolSpecFromWire(wire: unknown): ToolSpec[] {
  if (wire === null || typeof wire !== 'object') return [];
  const w = wire as Partial<Record<keyof WireToolSpec, unknown>>;
  if (typeof w.name !== 'string') return [];
  const spec: ToolSpec = {
    name: w.name,
    description: typeof w.description === 'string' ? w.description : '',
    supportsStreaming: w.supports_streaming === true,
    parameters: Array.isArray(w.parameters) ? (w.parameters as ParameterSpec[]) : [],
  };
  if (typeof w.is_async === 'boolean') spec.isAsync = w.is_async;
  if (typeof w.signature === 'string') spec.signature = w.signature;
  if (w.input_schema !== null && typeof w.input_schema === 'object') {
    spec.inputSchema = w.input_schema as JsonSchemaObject;
  }
  if (typeof w.library === 'string') spec.library = w.library;
  if (typeof w.function === 'string') spec.function = w.function;
  if (typeof w.listed === 'boolean') spec.listed = w.listed;
  if (w.metadata !== null && typeof w.metadata === 'object' && !Array.isArray(w.metadata)) {
    spec.metadata = w.metadata as Record<string, unknown>;
  }
  return [spec];
}

/** A library served by the generic adapter, as a worker's `ready` advertises it. */
export interface LibraryInfo {
  name: string;
  module: string;
  namespace: string;
  lazy: boolean;
  /** False for a lazy library not imported yet (its functions are then not listed). */
  loaded: boolean;
  /** Number of functions exposed (0 until a lazy library loads). */
  functions: number;
  /** The module's `__version__`, when it has one. */
  version: string | null;
}

// ── worker → host ────────────────────────────────────────────────────────────────────────────────────────────

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  bridge: string;
  pid: number;
  python: string;
  implementation?: string;
  /** A free-threaded build (3.13t and later; absent from older bridges). */
  free_threaded?: boolean;
  /** Whether the GIL is on: false only on a free-threaded build running without it. */
  gil?: boolean;
  codecs: CodecName[];
  worker?: string;
  /** The worker can map shared-memory segments (Linux, /dev/shm writable); absent from older bridges. */
  shm?: boolean;
}
export interface ReadyMessage {
  type: 'ready';
  adapter: string;
  tools: WireToolSpec[];
  /** The generic adapter's libraries (absent for other adapters). */
  libraries?: LibraryInfo[];
}
export interface FatalMessage {
  type: 'fatal';
  phase: string;
  error: ErrorInfo;
}
export interface ResultMessage {
  type: 'result';
  id: number;
  value: unknown;
}
export interface ErrorMessage {
  type: 'error';
  id: number;
  error: ErrorInfo;
}
export interface ChunkMessage {
  type: 'chunk';
  id: number;
  seq: number;
  data: unknown;
  final?: boolean;
}
export interface HostCallMessage {
  type: 'host_call';
  id: number;
  tool: string;
  args: Record<string, unknown>;
  session?: string | null;
  parent?: number | null;
  timeout_ms?: number | null;
}
export interface LogMessage {
  type: 'log';
  level: string;
  logger?: string;
  message: string;
  call?: number | null;
  /** The correlation id of the call during which the record was emitted. */
  correlation_id?: string | null;
}
export interface EventMessage {
  type: 'event';
  name: string[];
  measurements?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  correlation_id?: string | null;
}
export interface PingMessage {
  type: 'ping';
  id: number;
}
export interface PongMessage {
  type: 'pong';
  id: number;
}
export interface ByeMessage {
  type: 'bye';
}
/** The calls among a `withdraw`'s ids that had not begun: given back, answered by this frame (PROTOCOL.md §5). */
export interface WithdrawnMessage {
  type: 'withdrawn';
  ids: number[];
}

export type WorkerMessage =
  | HelloMessage
  | ReadyMessage
  | FatalMessage
  | ResultMessage
  | ErrorMessage
  | ChunkMessage
  | HostCallMessage
  | LogMessage
  | EventMessage
  | PingMessage
  | PongMessage
  | ByeMessage
  | WithdrawnMessage;

// ── host → worker ────────────────────────────────────────────────────────────────────────────────────────────

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  codec: CodecName;
  max_frame_bytes: number;
  /** Absent: no heartbeats. The host pings every `interval_ms`; the worker leaves after `timeout_ms` of silence. */
  heartbeat?: { interval_ms: number; timeout_ms: number };
  /** Profile `thread`: run sync tools on a pool of this many threads (absent: one at a time, profile `process`). */
  threads?: number;
  /**
   * Large values may travel in shared memory (docs/DATA.md): segment files `/dev/shm/<prefix><suffix>`, values from
   * `min_bytes` on. Absent: every value goes inline.
   */
  shm?: { prefix: string; min_bytes: number };
}
export interface CallMessage {
  type: 'call';
  id: number;
  tool: string;
  args: Record<string, unknown>;
  session?: string;
  timeout_ms?: number;
  stream?: boolean;
  window?: number;
  trace?: { traceparent: string; tracestate?: string };
  correlation_id?: string;
  /** Values of the result with no by-value form become markers (`repr`: with a repr). */
  graceful?: { repr: boolean };
  /** Where the worker records that the call began, in its ledger (PROTOCOL.md §1.2). */
  slot?: number;
}
export interface CancelMessage {
  type: 'cancel';
  id: number;
  reason: 'timeout' | 'abort' | 'consumer_stopped' | 'shutdown';
}
export interface CreditMessage {
  type: 'credit';
  id: number;
  n: number;
}
export interface HostResultMessage {
  type: 'host_result';
  id: number;
  value: unknown;
}
export interface HostErrorMessage {
  type: 'host_error';
  id: number;
  error: { name: string; message: string; code?: string };
}
export interface ReleaseMessage {
  type: 'release';
  refs: string[];
  session?: string;
}
export interface SessionEndMessage {
  type: 'session_end';
  session: string;
}
/** Give back those of these calls that have not begun (they run elsewhere); the rest are answered as usual. */
export interface WithdrawMessage {
  type: 'withdraw';
  ids: number[];
}
export interface ShutdownMessage {
  type: 'shutdown';
  grace_ms: number;
}

export type HostMessage =
  | WelcomeMessage
  | CallMessage
  | CancelMessage
  | WithdrawMessage
  | CreditMessage
  | HostResultMessage
  | HostErrorMessage
  | ReleaseMessage
  | SessionEndMessage
  | ShutdownMessage
  | PingMessage
  | PongMessage;

const WORKER_MESSAGE_TYPES: ReadonlySet<string> = new Set<WorkerMessage['type']>([
  'hello',
  'ready',
  'fatal',
  'result',
  'error',
  'chunk',
  'host_call',
  'log',
  'event',
  'ping',
  'pong',
  'bye',
  'withdrawn',
]);

/** A decoded body's shape check: a map with a known `type`. Returns a description of what is wrong, or null. */
export function checkWorkerMessage(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `expected a message map, got ${Array.isArray(value) ? 'an array' : typeof value}`;
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return 'message has no "type" field';
  if (!WORKER_MESSAGE_TYPES.has(type)) return `unknown message type "${type}"`;
  return null;
}
