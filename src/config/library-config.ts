/**
 * The `libraries` of a pool (the generic adapter, docs/GENERIC_ADAPTER.md): checked once, at the edge, against
 * strict patterns, so no module, function or package name can carry a path, an option or a shell metacharacter.
 * The worker receives the checked configuration as JSON in one environment variable (PROTOCOL.md §8) and checks
 * it again with the same patterns.
 */
import { ConfigError } from '../errors/errors.js';
import { checkRequirementSpec } from '../python-env/package-spec.js';
import { boolean, describe, isPlainObject, positiveInt, rejectUnknownKeys } from './checks.js';
import type { LibraryConfig, ResolvedLibraryConfig } from './config-types.js';
import { DEFAULTS } from './defaults.js';

/** The adapter a pool with `libraries` runs (it wraps the pool's own adapter, if any). */
export const GENERIC_ADAPTER = 'snakepit_bridge.generic:GenericPythonAdapter';
/** The environment variable that carries the generic adapter's configuration to the worker. */
export const GENERIC_CONFIG_ENV = 'SNAKEPIT_GENERIC_CONFIG';
/** Largest configuration passed to a worker (an environment string must stay well under Linux's 128 KiB). */
export const MAX_GENERIC_CONFIG_BYTES = 64 * 1024;

const IDENT = '[A-Za-z][A-Za-z0-9_]*';
/** Dotted identifiers with no part starting with `_` (private names are never exposed). */
const MODULE_PATTERN = new RegExp(`^${IDENT}(\\.${IDENT})*$`);
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const NAMESPACE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
const HOOK_PATTERN =
  /^(timing|log|cache|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*)$/;
/** A PEP 508 distribution name with optional extras: `numpy`, `scikit-learn`, `pandas[excel,plot]`. */
const PACKAGE_PATTERN =
  /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?(?:\[[A-Za-z0-9][A-Za-z0-9._-]*(?:,[A-Za-z0-9][A-Za-z0-9._-]*)*\])?$/;
const VERSION_CLAUSE = /^(~=|===|==|!=|<=|>=|<|>)?\s*([0-9][A-Za-z0-9.+!_-]*(?:\.\*)?)$/;
const MAX_PATH_CHARS = 200;
/**
 * Modules that start processes, run code, load code from bytes or reach any object by name: a library of one needs
 * `allowUnsafe: true`. Matched on the top-level package with leading underscores ignored. The same list is
 * python/snakepit_bridge/names.py's UNSAFE_MODULES (the worker checks again; a unit test keeps them equal).
 */
export const UNSAFE_MODULES: ReadonlySet<string> = new Set([
  'os',
  'posix',
  'nt',
  'subprocess',
  'posixsubprocess',
  'pty',
  'sys',
  'builtins',
  'builtin',
  'importlib',
  'imp',
  'pkgutil',
  'pydoc',
  'runpy',
  'code',
  'codeop',
  'ctypes',
  'cffi',
  'pickle',
  'cpickle',
  'dill',
  'cloudpickle',
  'shelve',
  'marshal',
  'shutil',
  'multiprocessing',
  'concurrent',
  'asyncio',
  'signal',
  'gc',
  'inspect',
  'operator',
  'timeit',
  'cprofile',
  'profile',
  'pdb',
  'bdb',
  'trace',
  'doctest',
  'webbrowser',
  'site',
  'ensurepip',
  'venv',
  'pip',
  'zipimport',
  'compileall',
  'py_compile',
  'thread',
  'winapi',
]);

/** Whether the module `name` (`os.path`, `_pickle`) is one of UNSAFE_MODULES. */
export function isUnsafeModule(name: string): boolean {
  return UNSAFE_MODULES.has(name.split('.')[0]!.replace(/^_+/, '').toLowerCase());
}

/** Modules whose functions run arbitrary code or import arbitrary modules; the worker refuses them too. */
const REFUSED_MODULES = new Set([
  'builtins',
  '__builtin__',
  'importlib',
  'runpy',
  'code',
  'codeop',
  'ctypes',
]);
const LIBRARY_KEYS = new Set([
  'name',
  'module',
  'namespace',
  'functions',
  'exclude',
  'aliases',
  'expose',
  'allowUnsafe',
  'lazy',
  'install',
  'hooks',
  'dataframes',
  'arrays',
  'cacheSize',
]);

function matching(key: string, value: unknown, pattern: RegExp, expected: string): string {
  if (typeof value !== 'string' || value.length > MAX_PATH_CHARS || !pattern.test(value)) {
    throw new ConfigError(key, `must be ${expected}, got ${describe(value)}`);
  }
  return value;
}

