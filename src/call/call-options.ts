/**
 * The per-call options of the facade (`execute`, `executeStream`, `callMethod`, ...): their types and the checks
 * every call's arguments pass before a `Call` exists. Each problem is an InvalidArgumentsError naming the option.
 * Separate from `Snakepit` so the facade stays a list of one-line delegations.
 */
import { ConfigError, InvalidArgumentsError } from '../errors/errors.js';
import { type GracefulOption, type GracefulWire, resolveGraceful } from '../config/graceful.js';
import { DEFAULTS } from '../config/defaults.js';

/** The prefix of the bridge tools that move a session (pool/session-handoff.ts): only the pool calls them. */
export const SESSION_TOOLS_PREFIX = '__snakepit__.session_';

/**
 * The longest tool name a call may have. Tool names often come from untrusted input (an LLM's tool call, a web
 * request); a longer one is refused before anything is sent, and error messages quote names cut short.
 */
export const MAX_TOOL_NAME_CHARS = 1024;

export interface ExecuteOptions {
  /** Pool to run on. Default: the first configured pool. */
  pool?: string;
  /** Budget for the whole call, queue wait included. Default: the pool's `requestTimeoutMs` (streams: `streamTimeoutMs`). */
  timeoutMs?: number;
  /** Abort the call; a running call is cancelled in Python too. */
  signal?: AbortSignal;
  /** Session id passed to Python as `SessionContext.session_id`. */
  sessionId?: string;
  /**
   * Running this call twice is harmless: if its worker dies under it, run it again on another worker (up to the
   * pool's `maxRetries`, within `timeoutMs`). Calls not so marked are never retried. Default false.
   */
  idempotent?: boolean;
  /**
   * An id tying this call to your own logs (a request id): sent to Python (`SessionContext.correlation_id`,
   * `telemetry.get_correlation_id()`, the `correlation_id` of its log records) and carried by its events and log
   * lines. Default: `<runId>-<call id>`. At most 256 characters.
   */
  correlationId?: string;
  /**
   * Values of the result with no by-value form become markers instead of failing the call (docs/VALUES.md).
   * Default: the pool's `graceful`.
   */
  graceful?: GracefulOption;
}

export interface StreamOptions extends ExecuteOptions {
  /** Chunks the worker may run ahead of the consumer (back-pressure window). Default 512. */
  window?: number;
}

export type ToolArgs = Record<string, unknown>;

/** Options of `callMethod` and `getAttr`: the pool and session come from the reference. */
export interface RefCallOptions {
  /** Budget for the call, queue wait included. Default: the pool's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Abort the call; a running call is cancelled in Python too. */
  signal?: AbortSignal;
  /** As `ExecuteOptions.graceful`. */
  graceful?: GracefulOption;
}

export interface CallMethodOptions extends RefCallOptions {
  /** Keyword arguments of the method, with the older spelling `callMethod(ref, name, [args], { kwargs })`. */
  kwargs?: ToolArgs;
}

/** The call's graceful mode: its own option, else the pool's. */
export function callGraceful(
  tool: string,
  option: unknown,
  poolDefault: GracefulWire | undefined,
): GracefulWire | undefined {
  if (option === undefined) return poolDefault;
  try {
    return resolveGraceful('options.graceful', option);
  } catch (err) {
    throw new InvalidArgumentsError(tool, undefined, (err as ConfigError).message);
  }
}

function isPlainArgs(value: unknown): value is ToolArgs {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The tool name, the arguments and the options object: checked before the pool is looked up. */
export function checkCallShape(tool: string, args: ToolArgs, options: ExecuteOptions): void {
  if (typeof tool !== 'string' || tool.length === 0) {
    throw new InvalidArgumentsError(String(tool), undefined, 'the tool name must be a non-empty string');
  }
  if (tool.length > MAX_TOOL_NAME_CHARS) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `the tool name is ${tool.length} characters; the limit is ${MAX_TOOL_NAME_CHARS}`,
    );
  }
  if (tool.startsWith(SESSION_TOOLS_PREFIX)) {
    // They read and write any session's pickled state: a caller (a web request, an LLM) must never reach them.
    throw new InvalidArgumentsError(
      tool,
      undefined,
      'this name is reserved for snakepit moving sessions between workers',
    );
  }
  if (!isPlainArgs(args)) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `arguments must be a plain object of keyword arguments, got ${Array.isArray(args) ? 'an array' : typeof args}`,
    );
  }
  checkOptionsObject(tool, options);
}

/** `options` of any call must be an object. */
export function checkOptionsObject(tool: string, options: unknown): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentsError(tool, undefined, `options must be an object, got ${typeof options}`);
  }
}

/**
 * The options that shape the call, checked, with the pool's default timeout filled in.
 * @param defaultTimeoutMs the pool's `requestTimeoutMs` (streams: `streamTimeoutMs`)
 */
export function checkCallOptions(
  tool: string,
  options: ExecuteOptions,
  defaultTimeoutMs: number,
): { timeoutMs: number; sessionId: string | undefined; correlationId: string | undefined } {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 2 ** 31 - 1) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `options.timeoutMs must be a positive number of ms, got ${String(timeoutMs)}`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidArgumentsError(tool, undefined, 'options.signal must be an AbortSignal');
  }
  const sessionId = options.sessionId;
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !sessionId || sessionId.length > 256)) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      'the session id must be a non-empty string of at most 256 characters',
    );
  }
  if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
    throw new InvalidArgumentsError(tool, undefined, 'options.idempotent must be true or false');
  }
  const correlationId = options.correlationId;
  if (
    correlationId !== undefined &&
    (typeof correlationId !== 'string' || !correlationId || correlationId.length > 256)
  ) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      'options.correlationId must be a non-empty string of at most 256 characters',
    );
  }
  return { timeoutMs, sessionId, correlationId };
}

/** A stream's back-pressure window (`options.window`, default DEFAULTS.streamWindow). */
export function streamWindow(tool: string, options: StreamOptions): number {
  const window = options.window ?? DEFAULTS.streamWindow;
  if (!Number.isInteger(window) || window < 1) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `options.window must be a positive integer, got ${String(window)}`,
    );
  }
  return window;
}
