/**
 * The JSON Schema subset host tools are validated against, compiled once per tool into a plain function.
 *
 * Checked keywords: `type` (one or a list; `integer` accepts whole numbers and bigints), `enum`, `const`,
 * `properties`, `required`, `additionalProperties` (boolean or schema), `items`, `prefixItems`, `minItems`,
 * `maxItems`, `uniqueItems`, `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`, `exclusiveMinimum`,
 * `exclusiveMaximum`, `multipleOf`, `anyOf`, `oneOf`, `allOf`, `not`, and local `$ref`s (`#`, `#/$defs/…`,
 * `#/definitions/…`). `format` is not checked, except that `{type: "string", format: "binary"}` means bytes (a
 * `Uint8Array`, what Python `bytes` arrive as) and `format: "date-time"`/`"date"` also accept a `Date`.
 * Annotations (`title`, `description`, `default`, `examples`, `$schema`, …) and keywords outside the subset are
 * ignored, so a schema written for an LLM works unchanged; it is just checked less strictly than a full validator
 * would.
 */

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** A JSON Schema (the subset above is checked; anything else is carried along unchecked). */
export type JsonSchema = boolean | JsonSchemaObject;

export interface JsonSchemaObject {
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  default?: unknown;
  [keyword: string]: unknown;
}

/** Returns the first problem found (`path: what was expected, what was got`), or null when the value fits. */
export type Validator = (value: unknown, path: string) => string | null;

const TYPES = new Set<JsonType>(['null', 'boolean', 'integer', 'number', 'string', 'array', 'object']);
const ACCEPT: Validator = () => null;

/** A schema that cannot be compiled (not an object, an unknown type, a bad pattern, a `$ref` that goes nowhere). */
export class SchemaError extends Error {
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(`${at}: ${message}`);
    this.name = 'SchemaError';
  }
}

/**
 * Compile `schema` into a validator.
 * @throws SchemaError naming the place in the schema that is wrong
 */
export function compileSchema(schema: JsonSchema): Validator {
  return new Compiler(schema).compile(schema, '#');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value) || value instanceof Uint8Array || value instanceof Date) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A short description of a value for messages: its JSON type and a clipped rendering. */
export function describeValue(value: unknown): string {
  const kind = typeName(value);
  let text: string;
  try {
    text =
      typeof value === 'bigint'
        ? `${value}n`
        : value instanceof Uint8Array
          ? `(${value.length} bytes)`
          : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 40) text = `${text.slice(0, 37)}...`;
  return kind === 'null' ? 'null' : `${kind} ${text}`;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date) return 'date';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'object')
    return isPlainObject(value) ? 'object' : (value.constructor?.name ?? 'object');
  return typeof value;
}

