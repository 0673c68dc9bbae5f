/**
 * The run-time half of a generated client: `typed(pit)` in the file `snakepit types` writes calls
 * `typedClient(pit, SPEC)`, and this builds the objects its `.d.ts` describes. Each function is a thin
 * `pit.execute` / `pit.executeStream`: the pool comes from the spec, and a library function's positional
 * arguments go in `_args` while its keyword object is spread beside them.
 *
 * The spec is data, checked here as it is read (a hand-edited file fails at `typed(pit)`, not at a call).
 */
import type { ExecuteOptions, StreamOptions, ToolArgs } from '../call/call-options.js';
import { ConfigError, InvalidArgumentsError } from '../errors/errors.js';

/** One library function: [positional slots, has *args, has a keyword object, is a stream]. */
export type LibraryCallShape = readonly [number, 0 | 1, 0 | 1, 0 | 1];

export interface TypedClientSpec {
  version: 1;
  pools: Record<
    string,
    {
      /** Adapter tools: 1 for a stream. */
      tools: Record<string, 0 | 1>;
      /** Library functions by tool name (`python.numpy.mean`). */
      py: Record<string, LibraryCallShape>;
    }
  >;
}

/** Options of a typed call: `execute`'s, without `pool` (the spec says where each tool lives). */
export type TypedCallOptions = Omit<ExecuteOptions, 'pool'>;
/** Options of a typed stream call. */
export type TypedStreamOptions = Omit<StreamOptions, 'pool'>;

/** What the client needs of a Snakepit (so a test may pass its own). */
export interface TypedClientTarget {
  execute(tool: string, args: ToolArgs, options: ExecuteOptions): Promise<unknown>;
  executeStream(tool: string, args: ToolArgs, options: StreamOptions): AsyncIterableIterator<unknown>;
}

type Fn = (...args: unknown[]) => unknown;
interface Tree {
  [key: string]: Tree | Fn;
}

const PYTHON_PREFIX = 'python.';

/**
 * Build a typed client from a generated spec. Use the generated `typed(pit)`, which gives it its types.
 * @param defaults options every call gets (a call's own options win), e.g. `{ sessionId }`
 * @throws ConfigError when the spec is malformed
 */
export function typedClient(
  target: TypedClientTarget,
  spec: TypedClientSpec,
  defaults: TypedCallOptions = {},
): unknown {
  checkSpec(spec);
  const pools: Record<string, { tools: Tree; py: Tree }> = Object.create(null);
  const tools: Tree = Object.create(null);
  const py: Tree = Object.create(null);
  for (const [pool, entry] of Object.entries(spec.pools)) {
    const own = { tools: Object.create(null) as Tree, py: Object.create(null) as Tree };
    for (const [name, stream] of Object.entries(entry.tools)) {
      define(own.tools, name, toolCall(target, name, pool, stream === 1, defaults));
    }
    for (const [name, shape] of Object.entries(entry.py)) {
      place(
        own.py,
        name.slice(PYTHON_PREFIX.length).split('.'),
        libraryCall(target, name, pool, shape, defaults),
      );
    }
    for (const name of Object.keys(own.tools)) if (!(name in tools)) define(tools, name, own.tools[name]!);
    for (const ns of Object.keys(own.py)) if (!(ns in py)) define(py, ns, own.py[ns]!);
    define(pools as unknown as Tree, pool, Object.freeze(own) as unknown as Tree);
  }
  return Object.freeze({
    tools,
    py,
    pools,
    session: (sessionId: string) => {
      if (typeof sessionId !== 'string' || !sessionId) {
        throw new InvalidArgumentsError('session', undefined, 'the session id must be a non-empty string');
      }
      return typedClient(target, spec, { ...defaults, sessionId });
    },
  });
}

function define(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: false });
}