function paths(key: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(key, `must be an array of function names, got ${describe(value)}`);
  }
  return value.map((v, i) =>
    matching(
      `${key}[${i}]`,
      v,
      MODULE_PATTERN,
      'a function name or path such as "sqrt" or "DataFrame.describe" (no "_" names)',
    ),
  );
}

/**
 * A version for `install.version`: an exact version (`1.26.4`) or comma-separated clauses (`>=1.26,<3`).
 * @returns the version as pip takes it after the package name (`==1.26.4`, `>=1.26,<3`)
 */
export function checkVersion(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PATH_CHARS) {
    throw new ConfigError(key, `must be a version such as "1.26.4" or ">=1.26,<3", got ${describe(value)}`);
  }
  const clauses = value.split(',').map((part) => {
    const m = VERSION_CLAUSE.exec(part.trim());
    if (!m) {
      throw new ConfigError(
        key,
        `must be a version such as "1.26.4" or ">=1.26,<3", got ${describe(value)} ` +
          `(the clause ${JSON.stringify(part.trim())} is not valid)`,
      );
    }
    return `${m[1] ?? '=='}${m[2]}`;
  });
  return clauses.join(',');
}

function resolveInstall(key: string, value: unknown): ResolvedLibraryConfig['install'] {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    throw new ConfigError(key, `must be an object { package, version? }, got ${describe(value)}`);
  }
  rejectUnknownKeys(`${key}.`, value, new Set(['package', 'version']));
  const install = {
    package: matching(
      `${key}.package`,
      value['package'],
      PACKAGE_PATTERN,
      'a package name such as "numpy" or "pandas[excel]" (no paths, URLs, options or spaces)',
    ),
    version: value['version'] === undefined ? undefined : checkVersion(`${key}.version`, value['version']),
  };
  checkRequirementSpec(`${install.package}${install.version ?? ''}`, key); // the grammar PythonPackages installs
  return install;
}

function resolveLibrary(raw: unknown, where: string): ResolvedLibraryConfig {
  if (!isPlainObject(raw)) throw new ConfigError(where, `must be an object, got ${describe(raw)}`);
  rejectUnknownKeys(`${where}.`, raw, LIBRARY_KEYS);
  const lib = raw as Partial<LibraryConfig> & Record<string, unknown>;
  const name = matching(`${where}.name`, lib.name, NAME_PATTERN, 'a name of letters, digits, "_" and "-"');
  const module = matching(
    `${where}.module`,
    lib.module,
    MODULE_PATTERN,
    'a Python module name such as "numpy" or "docling.document_converter" (identifiers and dots only)',
  );
  if (REFUSED_MODULES.has(module.split('.')[0]!)) {
    throw new ConfigError(
      `${where}.module`,
      `${JSON.stringify(module)} runs arbitrary code (eval, exec or imports) and cannot be a library`,
    );
  }
  const namespace = matching(
    `${where}.namespace`,
    lib.namespace ?? name,
    NAMESPACE_PATTERN,
    lib.namespace === undefined
      ? 'letters, digits and "_" (it defaults to the name; set namespace for a name with "-")'
      : 'letters, digits and "_"',
  );
  const aliases: Record<string, string> = {};
  if (lib.aliases !== undefined) {
    if (!isPlainObject(lib.aliases)) {
      throw new ConfigError(
        `${where}.aliases`,
        `must be an object { alias: function }, got ${describe(lib.aliases)}`,
      );
    }
    for (const [alias, target] of Object.entries(lib.aliases)) {
      matching(`${where}.aliases`, alias, ALIAS_PATTERN, 'keyed by plain names (letters, digits, "_")');
      aliases[alias] = matching(
        `${where}.aliases.${alias}`,
        target,
        MODULE_PATTERN,
        'a function name or path',
      );
    }
  }
  const expose = lib.expose ?? DEFAULTS.library.expose;
  if (expose !== 'listed' && expose !== 'public') {
    throw new ConfigError(`${where}.expose`, `must be "listed" or "public", got ${describe(expose)}`);
  }
  const allowUnsafe = boolean(`${where}.allowUnsafe`, lib.allowUnsafe ?? DEFAULTS.library.allowUnsafe);
  if (isUnsafeModule(module) && !allowUnsafe) {
    throw new ConfigError(
      `${where}.module`,
      `${JSON.stringify(module)} can run processes or code: a library of it needs allowUnsafe: true, and then ` +
        'only for callers you trust (docs/SECURITY.md)',
    );
  }
  const functions = lib.functions === undefined ? undefined : paths(`${where}.functions`, lib.functions);
  const lazy = boolean(`${where}.lazy`, lib.lazy ?? DEFAULTS.library.lazy);
  const hooks = lib.hooks ?? [];
  if (!Array.isArray(hooks))
    throw new ConfigError(`${where}.hooks`, `must be an array, got ${describe(hooks)}`);
  hooks.forEach((h, i) =>
    matching(`${where}.hooks[${i}]`, h, HOOK_PATTERN, '"timing", "log", "cache" or "module:attr"'),
  );
  const dataframes = lib.dataframes ?? DEFAULTS.library.dataframes;
  if (dataframes !== 'records' && dataframes !== 'columns' && dataframes !== 'arrow') {
    throw new ConfigError(
      `${where}.dataframes`,
      `must be "records", "columns" or "arrow", got ${describe(dataframes)}`,
    );
  }
  const arrays = lib.arrays ?? DEFAULTS.library.arrays;
  if (arrays !== 'typed' && arrays !== 'lists') {
    throw new ConfigError(`${where}.arrays`, `must be "typed" or "lists", got ${describe(arrays)}`);
  }
  const cacheSize = positiveInt(`${where}.cacheSize`, lib.cacheSize, DEFAULTS.library.cacheSize, 1_000_000);
  const install = resolveInstall(`${where}.install`, lib.install);
  const exclude = lib.exclude === undefined ? [] : paths(`${where}.exclude`, lib.exclude);
  if (expose === 'listed' && !functions?.length && Object.keys(aliases).length === 0) {
    throw new ConfigError(
      `${where}.functions`,
      `is required: list the functions of ${JSON.stringify(module)} callers may use (e.g. functions: ["mean"]), ` +
        'or set expose: "public" to serve every public callable — only for callers you trust, since that ' +
        'includes functions that write files or load pickles (docs/GENERIC_ADAPTER.md, "Security")',
    );
  }
  return {
    name,
    module,
    namespace,
    functions,
    exclude,
    aliases,
    expose,
    allowUnsafe,
    lazy,
    install,
    hooks: hooks as string[],
    dataframes,
    arrays,
    cacheSize,
  };
}

