/**
 * Model nodes (model.ts) -> TypeScript type text, for one direction:
 *
 * - `in`: what JavaScript may send for a parameter of that Python type (docs/VALUES.md, "JavaScript → Python",
 *   plus the conversions a typed parameter makes: an ISO text for a `date`, a `Set` for a `set[int]`);
 * - `out`: what a result of that Python type arrives as ("Python → JavaScript").
 *
 * Library functions (the generic adapter) differ in two ways, both from GENERIC_ADAPTER.md: their parameters are
 * not converted (a `date` parameter gets what the value table gives it, so only a `Date` fits), and their results
 * follow the library's `arrays` / `dataframes` options and turn a named tuple into an object of its fields.
 *
 * docs/TYPES.md is this file as a table; test/typegen/ checks each row against a real worker.
 */
import type { Definition, LibraryDescription, TypeNode } from './model.js';

export type Direction = 'in' | 'out';

export interface RenderContext {
  direction: Direction;
  /** Set for a library function: no parameter conversions, and the library's value options. */
  library?: LibraryDescription | undefined;
  /** The pool sends markers instead of references for values with no by-value form. */
  graceful: boolean;
  names: DefinitionNames;
}

/** TypeScript names for the pool's definitions (`mod.Point` -> `Point`, `PointInput`), and which are used. */
export class DefinitionNames {
  readonly #names = new Map<string, string>();
  readonly used = new Map<string, Set<Direction>>();

  constructor(readonly defs: ReadonlyMap<string, Definition>) {
    const taken = new Set<string>(RESERVED_TYPE_NAMES);
    for (const ref of [...defs.keys()].sort()) {
      const base = safeTypeName(defs.get(ref)!.name);
      let name = base;
      for (let i = 2; taken.has(name) || taken.has(`${name}Input`); i++) name = `${base}${i}`;
      taken.add(name);
      taken.add(`${name}Input`);
      this.#names.set(ref, name);
    }
  }

  /** The name of `ref` in a direction; enums have one name for both. */
  name(ref: string, direction: Direction): string {
    const base = this.#names.get(ref) ?? 'unknown';
    const set = this.used.get(ref) ?? new Set<Direction>();
    set.add(direction);
    this.used.set(ref, set);
    const def = this.defs.get(ref);
    return direction === 'in' && def && def.kind !== 'enum' ? `${base}Input` : base;
  }
}

/** Names the generated file declares itself or imports: a definition never takes one. */
const RESERVED_TYPE_NAMES = [
  'Snakepit',
  'PyRef',
  'PyDict',
  'NDArray',
  'PyArrayLike',
  'PyNested',
  'PyBytesLike',
  'PyComplex',
  'PySeries',
  'PyUnserializable',
  'PyValue',
  'TypedCallOptions',
  'TypedStreamOptions',
  'Tools',
  'Py',
  'TypedSnakepit',
  'Record',
  'Map',
  'Set',
  'Array',
  'Date',
  'Buffer',
  'Promise',
];

