/**
 * Host-side adapter hooks (`hooks` on a pool): what the host does with a call before it is queued and with its
 * result after — validate the arguments (a zod schema or a function), transform them, post-process the result,
 * give a tool its default timeout, and refuse tools the pool does not accept. They run in the caller's process;
 * a call a hook refuses is never queued, so nothing of it reaches a worker.
 *
 * Order: the pool's hooks, then the tool's, before the call (`validate`, `prepareArgs`); the tool's, then the
 * pool's, after it (`processResult`).
 */
import { ConfigError, InvalidArgumentsError, UnknownToolError, AdapterHookError } from '../errors/errors.js';
import { describe, isPlainObject, optionalPositiveInt, rejectUnknownKeys } from '../config/checks.js';
import { isZodSchema, zodProblem, type ZodLikeSchema } from '../tools/zod-schema.js';
import type { ToolArgs } from '../call/call-options.js';

/**
 * A validator: a zod 4 schema (its parsed output becomes the arguments, so its defaults and coercions apply), or a
 * function that returns `true`/`undefined` to accept, `false` or a string (the problem) to refuse, or throws to
 * refuse with its message. Validators are synchronous: the call is refused or queued in the caller's tick.
 */
export type ArgsValidator =
  ZodLikeSchema | ((args: ToolArgs, tool: string) => boolean | string | void | undefined);

export interface ToolHooks {
  /** Checked before the call is queued; a refusal is an InvalidArgumentsError. */
  validate?: ArgsValidator;
  /** Returns the arguments to send (after `validate`). Synchronous; a throw is an AdapterHookError. */
  prepareArgs?: (args: ToolArgs, tool: string) => ToolArgs;
  /** Returns what the caller receives instead of the worker's result (`execute`; not stream chunks). */
  processResult?: (result: unknown, tool: string, args: ToolArgs) => unknown;
  /** The call's timeout when the caller gives none (a call's own `timeoutMs` wins). */
  timeoutMs?: number;
}

export interface PoolHooks extends ToolHooks {
  /** The only tools callers may use on this pool; any other is refused with UnknownToolError before queueing. */
  tools?: string[];
  /** Hooks of single tools, by tool name. */
  perTool?: Record<string, ToolHooks>;
}

export interface ResolvedHooks {
  pool: ToolHooks;
  tools: Set<string> | undefined;
  perTool: Map<string, ToolHooks>;
}

const RESERVED = '__snakepit__.';
const TOOL_HOOK_KEYS = ['validate', 'prepareArgs', 'processResult', 'timeoutMs'];

function checkToolHooks(where: string, raw: unknown, extra: string[]): ToolHooks {
  if (!isPlainObject(raw)) throw new ConfigError(where, `must be an object, got ${describe(raw)}`);
  rejectUnknownKeys(`${where}.`, raw, new Set([...TOOL_HOOK_KEYS, ...extra]));
  const { validate, prepareArgs, processResult } = raw;
  if (validate !== undefined && typeof validate !== 'function' && !isZodSchema(validate)) {
    throw new ConfigError(
      `${where}.validate`,
      `must be a zod 4 schema or a function, got ${describe(validate)}`,
    );
  }
  for (const [key, value] of [
    ['prepareArgs', prepareArgs],
    ['processResult', processResult],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new ConfigError(`${where}.${key}`, `must be a function, got ${describe(value)}`);
    }
  }
  const hooks = { ...raw } as ToolHooks;
  const timeoutMs = optionalPositiveInt(`${where}.timeoutMs`, raw['timeoutMs']);
  if (timeoutMs !== undefined) hooks.timeoutMs = timeoutMs;
  return hooks;
}

/** Check a pool's `hooks` (undefined: none). */
export function resolveHooks(where: string, raw: unknown): ResolvedHooks | undefined {
  if (raw === undefined) return undefined;
  const pool = checkToolHooks(where, raw, ['tools', 'perTool']);
  const { tools, perTool } = raw as { tools?: unknown; perTool?: unknown };
  if (tools !== undefined && (!Array.isArray(tools) || !tools.every((t) => typeof t === 'string' && t))) {
    throw new ConfigError(`${where}.tools`, `must be a list of tool names, got ${describe(tools)}`);
  }
  const perToolMap = new Map<string, ToolHooks>();
  if (perTool !== undefined) {
    if (!isPlainObject(perTool))
      throw new ConfigError(`${where}.perTool`, `must be an object, got ${describe(perTool)}`);
    for (const [name, hooks] of Object.entries(perTool)) {
      perToolMap.set(name, checkToolHooks(`${where}.perTool.${name}`, hooks, []));
    }
  }
  return { pool, tools: tools ? new Set(tools as string[]) : undefined, perTool: perToolMap };
}

