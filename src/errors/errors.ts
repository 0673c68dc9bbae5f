/**
 * The error hierarchy. Every error snakepit throws is a `SnakepitError` with a stable `code`.
 *
 * Each class is branded with `Symbol.for(...)` and checks the brand in `Symbol.hasInstance`, so
 * `err instanceof CallTimeoutError` holds even when two copies of the package are installed (undici does the
 * same). Nobody should have to match on message text: use `instanceof` or `err.code`.
 */

import { shortName } from '../util/short-name.js';
import type { WorkerExitKind } from './exit-kind.js';

const kBrands = Symbol.for('snakepit.error.brands');

type Brandable = { [kBrands]?: ReadonlySet<string> };

export interface SnakepitErrorOptions {
  cause?: unknown;
}

export class SnakepitError extends Error {
  /** Stable machine-readable code, `SNAKEPIT_*`. */
  readonly code: string;
  declare readonly [kBrands]: ReadonlySet<string>;

  static readonly code: string = 'SNAKEPIT_ERROR';

  constructor(message: string, options?: SnakepitErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    const ctor = new.target as typeof SnakepitError;
    this.name = ctor.name;
    this.code = ctor.code;
    // Brand the instance with every class name on its prototype chain.
    const brands = new Set<string>();
    for (let c: unknown = ctor; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      brands.add(`snakepit:${(c as { name: string }).name}`);
    }
    Object.defineProperty(this, kBrands, { value: brands, enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (value === null || typeof value !== 'object') return false;
    const brands = (value as Brandable)[kBrands];
    return brands !== undefined && brands.has(`snakepit:${this.name}`);
  }
}

/** A configuration value is missing or wrong. `key` names it, e.g. `pools[0].size`. */
export class ConfigError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_CONFIG';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config ${key}: ${message}`);
  }
}

/** The Python interpreter or environment is unusable; `fix` says what to do. */
export class PythonEnvError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_PYTHON_ENV';
  constructor(
    message: string,
    readonly fix: string,
    options?: SnakepitErrorOptions,
  ) {
    super(`${message}\n  fix: ${fix}`, options);
  }
}

export interface WorkerStartDetails {
  pool: string;
  workerId: string;
  /** Python exception type when the adapter failed to import or initialize. */
  pythonType?: string;
  /** Python traceback when the adapter failed to import or initialize. */
  traceback?: string;
  phase?: string;
  exitCode?: number | null;
  signal?: string | null;
  stderrTail?: string[];
  /** What to do about it, when snakepit can tell (a module to install, a folder for pythonPath, ...). */
  fix?: string;
}

/** A tool name in a message: tool names may come from untrusted input, so a long one is cut (its length said). */
function quoted(tool: string): string {
  return shortName(tool, 200);
}

/** A worker did not become ready: the adapter raised at import, the interpreter is missing, start-up timed out. */
export class WorkerStartError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_WORKER_START';
  readonly pool: string;
  readonly workerId: string;
  readonly pythonType: string | undefined;
  readonly traceback: string | undefined;
  readonly phase: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly stderrTail: string[];
  /** What to do about it, when snakepit can tell; also the message's last line. */
  readonly fix: string | undefined;
  constructor(message: string, details: WorkerStartDetails, options?: SnakepitErrorOptions) {
    super(details.fix === undefined ? message : `${message}\n  fix: ${details.fix}`, options);
    this.fix = details.fix;
    this.pool = details.pool;
    this.workerId = details.workerId;
    this.pythonType = details.pythonType;
    this.traceback = details.traceback;
    this.phase = details.phase;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail ?? [];
  }
}

/** The pool's queue is full (`queue.max`); the call was not queued. */
export class PoolSaturatedError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_POOL_SATURATED';
  constructor(
    readonly pool: string,
    readonly queueMax: number,
  ) {
    super(
      `pool "${pool}" is saturated: ${queueMax} calls already queued (raise queue.max, add workers, or retry later)`,
    );
  }
}

/** The call waited in the queue longer than `queue.timeoutMs` and never reached a worker. */
export class QueueTimeoutError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_QUEUE_TIMEOUT';
  constructor(
    readonly pool: string,
    readonly timeoutMs: number,
  ) {
    super(
      `call waited ${timeoutMs} ms in pool "${pool}"'s queue without a free worker (raise queue.timeoutMs or the pool size)`,
    );
  }
}

