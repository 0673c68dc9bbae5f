/**
 * ToolRegistry (`pit.tools`): host functions Python may call, global or scoped to one session.
 *
 *   pit.tools.register('lookup', async ({ id }, ctx) => db.get(id), {
 *     description: 'Find a record by id',
 *     parameters: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
 *   });
 *   # Python:  ctx.call_host_tool("lookup", id=7)
 *
 * A name resolves in the caller's session first, then globally, so a session's tool shadows a global one of the
 * same name. Arguments are checked before a handler runs: against the JSON Schema (json-schema.ts, a documented
 * subset) or with zod's `safeParse` for a zod schema. Session tools are dropped when their session ends.
 */
import { InvalidArgumentsError, ToolRegistrationError, UnknownToolError } from '../errors/errors.js';
import { compileSchema, type JsonSchemaObject, SchemaError, type Validator } from './json-schema.js';
import { isZod3Schema, isZodSchema, type ZodLikeSchema, zodProblem, zodToJsonSchema } from './zod-schema.js';

/** Argument map of a host tool. */
export type HostToolArgs = Record<string, unknown>;

/** What a host tool's handler knows about the call it serves. */
export interface HostToolContext {
  /** The tool's name. */
  readonly tool: string;
  /** The session of the Python call that called the tool, if any. */
  readonly sessionId: string | undefined;
  /** Pool and worker of the calling Python process (undefined for `pit.tools.call`). */
  readonly pool: string | undefined;
  readonly workerId: string | undefined;
  /** Host-tool hops in this chain: 1 when a top-level Python call called this tool. */
  readonly depth: number;
  /**
   * Aborted when the caller stops waiting: its call ended (timeout, abort, its worker died) or the deadline
   * passed. Hand it to whatever the handler awaits. Calls made with `pit.execute` inside the handler are
   * aborted with it on their own.
   */
  readonly signal: AbortSignal;
  /** Epoch ms (`Date.now()` scale) by which the caller wants the answer, if it has a deadline. */
  readonly deadline: number | undefined;
  /** Milliseconds left before the deadline (`Infinity` without one, never negative). */
  remainingMs(): number;
}

/** A host tool. May be async; an `AsyncIterable` result is collected into an array for the caller. */
export type HostToolHandler<A = HostToolArgs, R = unknown> = (
  args: A,
  ctx: HostToolContext,
) => R | Promise<R>;

/** A parameter schema: a JSON Schema of the argument object, or a zod 4 object schema. */
export type ParameterSchema = JsonSchemaObject | ZodLikeSchema;

/** The arguments a handler receives for a parameter schema: zod's output type, else a plain map. */
export type ArgsOf<P> = P extends { readonly _zod: { readonly output: infer O } } ? O : HostToolArgs;

export interface HostToolOptions<P extends ParameterSchema = JsonSchemaObject> {
  /** What the tool does (Python sees it as the proxy's `__doc__`; LLM exports use it). */
  description?: string;
  /** The arguments: a JSON Schema (`type: "object"`) or a zod 4 schema. Default: any arguments. */
  parameters?: P;
  /** Register for this session only: only Python calls in that session see it; dropped when the session ends. */
  sessionId?: string;
  /** Replace a tool of the same name in the same scope instead of throwing. Default false. */
  replace?: boolean;
}

/** A registered host tool, as listed. */
export interface HostToolInfo {
  name: string;
  description: string;
  /** JSON Schema of the arguments (converted from zod when a zod schema was given). */
  parameters: JsonSchemaObject;
  /** The session the tool belongs to; undefined for a global tool. */
  sessionId: string | undefined;
}