function hasType(value: unknown, type: JsonType, format: string | undefined): boolean {
  switch (type) {
    case 'null':
      return value === null || value === undefined;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
    case 'number':
      return typeof value === 'number' || typeof value === 'bigint';
    case 'string':
      if (format === 'binary') return value instanceof Uint8Array;
      if ((format === 'date-time' || format === 'date') && value instanceof Date) return true;
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    return (typeof a === 'bigint' || typeof a === 'number') &&
      (typeof b === 'bigint' || typeof b === 'number')
      ? Number(a) === Number(b)
      : false;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : typeof v === 'bigint'
        ? `${v}n`
        : v,
  );
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function count(value: number, what: string): string {
  return `${value} ${what}${value === 1 ? '' : 's'}`;
}

class Compiler {
  readonly #root: JsonSchema;
  readonly #refs = new Map<string, Validator>();

  constructor(root: JsonSchema) {
    this.#root = root;
  }

  compile(schema: JsonSchema, at: string): Validator {
    if (schema === true) return ACCEPT;
    if (schema === false) return (_v, path) => `${path}: no value is allowed here`;
    if (!isObject(schema))
      throw new SchemaError(at, `a schema must be an object or a boolean, got ${typeName(schema)}`);
    const steps: Validator[] = [];
    if (schema.$ref !== undefined) steps.push(this.#ref(schema.$ref, `${at}/$ref`));
    this.#typeStep(schema, at, steps);
    this.#valueSteps(schema, at, steps);
    this.#numberSteps(schema, at, steps);
    this.#stringSteps(schema, at, steps);
    this.#arraySteps(schema, at, steps);
    this.#objectSteps(schema, at, steps);
    this.#combinators(schema, at, steps);
    if (steps.length === 0) return ACCEPT;
    if (steps.length === 1) return steps[0]!;
    return (value, path) => {
      for (const step of steps) {
        const problem = step(value, path);
        if (problem !== null) return problem;
      }
      return null;
    };
  }

  #ref(ref: unknown, at: string): Validator {
    if (typeof ref !== 'string' || !ref.startsWith('#')) {
      throw new SchemaError(at, `only local references ("#/$defs/name") are supported, got ${String(ref)}`);
    }
    return (value, path) => {
      let validator = this.#refs.get(ref);
      if (!validator) {
        // Resolved on first use, so recursive schemas compile; the placeholder stops infinite regress.
        this.#refs.set(ref, ACCEPT);
        validator = this.compile(this.#resolve(ref, at), ref);
        this.#refs.set(ref, validator);
      }
      return validator(value, path);
    };
  }

  #resolve(ref: string, at: string): JsonSchema {
    let node: unknown = this.#root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isObject(node) ? node[key] : undefined;
      if (node === undefined) throw new SchemaError(at, `the reference "${ref}" points at nothing`);
    }
    return node as JsonSchema;
  }

  #typeStep(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    if (schema.type === undefined) return;
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    for (const t of types) {
      if (!TYPES.has(t)) throw new SchemaError(`${at}/type`, `unknown type ${JSON.stringify(t)}`);
    }
    const format = typeof schema.format === 'string' ? schema.format : undefined;
    const expected = types.map((t) => (t === 'string' && format === 'binary' ? 'bytes' : t)).join(' or ');
    steps.push((value, path) =>
      types.some((t) => hasType(value, t, format))
        ? null
        : `${path}: expected ${expected}, got ${describeValue(value)}`,
    );
  }

  #valueSteps(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    if (schema.enum !== undefined) {
      if (!Array.isArray(schema.enum)) throw new SchemaError(`${at}/enum`, 'must be an array');
      const options = schema.enum;
      const shown = options.map((o) => JSON.stringify(o)).join(', ');
      steps.push((value, path) =>
        options.some((o) => sameValue(value, o))
          ? null
          : `${path}: expected one of ${shown}, got ${describeValue(value)}`,
      );
    }
    if ('const' in schema) {
      const expected = schema.const;
      steps.push((value, path) =>
        sameValue(value, expected)
          ? null
          : `${path}: expected ${JSON.stringify(expected)}, got ${describeValue(value)}`,
      );
    }
  }

  #numberSteps(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    const bounds: Array<[string, number, (v: number, b: number) => boolean]> = [];
    const add = (key: string, sign: string, ok: (v: number, b: number) => boolean): void => {
      const bound = schema[key];
      if (bound === undefined) return;
      if (typeof bound !== 'number') throw new SchemaError(`${at}/${key}`, 'must be a number');
      bounds.push([sign, bound, ok]);
    };
    add('minimum', '>=', (v, b) => v >= b);
    add('maximum', '<=', (v, b) => v <= b);
    add('exclusiveMinimum', '>', (v, b) => v > b);
    add('exclusiveMaximum', '<', (v, b) => v < b);
    const multipleOf = schema.multipleOf;
    if (bounds.length === 0 && multipleOf === undefined) return;
    steps.push((value, path) => {
      if (typeof value !== 'number' && typeof value !== 'bigint') return null;
      const n = Number(value);
      for (const [sign, bound, ok] of bounds) {
        if (!ok(n, bound)) return `${path}: must be ${sign} ${bound}, got ${describeValue(value)}`;
      }
      if (typeof multipleOf === 'number' && multipleOf > 0) {
        const q = n / multipleOf;
        if (Math.abs(q - Math.round(q)) > 1e-9)
          return `${path}: must be a multiple of ${multipleOf}, got ${n}`;
      }
      return null;
    });
  }

  #stringSteps(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    const { minLength: lo, maxLength: hi, pattern } = schema;
    let regex: RegExp | undefined;
    if (pattern !== undefined) {
      try {
        regex = new RegExp(pattern, 'u');
      } catch (err) {
        throw new SchemaError(`${at}/pattern`, `not a valid regular expression: ${(err as Error).message}`);
      }
    }
    if (lo === undefined && hi === undefined && !regex) return;
    steps.push((value, path) => {
      if (typeof value !== 'string') return null;
      const length = [...value].length;
      if (typeof lo === 'number' && length < lo)
        return `${path}: must have at least ${count(lo, 'character')}, got ${length}`;
      if (typeof hi === 'number' && length > hi)
        return `${path}: must have at most ${count(hi, 'character')}, got ${length}`;
      if (regex && !regex.test(value)) return `${path}: must match /${pattern}/, got ${describeValue(value)}`;
      return null;
    });
  }

  #arraySteps(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    const items = schema.items === undefined ? undefined : this.compile(schema.items, `${at}/items`);
    if (schema.prefixItems !== undefined && !Array.isArray(schema.prefixItems)) {
      throw new SchemaError(`${at}/prefixItems`, 'must be an array of schemas');
    }
    const prefix = (schema.prefixItems ?? []).map((s, i) => this.compile(s, `${at}/prefixItems/${i}`));
    const { minItems: lo, maxItems: hi, uniqueItems: unique } = schema;
    if (!items && prefix.length === 0 && lo === undefined && hi === undefined && !unique) return;
    steps.push((value, path) => {
      if (!Array.isArray(value)) return null;
      if (typeof lo === 'number' && value.length < lo)
        return `${path}: expected at least ${count(lo, 'item')}, got ${value.length}`;
      if (typeof hi === 'number' && value.length > hi)
        return `${path}: expected at most ${count(hi, 'item')}, got ${value.length}`;
      for (let i = 0; i < value.length; i++) {
        const check = i < prefix.length ? prefix[i] : items;
        if (!check) continue;
        const problem = check(value[i], child(path, i));
        if (problem !== null) return problem;
      }
      if (unique) {
        const seen = new Set<string>();
        for (let i = 0; i < value.length; i++) {
          const key = stableJson(value[i]);
          if (seen.has(key)) return `${child(path, i)}: duplicates an earlier item (items must be unique)`;
          seen.add(key);
        }
      }
      return null;
    });
  }

  #objectSteps(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    if (schema.properties !== undefined && !isObject(schema.properties)) {
      throw new SchemaError(`${at}/properties`, 'must be an object of schemas');
    }
    const props = new Map(
      Object.entries(schema.properties ?? {}).map(([k, s]) => [k, this.compile(s, `${at}/properties/${k}`)]),
    );
    if (
      schema.required !== undefined &&
      !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))
    ) {
      throw new SchemaError(`${at}/required`, 'must be an array of property names');
    }
    const required = schema.required ?? [];
    const extra = schema.additionalProperties;
    const extraCheck =
      extra === undefined || extra === true ? undefined : this.compile(extra, `${at}/additionalProperties`);
    if (props.size === 0 && required.length === 0 && !extraCheck) return;
    steps.push((value, path) => {
      if (!isPlainObject(value)) return null;
      for (const name of required) {
        if (!Object.hasOwn(value, name) || value[name] === undefined)
          return `${path}: missing required key "${name}"`;
      }
      for (const [key, item] of Object.entries(value)) {
        const check = props.get(key);
        if (check) {
          if (item === undefined && !required.includes(key)) continue;
          const problem = check(item, child(path, key));
          if (problem !== null) return problem;
        } else if (extraCheck) {
          if (extra === false) return `${child(path, key)}: unexpected key`;
          const problem = extraCheck(item, child(path, key));
          if (problem !== null) return problem;
        }
      }
      return null;
    });
  }

  #combinators(schema: JsonSchemaObject, at: string, steps: Validator[]): void {
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = schema[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0)
        throw new SchemaError(`${at}/${key}`, 'must be a non-empty array of schemas');
      const alternatives = list.map((s, i) => this.compile(s, `${at}/${key}/${i}`));
      if (key === 'allOf') {
        steps.push((value, path) => {
          for (const check of alternatives) {
            const problem = check(value, path);
            if (problem !== null) return problem;
          }
          return null;
        });
      } else {
        steps.push((value, path) => {
          const problems = alternatives.map((check) => check(value, path));
          const passed = problems.filter((p) => p === null).length;
          if (key === 'anyOf' ? passed > 0 : passed === 1) return null;
          if (passed > 1) return `${path}: matches ${passed} of the oneOf forms, exactly one is allowed`;
          // The form whose type fits but whose inside does not says more than "none of the forms".
          const deeper = problems.filter((p) => p !== null && !p.startsWith(`${path}: `));
          if (deeper.length === 1) return deeper[0]!;
          return problems.length === 1
            ? problems[0]!
            : `${path}: matches none of the ${problems.length} allowed forms (${problems[0]})`;
        });
      }
    }
    if (schema.not !== undefined) {
      const not = this.compile(schema.not, `${at}/not`);
      steps.push((value, path) =>
        not(value, path) === null ? `${path}: matches a form that is not allowed` : null,
      );
    }
  }
}