/**
 * Check a pool's `libraries`.
 * @param where the pool's key, e.g. `pools[1]`
 * @throws ConfigError naming the key at fault (`pools[1].libraries[0].module`)
 */
export function resolveLibraries(raw: unknown, where: string): ResolvedLibraryConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    throw new ConfigError(`${where}.libraries`, `must be an array of library configs, got ${describe(raw)}`);
  }
  const libraries = raw.map((lib, i) => resolveLibrary(lib, `${where}.libraries[${i}]`));
  for (const field of ['name', 'namespace'] as const) {
    const seen = new Map<string, number>();
    libraries.forEach((lib, i) => {
      const first = seen.get(lib[field]);
      if (first !== undefined) {
        throw new ConfigError(
          `${where}.libraries[${i}].${field}`,
          `duplicates libraries[${first}].${field} ${JSON.stringify(lib[field])}`,
        );
      }
      seen.set(lib[field], i);
    });
  }
  return libraries;
}

/**
 * The value of `SNAKEPIT_GENERIC_CONFIG` for a pool's workers: the checked libraries and the adapter the generic
 * one wraps, as JSON with the worker's (snake_case) field names.
 * @throws ConfigError when the JSON exceeds MAX_GENERIC_CONFIG_BYTES
 */
export function genericConfigJson(
  adapter: string | undefined,
  libraries: ResolvedLibraryConfig[],
  where: string,
): string {
  const json = JSON.stringify({
    version: 1,
    adapter: adapter ?? null,
    libraries: libraries.map((lib) => ({
      name: lib.name,
      module: lib.module,
      namespace: lib.namespace,
      functions: lib.functions ?? null,
      exclude: lib.exclude,
      aliases: lib.aliases,
      expose: lib.expose,
      allow_unsafe: lib.allowUnsafe,
      lazy: lib.lazy,
      hooks: lib.hooks,
      dataframes: lib.dataframes,
      arrays: lib.arrays,
      cache_size: lib.cacheSize,
      package: lib.install?.package.replace(/\[.*$/, '') ?? null,
    })),
  });
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_GENERIC_CONFIG_BYTES) {
    throw new ConfigError(
      `${where}.libraries`,
      `is ${bytes} bytes as JSON; the limit is ${MAX_GENERIC_CONFIG_BYTES} (list fewer functions, or split ` +
        'the libraries over several pools)',
    );
  }
  return json;
}