/** Put `fn` at `path` in the tree; a function that has children keeps them as properties. */
function place(tree: Tree, path: string[], fn: Fn): void {
  let node: Tree = tree;
  for (const [i, part] of path.entries()) {
    const last = i === path.length - 1;
    const existing = Object.prototype.hasOwnProperty.call(node, part) ? node[part] : undefined;
    if (last) {
      if (existing !== undefined)
        for (const key of Object.keys(existing)) define(fn, key, (existing as Tree)[key]);
      define(node, part, fn);
      return;
    }
    if (existing === undefined) {
      const child: Tree = Object.create(null);
      define(node, part, child);
      node = child;
    } else {
      node = existing as Tree;
    }
  }
}

function merge(defaults: TypedCallOptions, options: unknown, pool: string, tool: string): ExecuteOptions {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new InvalidArgumentsError(tool, undefined, 'call options must be an object');
  }
  return { ...defaults, ...(options as TypedCallOptions | undefined), pool };
}

function toolCall(
  target: TypedClientTarget,
  tool: string,
  pool: string,
  stream: boolean,
  defaults: TypedCallOptions,
): Fn {
  return (args?: unknown, options?: unknown) => {
    const opts = merge(defaults, options, pool, tool);
    const a = (args ?? {}) as ToolArgs;
    return stream ? target.executeStream(tool, a, opts) : target.execute(tool, a, opts);
  };
}

function libraryCall(
  target: TypedClientTarget,
  tool: string,
  pool: string,
  [slots, varargs, keywords, stream]: LibraryCallShape,
  defaults: TypedCallOptions,
): Fn {
  const count = slots + varargs + keywords + 1;
  return (...args: unknown[]) => {
    if (args.length > count) {
      throw new InvalidArgumentsError(
        tool,
        undefined,
        `takes at most ${count} arguments (${slots} positional${varargs ? ', an array of more' : ''}` +
          `${keywords ? ', an object of keyword arguments' : ''}, then call options), got ${args.length}`,
      );
    }
    const positional = args.slice(0, slots);
    let i = slots;
    if (varargs) {
      const rest = args[i++];
      if (rest !== undefined && !Array.isArray(rest)) {
        throw new InvalidArgumentsError(tool, undefined, `argument ${i} (the *args) must be an array`);
      }
      if (rest !== undefined && rest.length > 0) {
        for (let j = positional.length; j < slots; j++) positional.push(undefined);
        positional.push(...(rest as unknown[]));
      }
    }
    while (positional.length > 0 && positional[positional.length - 1] === undefined) positional.pop();
    const kw = keywords ? args[i++] : undefined;
    if (kw !== undefined && (kw === null || typeof kw !== 'object' || Array.isArray(kw))) {
      throw new InvalidArgumentsError(tool, undefined, `argument ${i} (keyword arguments) must be an object`);
    }
    const callArgs: ToolArgs = { ...(kw as ToolArgs | undefined) };
    if (positional.length > 0) callArgs['_args'] = positional.map((v) => (v === undefined ? null : v));
    const opts = merge(defaults, args[i], pool, tool);
    return stream ? target.executeStream(tool, callArgs, opts) : target.execute(tool, callArgs, opts);
  };
}

function checkSpec(spec: TypedClientSpec): void {
  const bad = (why: string): never => {
    throw new ConfigError('typed client spec', `${why}: regenerate it with \`npx snakepit types\``);
  };
  if (
    !spec ||
    typeof spec !== 'object' ||
    spec.version !== 1 ||
    !spec.pools ||
    typeof spec.pools !== 'object'
  ) {
    bad('is not a spec written by `snakepit types` (version 1)');
  }
  for (const [pool, entry] of Object.entries(spec.pools)) {
    if (!entry || typeof entry.tools !== 'object' || typeof entry.py !== 'object')
      bad(`pool "${pool}" is malformed`);
    for (const name of Object.keys(entry.py)) {
      const shape = entry.py[name];
      if (
        !name.startsWith(PYTHON_PREFIX) ||
        !Array.isArray(shape) ||
        shape.length !== 4 ||
        !shape.every((n) => Number.isInteger(n) && n >= 0)
      ) {
        bad(`pool "${pool}" function "${name}" is malformed`);
      }
    }
  }
}
