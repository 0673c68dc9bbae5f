/**
 * Tool specs in the JSON shape LLM tool-calling APIs take: a name, a description and the JSON Schema of the
 * arguments. Works on Python tools (`pit.describe()`, whose `inputSchema` the worker derives from type hints) and
 * on host tools (`pit.tools.list()`).
 *
 * A model's tool calls are untrusted input, so a generic-adapter library function is exported only when the
 * library lists it explicitly (`functions` or `aliases`; the spec's `listed`): a library with
 * `expose: "public"` does not hand a model every public callable (docs/SECURITY.md).
 *
 *   const tools = toLlmTools(pit.describe(), { format: 'openai' });
 *   // [{ type: 'function', function: { name: 'add', description: 'Add two numbers', parameters: {...} } }]
 */
import type { ToolSpec } from '../protocol/messages.js';
import type { JsonSchemaObject } from './json-schema.js';
import type { HostToolInfo } from './tool-registry.js';

/** `generic`: `{name, description, parameters}`; `openai`: `{type: "function", function: {...}}`; `anthropic`: `{name, description, input_schema}`. */
export type LlmToolFormat = 'generic' | 'openai' | 'anthropic';

export interface LlmTool {
  name: string;
  description: string;
  parameters: JsonSchemaObject;
}
export interface OpenAiTool {
  type: 'function';
  function: LlmTool;
}
export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: JsonSchemaObject;
}

export interface LlmExportOptions<F extends LlmToolFormat> {
  /** Default `generic`. */
  format?: F;
  /**
   * Rename tools for the API (OpenAI and Anthropic accept `^[a-zA-Z0-9_-]{1,64}$`, so `python.numpy.mean` needs
   * one); map the model's choice back yourself. Default: names as they are.
   */
  rename?: (name: string) => string;
  /** Include Python tools that stream (they need `executeStream`, which a tool-calling loop rarely does). Default false. */
  includeStreaming?: boolean;
}

type Exported<F extends LlmToolFormat> = F extends 'openai'
  ? OpenAiTool
  : F extends 'anthropic'
    ? AnthropicTool
    : LlmTool;

/** Convert tool specs (Python's or host tools) to the shape an LLM tool-calling API takes. */
export function toLlmTools<F extends LlmToolFormat = 'generic'>(
  specs: ReadonlyArray<ToolSpec | HostToolInfo>,
  options: LlmExportOptions<F> = {},
): Array<Exported<F>> {
  const format = options.format ?? 'generic';
  const rename = options.rename ?? ((n: string) => n);
  const out: unknown[] = [];
  for (const spec of specs) {
    if ('supportsStreaming' in spec && spec.supportsStreaming && !options.includeStreaming) continue;
    if ('supportsStreaming' in spec && spec.library !== undefined && spec.listed !== true) continue;
    const tool: LlmTool = {
      name: rename(spec.name),
      description: spec.description ?? '',
      parameters: schemaOf(spec),
    };
    if (format === 'openai') out.push({ type: 'function', function: tool });
    else if (format === 'anthropic')
      out.push({ name: tool.name, description: tool.description, input_schema: tool.parameters });
    else out.push(tool);
  }
  return out as Array<Exported<F>>;
}

function schemaOf(spec: ToolSpec | HostToolInfo): JsonSchemaObject {
  if ('supportsStreaming' in spec) {
    if (spec.inputSchema && typeof spec.inputSchema === 'object') return spec.inputSchema;
    // A worker that sent no input_schema (an older bridge): names and required-ness only.
    const properties: Record<string, JsonSchemaObject> = {};
    const required: string[] = [];
    let extra = false;
    for (const p of spec.parameters ?? []) {
      if (p.kind === 'var_keyword') extra = true;
      if (p.kind === 'var_keyword' || p.kind === 'var_positional' || p.kind === 'positional_only') continue;
      properties[p.name] = p.default === undefined ? {} : { default: p.default };
      if (p.required) required.push(p.name);
    }
    return {
      type: 'object',
      properties,
      ...(required.length ? { required } : {}),
      additionalProperties: extra,
    };
  }
  return spec.parameters;
}
