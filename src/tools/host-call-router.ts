/**
 * HostCallRouter: answers the `host_call`s of every worker of one Snakepit (PROTOCOL.md §6).
 *
 *   host_call {id, tool, args, session, parent, timeout_ms}
 *     ├─ session ≠ the host's ────► host_error SessionMismatchError
 *     ├─ "__snakepit__.host_tools" ─► host_result [{name, description, parameters}] visible to the session
 *     ├─ depth past tools.maxDepth ─► host_error NestingDepthError
 *     ├─ no such tool ──────────────► host_error UnknownHostToolError (names what the session can call)
 *     ├─ bad arguments ─────────────► host_error InvalidArgumentsError (names the argument)
 *     └─ handler(args, ctx), in a ToolScope ─► host_result value | host_error {name, message, code}
 *
 * The scope carries the parent call (the Python call waiting for this answer), the chain's deadline and an
 * AbortSignal into the handler, so that calls it makes with `pit.execute` are nested (tool-scope.ts).
 *
 * The session is the host's to decide, never the worker's (docs/SECURITY.md): it is the session of the call the
 * host started and the worker is running (`parent`, looked up among that worker's calls in flight), or, for a call
 * made without one inside a host tool, of the call that called the tool. A worker naming another session — or one
 * when no call of its own is in flight under that id — is refused, so a compromised worker (or library) cannot
 * reach another session's tools; it can only name calls it is running itself.
 */
import { AbortError, CallTimeoutError, NestingDepthError } from '../errors/errors.js';
import type { Call } from '../call/call.js';
import type { HostCallMessage } from '../protocol/messages.js';
import { shortName } from '../util/short-name.js';
import { trace } from '../util/trace.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import { type HostToolContext, runHandler, type ToolEntry, type ToolRegistry } from './tool-registry.js';
import { DEADLINE_GRACE_MS, runInScope, type ToolScope } from './tool-scope.js';

/** The host tool Python's `ctx.list_host_tools()` / `ctx.host_tools` call. */
export const LIST_TOOLS = '__snakepit__.host_tools';
/** `host_error.code` of an unknown host tool (Python raises `UnknownHostToolError`). */
export const UNKNOWN_HOST_TOOL_CODE = 'SNAKEPIT_UNKNOWN_HOST_TOOL';
/** `host_error.code` of a host call whose worker named a session other than the host's. */
export const SESSION_MISMATCH_CODE = 'SNAKEPIT_SESSION_MISMATCH';

type HostErrorPayload = { name: string; message: string; code?: string };
type Outcome = { value: unknown } | { error: HostErrorPayload };

export interface HostCallRouterOptions {
  registry: ToolRegistry;
  /** The Snakepit's run id: host-tool scopes of other instances are not ours. */
  runId: string;
  maxDepth: number;
}

/** The worker side the router needs (a WorkerHandle). */
export type HostCallWorker = Pick<WorkerHandle, 'id' | 'pool' | 'inFlight' | 'replyHostCall'>;

export class HostCallRouter {
  readonly #registry: ToolRegistry;
  readonly #runId: string;
  readonly #maxDepth: number;
  /** Per parent call, one signal aborted when it ends (shared by all its host calls). */
  readonly #ended = new WeakMap<Call, AbortSignal>();

  constructor(options: HostCallRouterOptions) {
    this.#registry = options.registry;
    this.#runId = options.runId;
    this.#maxDepth = options.maxDepth;
  }