function refused(tool: string, problem: string): InvalidArgumentsError {
  return new InvalidArgumentsError(tool, undefined, `refused by the pool's validate hook: ${problem}`);
}

function runValidate(validate: ArgsValidator, tool: string, args: ToolArgs): ToolArgs {
  if (isZodSchema(validate)) {
    const result = validate.safeParse(args);
    const problem = zodProblem(result, 'args');
    if (problem !== null || !result.success) throw refused(tool, problem ?? 'args: invalid');
    if (!isPlainObject(result.data)) throw refused(tool, 'the schema did not produce an object of arguments');
    return result.data as ToolArgs;
  }
  let verdict: unknown;
  try {
    verdict = validate(args, tool);
  } catch (err) {
    throw refused(tool, err instanceof Error ? err.message : String(err));
  }
  if (verdict instanceof Promise) {
    void verdict.catch(() => {});
    throw new AdapterHookError('validate', tool, 'returned a Promise; validators must be synchronous');
  }
  if (verdict === false) throw refused(tool, 'the arguments were refused');
  if (typeof verdict === 'string') throw refused(tool, verdict);
  return args;
}

function runPrepare(prepare: NonNullable<ToolHooks['prepareArgs']>, tool: string, args: ToolArgs): ToolArgs {
  let out: unknown;
  try {
    out = prepare(args, tool);
  } catch (err) {
    throw new AdapterHookError('prepareArgs', tool, err instanceof Error ? err.message : String(err), err);
  }
  if (!isPlainObject(out)) {
    throw new AdapterHookError(
      'prepareArgs',
      tool,
      `must return an object of arguments, returned ${describe(out)}`,
    );
  }
  return out as ToolArgs;
}

/**
 * Before queueing: refuse tools the pool does not accept, validate and transform the arguments, and pick the
 * default timeout. Throws UnknownToolError, InvalidArgumentsError or AdapterHookError; never queues anything.
 */
export function beforeCall(
  hooks: ResolvedHooks,
  pool: string,
  tool: string,
  args: ToolArgs,
): { args: ToolArgs; timeoutMs: number | undefined } {
  // Reference calls (`callMethod`, `getAttr`) are the reserved tools `__snakepit__.*`: they use an object a hooked
  // call returned, and no hook names them.
  if (tool.startsWith(RESERVED)) return { args, timeoutMs: undefined };
  if (hooks.tools && !hooks.tools.has(tool)) {
    throw new UnknownToolError(
      tool,
      [...hooks.tools],
      `pool "${pool}" accepts only the tools in its hooks.tools`,
    );
  }
  const own = hooks.perTool.get(tool);
  let out = args;
  for (const level of own ? [hooks.pool, own] : [hooks.pool]) {
    if (level.validate) out = runValidate(level.validate, tool, out);
    if (level.prepareArgs) out = runPrepare(level.prepareArgs, tool, out);
  }
  return { args: out, timeoutMs: own?.timeoutMs ?? hooks.pool.timeoutMs };
}

/** After a result: the tool's then the pool's `processResult`. Rejects with AdapterHookError when one throws. */
export async function afterCall(
  hooks: ResolvedHooks,
  tool: string,
  args: ToolArgs,
  result: unknown,
): Promise<unknown> {
  const own = hooks.perTool.get(tool);
  let out = result;
  for (const level of own ? [own, hooks.pool] : [hooks.pool]) {
    if (!level.processResult) continue;
    try {
      out = await level.processResult(out, tool, args);
    } catch (err) {
      throw new AdapterHookError(
        'processResult',
        tool,
        err instanceof Error ? err.message : String(err),
        err,
      );
    }
  }
  return out;
}

/** Whether any hook runs after a result (so calls without one skip the extra await). */
export function hasResultHooks(hooks: ResolvedHooks, tool: string): boolean {
  if (tool.startsWith(RESERVED)) return false;
  return hooks.pool.processResult !== undefined || hooks.perTool.get(tool)?.processResult !== undefined;
}