/**
 * The call ran longer than its timeout. `started`: it was on a worker, which is told to stop it (the tool's code
 * is interrupted; a worker that has not stopped it 5 s later is killed); otherwise it was waiting for one.
 */
export class CallTimeoutError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_CALL_TIMEOUT';
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
    readonly started = true,
  ) {
    super(
      started
        ? `call to "${tool}" timed out after ${timeoutMs} ms; it is being stopped in Python (a tool that does not ` +
            'stop within 5 s of its cancel has its worker killed). Raise timeoutMs if it needs longer'
        : `call to "${tool}" timed out after ${timeoutMs} ms waiting for a worker to take it: raise timeoutMs, ` +
            'or give the pool more workers',
    );
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_ABORTED';
  constructor(message = 'the call was aborted', options?: SnakepitErrorOptions) {
    super(message, options);
  }
}

export interface WorkerCrashDetails {
  pool: string;
  workerId: string;
  pid?: number | undefined;
  exitCode?: number | null;
  signal?: string | null;
  stderrTail?: string[];
  reason?: string;
  /** Why the worker ended, classified (see WorkerExitKind). */
  kind?: WorkerExitKind;
}

/** The worker running the call died (exit, signal, broken channel) before answering. */
export class WorkerCrashedError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_WORKER_CRASHED';
  readonly pool: string;
  readonly workerId: string;
  readonly pid: number | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly stderrTail: string[];
  /** Why the host stopped it, when it did (a protocol error, missed heartbeats, a cancel not honoured). */
  readonly reason: string | undefined;
  /** The exit, classified: `crash_signal`, `oom_kill`, `clean_exit`, `timeout_kill`, `hang_kill`, … */
  readonly kind: WorkerExitKind | undefined;
  constructor(message: string, details: WorkerCrashDetails, options?: SnakepitErrorOptions) {
    super(message, options);
    this.pool = details.pool;
    this.workerId = details.workerId;
    this.pid = details.pid;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail ?? [];
    this.reason = details.reason;
    this.kind = details.kind;
  }
}

/** No tool of that name; `available` lists the ones that exist. */
export class UnknownToolError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_UNKNOWN_TOOL';
  constructor(
    readonly tool: string,
    readonly available: string[],
    /** Why, when the worker knows more than "no such name" (the generic adapter: no such function or namespace). */
    reason?: string,
  ) {
    super(
      reason
        ? `unknown tool ${quoted(tool)}: ${reason}${available.length ? `; did you mean: ${available.join(', ')}` : ''}`
        : `unknown tool ${quoted(tool)}; available: ${available.length ? available.join(', ') : '(none)'}`,
    );
  }
}

/** The arguments do not fit the tool's signature; `signature` is the expected one. */
export class InvalidArgumentsError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_INVALID_ARGUMENTS';
  constructor(
    readonly tool: string,
    readonly signature: string | undefined,
    readonly problem: string,
  ) {
    super(`invalid arguments for ${quoted(tool)}: ${problem}${signature ? `; expected ${signature}` : ''}`);
  }
}

/** A piece of a session's Python state that could not move to the replacement of a recycled worker. */
export interface LostState {
  /** `value`: a `ctx.store` entry; `ref`: an object reference. */
  kind: 'value' | 'ref';
  /** The store key (its repr), or the reference id. */
  name: string;
  /** The Python type of the value. */
  type: string;
  /** Why it could not move (the pickling error). */
  reason: string;
  /** References: the worker that made it (with `name`, what the host's PyRef says). */
  worker?: string;
}

/**
 * The session's Python state is gone, in whole (its worker died) or in part (`lost`: what could not move to the
 * replacement of a recycled worker).
 */
export class SessionLostError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_SESSION_LOST';
  constructor(
    readonly sessionId: string,
    message?: string,
    /** What could not move, when the worker was recycled (empty when the whole state is gone). */
    readonly lost: LostState[] = [],
  ) {
    super(
      message ?? `session "${sessionId}" lost its worker; its Python state is gone (start a new session)`,
    );
  }
}

/** Affinity `strict_fail_fast`: the session's worker is busy, and the call was not queued for it. */
export class WorkerBusyError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_WORKER_BUSY';
  constructor(
    readonly sessionId: string,
    readonly workerId: string,
  ) {
    super(
      `session "${sessionId}": its worker ${workerId} is busy, and affinity "strict_fail_fast" does not wait ` +
        '(retry later, or use affinity "strict_queue" to wait for it)',
    );
  }
}

