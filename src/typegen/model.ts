/**
 * The description of a pool that `python -m snakepit_bridge.typegen` prints (python/snakepit_bridge/typegen/
 * model.py documents each node). Plain JSON: the renderer (render-types.ts) turns it into TypeScript.
 */

export type TypeNode =
  | { k: 'any' | 'never' | 'none' | 'bool' | 'int' | 'bigint' | 'float' | 'str' | 'bytes' }
  | { k: 'special'; name: SpecialName; of?: TypeNode }
  | { k: 'lit'; of: Array<string | number | boolean | null> }
  | { k: 'list' | 'set' | 'ndarray' | 'arraylike' | 'scalar'; of: TypeNode }
  | { k: 'tuple'; of: TypeNode[] }
  | { k: 'dict'; key: TypeNode; val: TypeNode }
  | { k: 'union'; of: TypeNode[] }
  | { k: 'tv'; name: string; of: TypeNode[] }
  | { k: 'def'; ref: string }
  | { k: 'obj'; cls: string }
  | { k: 'iter'; of: TypeNode; async: boolean };

export type SpecialName =
  | 'datetime'
  | 'date'
  | 'time'
  | 'timedelta'
  | 'decimal'
  | 'fraction'
  | 'complex'
  | 'uuid'
  | 'path'
  | 'dataframe'
  | 'series'
  | 'dtype';

export interface DocParts {
  summary?: string;
  body?: string;
  params?: Record<string, string>;
  returns?: string;
  yields?: string;
  attributes?: Record<string, string>;
}

export interface FieldDescription {
  name: string;
  type: TypeNode;
  required: boolean;
  doc?: string;
  default?: string;
}

export interface Definition {
  kind: 'typeddict' | 'dataclass' | 'model' | 'namedtuple' | 'enum';
  name: string;
  doc: DocParts;
  fields?: FieldDescription[];
  values?: Array<string | number | boolean | null>;
  members?: string[];
}

export type ParamKind =
  'positional_only' | 'positional_or_keyword' | 'var_positional' | 'keyword_only' | 'var_keyword';

export interface ParamLayout {
  name: string;
  kind: ParamKind;
  required: boolean;
  /** The default as JSON text, when it has one. */
  default?: string;
}

export interface SignatureDescription {
  params: Record<string, { type: TypeNode; optional: boolean }>;
  /** The result, or for a stream the type of each chunk. */
  returns: TypeNode;
}

export interface ToolDescription {
  name: string;
  origin: 'adapter' | 'library';
  /** The library's namespace (library functions). */
  library?: string;
  /** The function's path in its module (library functions). */
  path?: string;
  doc: DocParts;
  stream: boolean;
  /** `params`: the tool takes the whole argument map (Snakepit's style). */
  style: 'params' | null;
  params: ParamLayout[];
  /** One per overload (stubs), else one. */
  signatures: SignatureDescription[];
  source: 'hints' | 'stub' | 'none';
  /** No signature at run time: any positional arguments are accepted. */
  open?: boolean;
}

export interface LibraryDescription {
  name: string;
  namespace: string;
  module: string;
  arrays: 'typed' | 'lists';
  dataframes: 'records' | 'columns';
  functions: number;
  expose: 'listed' | 'public';
}

export interface PoolDescription {
  tools: ToolDescription[];
  defs: Record<string, Definition>;
  libraries: LibraryDescription[];
  /** Where stubs were found: `inline`, `stubs`, `typeshed`, `source`. */
  stubs: string[];
  python: string;
  elapsed_ms: number;
}