function safeTypeName(qualname: string): string {
  const last = qualname.split('.').pop() ?? 'T';
  const clean = last.replace(/[^A-Za-z0-9_$]/g, '_');
  const name = /^[A-Za-z_$]/.test(clean) ? clean : `T${clean}`;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A type in array position: `T[]` for a simple T, `Array<...>` otherwise. */
function arrayOf(item: string, readonly: boolean): string {
  if (/^[\w$.]+(<[\w$.' ,]*>)?$/.test(item) || /^'[^']*'$/.test(item)) {
    return `${readonly ? 'readonly ' : ''}${item}[]`;
  }
  return `${readonly ? 'ReadonlyArray' : 'Array'}<${item}>`;
}

/** `A | B`, with duplicates and `never` left out; `unknown` absorbs the rest. */
export function unionOf(parts: string[]): string {
  const out: string[] = [];
  for (const part of parts) {
    if (part === 'unknown') return 'unknown';
    if (part === 'never') continue;
    for (const p of splitUnion(part)) if (!out.includes(p)) out.push(p);
  }
  return out.length === 0 ? 'never' : out.join(' | ');
}

/** The members of a union written by `unionOf` (top level only: brackets and quotes are respected). */
function splitUnion(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if ('<([{'.includes(c)) depth++;
    else if ('>)]}'.includes(c)) depth--;
    else if (depth === 0 && text.startsWith(' | ', i)) {
      parts.push(text.slice(start, i));
      start = i + 3;
      i += 2;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function literal(value: string | number | boolean | null): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The TypeScript type of `node` in the context's direction. */
export function renderType(node: TypeNode, ctx: RenderContext): string {
  const input = ctx.direction === 'in';
  const r = (n: TypeNode): string => renderType(n, ctx);
  switch (node.k) {
    case 'any':
      // What JavaScript may send to an untyped parameter is open; what comes back is one of the value forms.
      return input ? 'unknown' : 'PyValue';
    case 'never':
      return 'never';
    case 'none':
      return 'null';
    case 'bool':
      return 'boolean';
    case 'int':
      return input ? 'number | bigint' : 'number';
    case 'bigint':
      return 'number | bigint';
    case 'float':
      return 'number';
    case 'str':
      return 'string';
    case 'bytes':
      return input ? 'PyBytesLike' : 'Buffer';
    case 'special':
      return special(node.name, ctx);
    case 'lit':
      return node.of.length ? unionOf(node.of.map(literal)) : 'never';
    case 'list':
      return arrayOf(r(node.of), input);
    case 'set':
      return input
        ? unionOf([`ReadonlySet<${r(node.of)}>`, arrayOf(r(node.of), true)])
        : arrayOf(r(node.of), false);
    case 'tuple':
      return `${input ? 'readonly ' : ''}[${node.of.map(r).join(', ')}]`;
    case 'dict':
      return dict(node.key, node.val, ctx);
    case 'union':
      return unionOf(node.of.map(r));
    case 'tv':
      return typeVar(node.of, ctx);
    case 'def':
      return definition(node.ref, ctx);
    case 'obj':
      return ref(node.cls, ctx);
    case 'ndarray':
      return input ? `PyArrayLike<${arrayItem(node.of, ctx)}>` : ndarrayOut(node.of, ctx);
    case 'arraylike':
      return input ? `PyArrayLike<${arrayItem(node.of, ctx)}>` : 'NDArray';
    case 'scalar':
      return r(node.of);
    case 'iter':
      return 'unknown';
  }
}

/** An array's item type: `never` stays (then only an NDArray or a typed array fits). */
function arrayItem(item: TypeNode, ctx: RenderContext): string {
  return renderType(item, ctx);
}

function special(name: string, ctx: RenderContext): string {
  const input = ctx.direction === 'in';
  const converted = ctx.library === undefined; // adapter tools convert typed parameters
  switch (name) {
    case 'datetime':
      return input && converted ? 'Date | string' : 'Date';
    case 'date':
      return input ? (converted ? 'string | Date' : 'Date') : 'string';
    case 'time':
    case 'uuid':
      return input && !converted ? 'never' : 'string';
    case 'timedelta':
      return input && !converted ? 'never' : 'number';
    case 'decimal':
    case 'fraction':
      return input ? (converted ? 'string | number' : 'never') : 'string';
    case 'complex':
      return input ? (converted ? 'number | PyComplex | string' : 'number') : 'PyComplex';
    case 'path':
      return 'string';
    case 'dataframe':
      if (input) return ref('pandas.DataFrame', ctx);
      return ctx.library?.dataframes === 'columns'
        ? 'Record<string, PyValue[] | NDArray>'
        : 'Array<Record<string, PyValue>>';
    case 'series':
      return input ? ref('pandas.Series', ctx) : 'PySeries';
    case 'dtype':
      return input ? 'string' : 'unknown';
    default:
      return 'unknown';
  }
}

const TEXT_KEYS = new Set(['str', 'int', 'float', 'bool', 'none', 'lit', 'any']);
const TEXT_SPECIAL_KEYS = new Set(['date', 'decimal', 'uuid', 'fraction', 'time', 'path']);

/** Keys that arrive as an object's text keys (VALUES.md); others make the dict a PyDict (a Map). */
function textKey(key: TypeNode, ctx: RenderContext): boolean {
  if (TEXT_KEYS.has(key.k)) return true;
  if (key.k === 'special') return TEXT_SPECIAL_KEYS.has(key.name);
  if (key.k === 'def') return ctx.names.defs.get(key.ref)?.kind === 'enum';
  if (key.k === 'union' || key.k === 'tv') return key.of.every((k) => textKey(k, ctx));
  return false;
}

function dict(key: TypeNode, val: TypeNode, ctx: RenderContext): string {
  const v = renderType(val, ctx);
  const stringKeys =
    key.k === 'str' || key.k === 'any' || (key.k === 'lit' && key.of.every((x) => typeof x === 'string'));
  if (ctx.direction === 'out') {
    return textKey(key, ctx) ? `Record<string, ${v}>` : `PyDict<${renderType(key, ctx)}, ${v}>`;
  }
  if (stringKeys) return `Readonly<Record<string, ${v}>> | ReadonlyMap<string, ${v}>`;
  const k = renderType(key, ctx);
  // number keys: a plain object's text keys become int / float / bool again only for a typed parameter
  if (ctx.library === undefined && textKey(key, ctx)) {
    return `Readonly<Record<string, ${v}>> | ReadonlyMap<${k}, ${v}>`;
  }
  return `ReadonlyMap<${k}, ${v}>`;
}

function typeVar(options: TypeNode[], ctx: RenderContext): string {
  if (options.length === 0) return 'unknown';
  if (ctx.direction === 'in' || ctx.library === undefined)
    return unionOf(options.map((o) => renderType(o, ctx)));
  // A library function gets what JavaScript sent: a TypeVar is bound to a type that can be sent.
  const sendable = options.filter((o) => renderType(o, { ...ctx, direction: 'in' }) !== 'never');
  return unionOf((sendable.length ? sendable : options).map((o) => renderType(o, ctx)));
}

function definition(refName: string, ctx: RenderContext): string {
  const def = ctx.names.defs.get(refName);
  if (!def) return 'unknown';
  if (def.kind === 'enum') return ctx.names.name(refName, ctx.direction);
  if (def.kind === 'namedtuple' && ctx.direction === 'out' && ctx.library !== undefined) {
    // the generic adapter sends a named tuple as an object of its fields
    return `{ ${(def.fields ?? []).map((f) => `${propertyKey(f.name)}: ${renderType(f.type, ctx)}`).join('; ')} }`;
  }
  if (
    ctx.direction === 'in' &&
    ctx.library !== undefined &&
    (def.kind === 'dataclass' || def.kind === 'model')
  ) {
    return ref(refName, ctx); // a library function does not build the class from an object
  }
  return ctx.names.name(refName, ctx.direction);
}

function ref(cls: string, ctx: RenderContext): string {
  const name = JSON.stringify(cls).slice(1, -1).replace(/'/g, "\\'");
  if (ctx.direction === 'out' && ctx.graceful) return `PyUnserializable<'${name}'>`;
  return `PyRef<'${name}'>`;
}

const NUMERIC_ITEMS = new Set(['float', 'int', 'bool', 'any', 'bigint']);

function ndarrayOut(item: TypeNode, ctx: RenderContext): string {
  const numeric =
    NUMERIC_ITEMS.has(item.k) || (item.k === 'union' && item.of.every((i) => NUMERIC_ITEMS.has(i.k)));
  if (numeric && ctx.library?.arrays !== 'lists') return 'NDArray';
  const inner = renderType(item, ctx);
  return arrayOf(`PyNested<${inner}>`, false);
}

/** A definition's declaration in a direction: an interface body (`{ ... }`) or a type alias's type. */
export function renderDefinition(
  def: Definition,
  direction: Direction,
  ctx: RenderContext,
): { form: 'interface' | 'type'; text: string } {
  if (def.kind === 'enum') return { form: 'type', text: unionOf((def.values ?? []).map(literal)) };
  const c = { ...ctx, direction };
  const fields = def.fields ?? [];
  const optional = (required: boolean): boolean =>
    direction === 'in' ? !required : def.kind === 'typeddict' ? !required : false;
  const lines = fields.map((f) => {
    const doc = f.doc || f.default !== undefined ? docLine(f.doc, f.default) : '';
    const key = propertyKey(f.name);
    return `${doc}  ${direction === 'out' ? '' : 'readonly '}${key}${optional(f.required) ? '?' : ''}: ${renderType(f.type, c)};`;
  });
  const object = `{\n${lines.join('\n')}\n}`;
  if (def.kind !== 'namedtuple') return { form: 'interface', text: object };
  const items = `[${fields.map((f) => renderType(f.type, c)).join(', ')}]`;
  if (direction === 'in') return { form: 'type', text: `${object} | readonly ${items}` };
  return { form: 'type', text: items };
}

function docLine(doc: string | undefined, dflt: string | undefined): string {
  const parts = withDefault(
    doc ? escapeComment(doc) : '',
    dflt === undefined ? undefined : escapeComment(dflt),
  );
  return `  /** ${parts.replace(/\n+/g, ' ')} */\n`;
}

/** A parameter's or field's description followed by its Python default: `the size (default: \`1\`)`. */
export function withDefault(text: string, dflt: string | undefined): string {
  return [text, dflt !== undefined ? `(default: \`${dflt}\`)` : ''].filter(Boolean).join(' ');
}

/** Text safe inside a block comment. */
export function escapeComment(text: string): string {
  return text.replace(/\*\//g, '*\\/');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** An object type's key: bare when it is an identifier, else quoted. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}
