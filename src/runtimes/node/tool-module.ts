/**
 * A Node worker's tools are the functions a module exports (`runtime: "node"`, `module: "./tools.js"`). Each is
 * called as `fn(args, ctx)`: plain, `async`, a generator or an async generator (stream tools). A function may
 * carry `description` and `inputSchema` properties, advertised in its ToolSpec. The module may also export
 * `lifecycle = { initialize, cleanup, onSessionEnd }`, which are not tools.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { ToolContext } from './tool-context.js';

export type ToolFunction = (args: Record<string, unknown>, ctx: ToolContext) => unknown;

export interface Lifecycle {
  initialize?: () => unknown;
  cleanup?: () => unknown;
  onSessionEnd?: (session: string) => unknown;
}

export interface LoadedTool {
  name: string;
  fn: ToolFunction;
  kind: 'sync' | 'async' | 'generator' | 'async_generator';
  spec: Record<string, unknown>;
}

export interface LoadedModule {
  tools: Map<string, LoadedTool>;
  lifecycle: Lifecycle;
}

const NAME = /^[A-Za-z_$][\w$]*$/;

function kindOf(fn: ToolFunction): LoadedTool['kind'] {
  switch (fn.constructor?.name) {
    case 'AsyncFunction':
      return 'async';
    case 'GeneratorFunction':
      return 'generator';
    case 'AsyncGeneratorFunction':
      return 'async_generator';
    default:
      return 'sync';
  }
}

/** Import the module and list its tools. Throws what the import throws. */
export async function loadToolModule(path: string): Promise<LoadedModule> {
  const absolute = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  // A CommonJS module's exports arrive as `default`; so does `export default { ... }`.
  const base = namespace['default'];
  const exports: Record<string, unknown> =
    base !== null && typeof base === 'object' ? { ...(base as object), ...namespace } : { ...namespace };
  delete exports['default'];
  const tools = new Map<string, LoadedTool>();
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || !NAME.test(name) || name.startsWith('_') || name === 'lifecycle')
      continue;
    const fn = value as ToolFunction & { description?: unknown; inputSchema?: unknown };
    const kind = kindOf(fn);
    const description = typeof fn.description === 'string' ? fn.description : '';
    const spec: Record<string, unknown> = {
      name,
      description,
      supports_streaming: kind === 'generator' || kind === 'async_generator',
      is_async: kind === 'async' || kind === 'async_generator',
      signature: `${name}(args, ctx)`,
      parameters: [],
    };
    if (fn.inputSchema !== null && typeof fn.inputSchema === 'object') spec['input_schema'] = fn.inputSchema;
    tools.set(name, { name, fn, kind, spec });
  }
  const lifecycle = (exports['lifecycle'] ?? {}) as Lifecycle;
  return { tools, lifecycle: lifecycle !== null && typeof lifecycle === 'object' ? lifecycle : {} };
}

/** An ErrorInfo (PROTOCOL.md §5) for what a tool threw: kind `tool`, the JavaScript class chain and stack. */
export function errorInfoOf(err: unknown, kind = 'tool'): Record<string, unknown> {
  if (!(err instanceof Error)) {
    return { kind, type: 'Error', module: 'javascript', mro: ['Error'], message: String(err), traceback: '' };
  }
  const mro: string[] = [];
  for (
    let p = Object.getPrototypeOf(err) as object | null;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name && !mro.includes(name)) mro.push(name);
  }
  const details: Record<string, unknown> = {};
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') details['code'] = code;
  return {
    kind,
    type: err.name || mro[0] || 'Error',
    module: 'javascript',
    mro,
    message: err.message,
    traceback: err.stack ?? '',
    details,
  };
}