/** A value could not be encoded; `path` points at it, e.g. `args.rows[2].when`. */
export class SerializationError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_SERIALIZATION';
  constructor(
    readonly path: string,
    readonly valueType: string,
    message?: string,
  ) {
    super(message ?? `cannot encode ${valueType} at ${path}`);
  }
}

/** An encoded message is larger than the channel's frame limit. */
export class PayloadTooLargeError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_PAYLOAD_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit: number,
    what = 'message',
  ) {
    super(
      `${what} of ${size} bytes exceeds the frame limit of ${limit} bytes (raise maxFrameBytes, or pass a reference)`,
    );
  }
}

/** The peer broke the wire protocol (bad frame, unknown message). The worker is stopped. */
export class ProtocolError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_PROTOCOL';
}

/** The pool (or the whole Snakepit) is closed or closing; no new calls are taken. */
export class PoolClosedError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_POOL_CLOSED';
  constructor(message = 'snakepit is closed') {
    super(message);
  }
}

/** `pit.tools.register` was given something it cannot use (a bad name, handler or parameter schema, a duplicate). */
export class ToolRegistrationError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_TOOL_REGISTRATION';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(`cannot register host tool "${tool}": ${message}`);
  }
}

/**
 * A chain of calls between Python and host tools went deeper than `tools.maxDepth` (Python → host tool → Python
 * → host tool …): most likely a tool that ends up calling itself.
 */
export class NestingDepthError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_NESTING_DEPTH';
  constructor(
    readonly tool: string,
    readonly maxDepth: number,
  ) {
    super(
      `host tool "${tool}" would run ${maxDepth + 1} levels deep in a chain of Python and host-tool calls, past ` +
        `tools.maxDepth (${maxDepth}): look for a tool that calls itself, or raise tools.maxDepth`,
    );
  }
}

/**
 * A tool of a worker that is not Python (the Node runtime, any command speaking the protocol) threw. `errorType`
 * is the error's name in its language (`RangeError`), `traceback` the worker's own stack text, `errorCode` the
 * error's own `code` property when it had one.
 */
export class ToolError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_TOOL_ERROR';
  constructor(
    message: string,
    readonly tool: string,
    readonly workerId: string,
    readonly errorType: string,
    readonly traceback: string,
    /** The error's class and its ancestors, most specific first (`['RangeError', 'Error']`). */
    readonly mro: string[],
    readonly errorCode: string | number | undefined,
  ) {
    super(message);
  }
}

/**
 * A host-side adapter hook (`hooks` of a pool: `prepareArgs`, `processResult`, a validator that is not synchronous)
 * failed. A call it failed before queueing never reached a worker. `cause` is what the hook threw.
 */
export class AdapterHookError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_ADAPTER_HOOK';
  constructor(
    readonly hook: 'validate' | 'prepareArgs' | 'processResult',
    readonly tool: string,
    problem: string,
    cause?: unknown,
  ) {
    super(`hook ${hook} of tool "${tool}" failed: ${problem}`, cause === undefined ? undefined : { cause });
  }
}

/**
 * An optional package this feature needs is not installed (`@grpc/grpc-js` for remote workers, for instance).
 * `packageName` names it; `fix` is the command that installs it.
 */
export class MissingDependencyError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_MISSING_DEPENDENCY';
  readonly fix: string;
  constructor(
    readonly packageName: string,
    readonly feature: string,
    options?: SnakepitErrorOptions & { packages?: string[] },
  ) {
    const fix = `npm install ${(options?.packages ?? [packageName]).join(' ')}`;
    super(
      `${feature} needs the optional package "${packageName}", which is not installed\n  fix: ${fix}`,
      options,
    );
    this.fix = fix;
  }
}

/**
 * The Python package `snakepit_bridge` was not found where it was looked for: the npm package's `python/` folder,
 * `SNAKEPIT_BRIDGE_PATH` or the `python.bridgePath` option. A bundled app (esbuild, Electron, pkg) must ship that
 * folder and point at it; `fix` says how.
 */
export class BridgeNotFoundError extends SnakepitError {
  static override readonly code = 'SNAKEPIT_BRIDGE_NOT_FOUND';
  readonly fix: string;
  constructor(
    message: string,
    readonly searched: string[],
  ) {
    const fix =
      'copy node_modules/snakepit/python next to your bundle and set SNAKEPIT_BRIDGE_PATH (or the python.bridgePath ' +
      'option) to that folder';
    super(`${message} (looked in: ${searched.join(', ')})\n  fix: ${fix}`);
    this.fix = fix;
  }
}