  /** Answer one `host_call` (asynchronously; exactly one `host_result` or `host_error` follows). */
  handle(worker: HostCallWorker, message: HostCallMessage): void {
    void this.#answer(worker, message).then(
      (outcome) => worker.replyHostCall(message.id, outcome),
      (err: unknown) => worker.replyHostCall(message.id, errorOutcome(err)),
    );
  }

  async #answer(worker: HostCallWorker, message: HostCallMessage): Promise<Outcome> {
    const tool = typeof message.tool === 'string' ? message.tool : String(message.tool);
    const args = isArgs(message.args) ? message.args : {};
    const parent = typeof message.parent === 'number' ? findCall(worker, message.parent) : undefined;
    const sessionId = parent ? sessionOf(parent) : undefined;
    trace(
      'tools',
      `${worker.id} host_call ${message.id} ${shortName(tool)}${sessionId ? ` session ${sessionId}` : ''}`,
    );
    if (message.session !== undefined && message.session !== sessionId) {
      return mismatch(tool, message.session, parent, sessionId);
    }
    if (tool === LIST_TOOLS) {
      return {
        value: this.#registry.visible(sessionId).map((e) => ({
          name: e.info.name,
          description: e.info.description,
          parameters: e.info.parameters,
        })),
      };
    }
    const depth = (parent?.depth ?? 0) + 1;
    if (depth > this.#maxDepth) return errorOutcome(new NestingDepthError(tool, this.#maxDepth));
    const entry = this.#registry.lookup(tool, sessionId);
    if (!entry) return this.#unknown(tool, sessionId);
    const checked = entry.check(args);
    if (checked.problem !== undefined) {
      return {
        error: {
          name: 'InvalidArgumentsError',
          message: `invalid arguments for host tool "${tool}": ${checked.problem}`,
          code: 'SNAKEPIT_INVALID_ARGUMENTS',
        },
      };
    }
    return {
      value: await this.#run(worker, entry, checked.args, { tool, sessionId, parent, depth, message }),
    };
  }

  async #run(
    worker: HostCallWorker,
    entry: ToolEntry,
    args: unknown,
    call: {
      tool: string;
      sessionId: string | undefined;
      parent: Call | undefined;
      depth: number;
      message: HostCallMessage;
    },
  ): Promise<unknown> {
    // The chain's deadline: the parent call's own, and what Python said it has left, whichever is sooner.
    const now = performance.now();
    let deadline = call.parent ? call.parent.submittedAt + call.parent.timeoutMs : undefined;
    const timeoutMs = call.message.timeout_ms;
    if (typeof timeoutMs === 'number' && timeoutMs >= 0)
      deadline = Math.min(deadline ?? Infinity, now + timeoutMs);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    if (deadline !== undefined) {
      const ms = Math.max(0, deadline - now);
      timer = setTimeout(
        () => controller.abort(new CallTimeoutError(call.tool, Math.round(ms))),
        ms + DEADLINE_GRACE_MS,
      );
      timer.unref();
    }
    const ended = call.parent ? this.#endedSignal(call.parent) : undefined;
    const onEnded = (): void => controller.abort(ended!.reason);
    if (ended?.aborted) onEnded();
    else ended?.addEventListener('abort', onEnded, { once: true });
    const epochDeadline = deadline === undefined ? undefined : Date.now() + (deadline - now);
    const ctx: HostToolContext = {
      tool: call.tool,
      sessionId: call.sessionId,
      pool: worker.pool,
      workerId: worker.id,
      depth: call.depth,
      signal: controller.signal,
      deadline: epochDeadline,
      remainingMs: () => (epochDeadline === undefined ? Infinity : Math.max(0, epochDeadline - Date.now())),
    };
    const scope: ToolScope = {
      runId: this.#runId,
      parent: call.parent,
      depth: call.depth,
      deadline,
      signal: controller.signal,
    };
    try {
      return await runInScope(scope, () => runHandler(entry, args, ctx));
    } finally {
      clearTimeout(timer);
      ended?.removeEventListener('abort', onEnded);
    }
  }

  #endedSignal(parent: Call): AbortSignal {
    let signal = this.#ended.get(parent);
    if (signal) return signal;
    const controller = new AbortController();
    signal = controller.signal;
    this.#ended.set(parent, signal);
    const end = (): void =>
      controller.abort(
        new AbortError(`the Python call to "${parent.tool}" that called this host tool has ended`),
      );
    if (parent.settled) end();
    else parent.promise.then(end, end);
    return signal;
  }

  #unknown(tool: string, sessionId: string | undefined): Outcome {
    // Only what this session may see: another session's tools are not mentioned, even by name.
    const available = this.#registry.visible(sessionId).map((e) => e.info.name);
    return {
      error: {
        name: 'UnknownHostToolError',
        message:
          `no host tool named ${shortName(tool)}${sessionId === undefined ? '' : ` in session "${sessionId}"`}` +
          `; available: ${available.length ? available.join(', ') : '(none)'} (register it with pit.tools.register)`,
        code: UNKNOWN_HOST_TOOL_CODE,
      },
    };
  }
}

/** The session a call belongs to for host tools: its own, or (nested, without one) its caller's. */
function sessionOf(call: Call): string | undefined {
  for (let c: Call | undefined = call; c; c = c.parent) if (c.sessionId !== undefined) return c.sessionId;
  return undefined;
}

function mismatch(
  tool: string,
  claimed: unknown,
  parent: Call | undefined,
  sessionId: string | undefined,
): Outcome {
  const where = !parent
    ? 'no call of this worker is in flight under the id it gave, so it has no session'
    : sessionId === undefined
      ? `the call that made it ("${parent.tool}") has no session`
      : `the call that made it ("${parent.tool}") runs in session "${sessionId}"`;
  return {
    error: {
      name: 'SessionMismatchError',
      message:
        `host call to ${shortName(tool)} claims session ${shortName(claimed)}, but ${where}: the host decides ` +
        "a host call's session (the session of the call it started), and refuses the claim",
      code: SESSION_MISMATCH_CODE,
    },
  };
}

function findCall(worker: HostCallWorker, id: number): Call | undefined {
  for (const call of worker.inFlight()) if (call.id === id) return call;
  return undefined;
}

function isArgs(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** How a thrown value reaches Python: its name, message and (string) code. */
export function errorOutcome(err: unknown): { error: HostErrorPayload } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      error: {
        name: err.name || 'Error',
        message: err.message,
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
  return {
    error: {
      name: 'Error',
      message: typeof err === 'string' ? err : `a non-Error value was thrown: ${String(err)}`,
    },
  };
}