/** The `pit.tools` surface. */
export interface HostTools {
  /**
   * Make `handler` callable from Python as `ctx.call_host_tool(name, **kwargs)`.
   * @returns a function that unregisters this registration (true if it was still registered)
   * @throws ToolRegistrationError for a bad name, handler or schema, or a duplicate without `replace`
   */
  register<P extends ParameterSchema = JsonSchemaObject, R = unknown>(
    name: string,
    handler: HostToolHandler<ArgsOf<P>, R>,
    options?: HostToolOptions<P>,
  ): () => boolean;
  /** Remove a tool (the global one, or the session's with `sessionId`). True if there was one. */
  unregister(name: string, options?: { sessionId?: string }): boolean;
  /**
   * Tools as listed to Python: with `sessionId`, what that session sees (its own, then the global ones it does
   * not shadow); without, every tool, global and session-scoped.
   */
  list(options?: { sessionId?: string }): HostToolInfo[];
  /** The tool `name` as seen from `sessionId` (or globally). */
  get(name: string, options?: { sessionId?: string }): HostToolInfo | undefined;
  /**
   * Run a host tool here, as Python would (arguments checked first). Handy in tests.
   * @throws UnknownToolError, InvalidArgumentsError, or what the handler throws
   */
  call<T = unknown>(
    name: string,
    args?: HostToolArgs,
    options?: { sessionId?: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<T>;
  /** Drop every tool of a session (also done when the session ends). Returns how many there were. */
  clearSession(sessionId: string): number;
}

/** Names the host itself answers (`__snakepit__.host_tools`); user tools may not start with it. */
export const RESERVED_PREFIX = '__snakepit__.';
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** One registration, ready to run. */
export interface ToolEntry {
  readonly info: HostToolInfo;
  /** Checks the arguments: the (possibly parsed) arguments, or the problem. */
  readonly check: (args: HostToolArgs) => { args: unknown; problem?: undefined } | { problem: string };
  readonly handler: HostToolHandler<never, unknown>;
}

export class ToolRegistry implements HostTools {
  readonly #global = new Map<string, ToolEntry>();
  readonly #sessions = new Map<string, Map<string, ToolEntry>>();

  register<P extends ParameterSchema = JsonSchemaObject, R = unknown>(
    name: string,
    handler: HostToolHandler<ArgsOf<P>, R>,
    options: HostToolOptions<P> = {},
  ): () => boolean {
    const entry = makeEntry(name, handler as HostToolHandler<never, unknown>, options);
    const sessionId = entry.info.sessionId;
    let scope = sessionId === undefined ? this.#global : this.#sessions.get(sessionId);
    if (!scope) this.#sessions.set(sessionId!, (scope = new Map()));
    if (scope.has(name) && options.replace !== true) {
      throw new ToolRegistrationError(
        name,
        `a tool of that name is already registered${sessionId === undefined ? '' : ` for session "${sessionId}"`} ` +
          '(unregister it first, or pass replace: true)',
      );
    }
    scope.set(name, entry);
    return () => {
      const current = sessionId === undefined ? this.#global : this.#sessions.get(sessionId);
      if (current?.get(name) !== entry) return false;
      return this.unregister(name, { sessionId });
    };
  }

  unregister(name: string, options: { sessionId?: string } = {}): boolean {
    const sessionId = options.sessionId;
    if (sessionId === undefined) return this.#global.delete(name);
    const scope = this.#sessions.get(sessionId);
    const removed = scope?.delete(name) ?? false;
    if (scope?.size === 0) this.#sessions.delete(sessionId);
    return removed;
  }

  list(options: { sessionId?: string } = {}): HostToolInfo[] {
    const sessionId = options.sessionId;
    if (sessionId === undefined) {
      return [...this.#global.values(), ...[...this.#sessions.values()].flatMap((s) => [...s.values()])].map(
        (e) => e.info,
      );
    }
    return this.visible(sessionId).map((e) => e.info);
  }

  get(name: string, options: { sessionId?: string } = {}): HostToolInfo | undefined {
    return this.lookup(name, options.sessionId)?.info;
  }

  async call<T = unknown>(
    name: string,
    args: HostToolArgs = {},
    options: { sessionId?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const entry = this.lookup(name, options.sessionId);
    if (!entry)
      throw new UnknownToolError(
        name,
        this.visible(options.sessionId).map((e) => e.info.name),
      );
    const checked = entry.check(args);
    if (checked.problem !== undefined) {
      throw new InvalidArgumentsError(name, undefined, checked.problem);
    }
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined];
    const present = signals.filter((s): s is AbortSignal => s !== undefined);
    const signal = present.length === 0 ? new AbortController().signal : AbortSignal.any(present);
    const deadline = options.timeoutMs ? Date.now() + options.timeoutMs : undefined;
    const ctx: HostToolContext = {
      tool: name,
      sessionId: options.sessionId,
      pool: undefined,
      workerId: undefined,
      depth: 0,
      signal,
      deadline,
      remainingMs: () => (deadline === undefined ? Infinity : Math.max(0, deadline - Date.now())),
    };
    return (await runHandler(entry, checked.args, ctx)) as T;
  }

  clearSession(sessionId: string): number {
    const scope = this.#sessions.get(sessionId);
    this.#sessions.delete(sessionId);
    return scope?.size ?? 0;
  }

  /** The entry `name` resolves to from `sessionId`: the session's own first, then the global one. */
  lookup(name: string, sessionId: string | undefined): ToolEntry | undefined {
    if (sessionId !== undefined) {
      const own = this.#sessions.get(sessionId)?.get(name);
      if (own) return own;
    }
    return this.#global.get(name);
  }

  /** The entries `sessionId` can see, its own first. */
  visible(sessionId: string | undefined): ToolEntry[] {
    const own = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    if (!own) return [...this.#global.values()];
    return [...own.values(), ...[...this.#global.values()].filter((e) => !own.has(e.info.name))];
  }
}

/**
 * Run a handler on checked arguments. An `AsyncIterable` result (an async generator handler) is collected into an
 * array, stopping early if `ctx.signal` aborts.
 */
export async function runHandler(entry: ToolEntry, args: unknown, ctx: HostToolContext): Promise<unknown> {
  const result: unknown = await (entry.handler as HostToolHandler<unknown, unknown>)(args, ctx);
  if (!isAsyncIterable(result)) return result;
  const items: unknown[] = [];
  for await (const item of result) {
    if (ctx.signal.aborted) break;
    items.push(item);
  }
  return items;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function makeEntry(
  name: string,
  handler: HostToolHandler<never, unknown>,
  options: HostToolOptions<ParameterSchema>,
): ToolEntry {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ToolRegistrationError(
      String(name),
      'the name must start with a letter or "_" and have at most 128 letters, digits, "_", ".", ":" or "-"',
    );
  }
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new ToolRegistrationError(
      name,
      `names starting with "${RESERVED_PREFIX}" are reserved for snakepit`,
    );
  }
  if (typeof handler !== 'function') {
    throw new ToolRegistrationError(name, `the handler must be a function, got ${typeof handler}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ToolRegistrationError(name, `options must be an object, got ${typeof options}`);
  }
  const { description = '', sessionId, parameters } = options;
  if (typeof description !== 'string') {
    throw new ToolRegistrationError(name, `options.description must be a string, got ${typeof description}`);
  }
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !sessionId || sessionId.length > 256)) {
    throw new ToolRegistrationError(
      name,
      'options.sessionId must be a non-empty string of at most 256 characters',
    );
  }
  const { schema, check } = compileParameters(name, parameters);
  return {
    info: { name, description, parameters: schema, sessionId },
    check,
    handler,
  };
}

function compileParameters(
  name: string,
  parameters: ParameterSchema | undefined,
): { schema: JsonSchemaObject; check: ToolEntry['check'] } {
  if (parameters === undefined) {
    return { schema: { type: 'object' }, check: (args) => ({ args }) };
  }
  if (isZodSchema(parameters)) {
    let schema: JsonSchemaObject;
    try {
      schema = zodToJsonSchema(parameters);
    } catch (err) {
      throw new ToolRegistrationError(
        name,
        `cannot convert the zod schema to JSON Schema: ${(err as Error).message}`,
      );
    }
    if (schema.type !== 'object') {
      throw new ToolRegistrationError(
        name,
        'options.parameters must be a zod object schema (z.object({...}))',
      );
    }
    return {
      schema,
      check: (args) => {
        const result = parameters.safeParse(args);
        return result.success ? { args: result.data } : { problem: zodProblem(result, 'args')! };
      },
    };
  }
  if (isZod3Schema(parameters)) {
    throw new ToolRegistrationError(
      name,
      'zod 3 schemas are not supported: use zod 4, or pass a JSON Schema',
    );
  }
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new ToolRegistrationError(
      name,
      'options.parameters must be a JSON Schema object or a zod 4 schema',
    );
  }
  if (parameters.type !== undefined && parameters.type !== 'object') {
    throw new ToolRegistrationError(
      name,
      `options.parameters must describe the argument object (type "object"), got type ${JSON.stringify(parameters.type)}`,
    );
  }
  let validator: Validator;
  try {
    validator = compileSchema(parameters);
  } catch (err) {
    if (err instanceof SchemaError)
      throw new ToolRegistrationError(name, `bad parameter schema at ${err.message}`);
    throw err;
  }
  let schema: JsonSchemaObject;
  try {
    schema = { type: 'object', ...structuredClone(parameters) };
  } catch (err) {
    throw new ToolRegistrationError(
      name,
      `options.parameters must be plain JSON data: ${(err as Error).message}`,
    );
  }
  return {
    schema,
    check: (args) => {
      const problem = validator(args, 'args');
      return problem === null ? { args } : { problem };
    },
  };
}
