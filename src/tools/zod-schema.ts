/**
 * zod 4 schemas as tool parameters. zod is an optional peer dependency, so schemas are recognised by shape (a
 * `_zod` internals object and a `safeParse` method), never by importing zod; the JSON Schema is zod's own
 * (`schema.toJSONSchema()`, or `z.toJSONSchema` when the method is missing), and arguments are checked with
 * `safeParse`, so zod's semantics (coercions, defaults, refinements) hold exactly.
 */
import { createRequire } from 'node:module';
import type { JsonSchemaObject } from './json-schema.js';

/** What snakepit uses of a zod 4 schema. `Out` is the parsed type (`z.infer<typeof schema>`). */
export interface ZodLikeSchema<Out = unknown> {
  readonly _zod: { readonly output: Out };
  safeParse(value: unknown): ZodLikeResult<Out>;
}

export type ZodLikeResult<Out> =
  | { success: true; data: Out }
  | {
      success: false;
      error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
    };

type ToJsonSchema = (params?: Record<string, unknown>) => unknown;

export function isZodSchema(value: unknown): value is ZodLikeSchema {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { _zod?: unknown })._zod === 'object' &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** A zod 3 schema (`_def` and `safeParse`, no `_zod`): recognised only to say what to do instead. */
export function isZod3Schema(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { _def?: unknown })._def === 'object' &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function' &&
    !isZodSchema(value)
  );
}

const PARAMS = { io: 'input', unrepresentable: 'any' } as const;

/**
 * The JSON Schema of a zod 4 schema's input, without the `$schema` line (LLM tool APIs do not want it).
 * @throws Error when neither the schema nor an installed zod can convert it
 */
export function zodToJsonSchema(schema: ZodLikeSchema): JsonSchemaObject {
  const method = (schema as unknown as { toJSONSchema?: ToJsonSchema }).toJSONSchema;
  let converted: unknown;
  if (typeof method === 'function') converted = method.call(schema, PARAMS);
  else {
    let z: { toJSONSchema?: (s: unknown, p?: Record<string, unknown>) => unknown } | undefined;
    try {
      z = createRequire(import.meta.url)('zod') as typeof z;
    } catch {
      z = undefined;
    }
    if (typeof z?.toJSONSchema !== 'function') {
      throw new Error('this zod schema has no toJSONSchema() and zod 4 cannot be loaded to convert it');
    }
    converted = z.toJSONSchema(schema, PARAMS);
  }
  const { $schema: _ignored, ...rest } = converted as JsonSchemaObject;
  return rest;
}

/** `"path: message"` for the first issue of a failed `safeParse`. */
export function zodProblem(result: ZodLikeResult<unknown>, root: string): string | null {
  if (result.success) return null;
  const issue = result.error.issues[0];
  if (!issue) return `${root}: invalid`;
  let path = root;
  for (const key of issue.path) {
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return `${path}: ${issue.message}`;
}
