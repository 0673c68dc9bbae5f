/**
 * `snakepit types` as a function: describe each pool of a config with its own interpreter
 * (`python -m snakepit_bridge.typegen`, run with the pool's pythonPath, cwd and environment, as a worker
 * would be), render the client (emit.ts), and write it — or, with `check`, only compare it with what is on disk.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { ResolvedPoolConfig, SnakepitConfig } from '../config/config-types.js';
import { resolveConfig } from '../config/resolve-config.js';
import { ConfigError, PythonEnvError } from '../errors/errors.js';
import { runBridgeHelper } from '../python-env/bridge-helpers.js';
import { silentLogger } from '../util/logger.js';
import { emitClient, type EmitPool } from './emit.js';
import type { PoolDescription } from './model.js';

export interface GenerateTypesOptions {
  /** Where to write `index.d.ts` and `index.js`. Default `./snakepit-types` (relative to `cwd`). */
  outDir?: string;
  /** Compare with the files on disk instead of writing; `stale` says whether they differ. */
  check?: boolean;
  /** The module the generated files import snakepit from. Default `snakepit`. */
  importFrom?: string;
  /** More typeshed directories (each holding `stdlib/`) to read standard-library stubs from. */
  typeshed?: string[];
  /** Only these pools (default: all). */
  pools?: string[];
  /** Shown in the generated header: where the config came from. */
  source?: string;
  /** Default `process.cwd()`. */
  cwd?: string;
  /** Per pool. Default 120 s. */
  timeoutMs?: number;
}

export interface GeneratedFile {
  path: string;
  /** `written` (new or changed), `unchanged`; with `check`: `stale` (differs) or `missing`. */
  status: 'written' | 'unchanged' | 'stale' | 'missing';
  content: string;
}

export interface GenerateTypesResult {
  files: GeneratedFile[];
  pools: Array<{ name: string; tools: number; functions: number; elapsedMs: number; stubs: string[] }>;
  /** Things the types cannot say (no typeshed, functions typed `unknown`, ...). */
  warnings: string[];
  /** With `check`: some file is missing or differs. */
  stale: boolean;
}

interface HelperError {
  error: { type: string; message: string; traceback?: string };
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Errors whose message says what is wrong: their fix, without a traceback. */
const EXPECTED_ERRORS: Record<string, string> = {
  LibraryImportError: "install the package into the pool's Python, as the message says",
  ModuleNotFoundError:
    "install what is missing into the pool's Python (`npx snakepit setup <package>`), or fix pythonPath",
  ImportError:
    "install what is missing into the pool's Python (`npx snakepit setup <package>`), or fix pythonPath",
  PathRefused: 'the workers would refuse this library too: fix its `functions` or `aliases`',
  ConfigProblem: 'fix the library configuration the message names',
  AttributeError: 'the adapter spec names a class that does not exist: check `adapter` (`module:Class`)',
};
const REQUEST_ENV = 'SNAKEPIT_TYPEGEN_REQUEST';

/**
 * Generate (or check) the typed client of `config`'s pools.
 * @throws ConfigError for a bad config or an unknown pool; PythonEnvError when a pool cannot be described
 *   (its adapter or a library does not import, with the Python error and the fix)
 */
export async function generateTypes(
  config: SnakepitConfig,
  options: GenerateTypesOptions = {},
): Promise<GenerateTypesResult> {
  const cwd = options.cwd ?? process.cwd();
  const resolved = resolveConfig({ ...config, logger: silentLogger });
  let pools = resolved.pools;
  if (options.pools) {
    const unknown = options.pools.filter((p) => !pools.some((q) => q.name === p));
    if (unknown.length) {
      throw new ConfigError(
        'pools',
        `no pool named ${unknown.map((p) => `"${p}"`).join(', ')} (pools: ${pools.map((p) => p.name).join(', ')})`,
      );
    }
    pools = pools.filter((p) => options.pools!.includes(p.name));
  }
  const typeshed = [...(options.typeshed ?? []).map((d) => resolve(cwd, d)), ...pyrightTypeshed(cwd)];
  const warnings: string[] = [];
  const described: EmitPool[] = [];
  const summary: GenerateTypesResult['pools'] = [];
  for (const pool of pools) {
    if (pool.runtime !== 'python') {
      // Types come from Python hints and stubs; a Node or command pool has neither (docs/WORKERS.md).
      warnings.push(
        `pool "${pool.name}" runs runtime "${pool.runtime}": typed clients cover Python pools only`,
      );
      continue;
    }
    const description = await describePool(pool, typeshed, cwd, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    described.push({ name: pool.name, description, graceful: pool.graceful !== undefined });
    const functions = description.tools.filter((t) => t.origin === 'library');
    summary.push({
      name: pool.name,
      tools: description.tools.length - functions.length,
      functions: functions.length,
      elapsedMs: description.elapsed_ms,
      stubs: description.stubs,
    });
    warnings.push(...poolWarnings(pool.name, description));
  }
  const files = emitClient(described, {
    importFrom: options.importFrom ?? 'snakepit',
    ...(options.source !== undefined ? { source: options.source } : {}),
  });
  const outDir = resolve(cwd, options.outDir ?? 'snakepit-types');
  const out: GeneratedFile[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(outDir, name);
    const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (options.check) {
      out.push({
        path,
        content,
        status: existing === undefined ? 'missing' : existing === content ? 'unchanged' : 'stale',
      });
    } else if (existing === content) {
      out.push({ path, content, status: 'unchanged' });
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      out.push({ path, content, status: 'written' });
    }
  }
  return {
    files: out,
    pools: summary,
    warnings,
    stale: out.some((f) => f.status === 'stale' || f.status === 'missing'),
  };
}

async function describePool(
  pool: ResolvedPoolConfig,
  typeshed: string[],
  cwd: string,
  timeoutMs: number,
): Promise<PoolDescription> {
  const request = JSON.stringify({ adapter: pool.libraries.length > 0 ? null : pool.adapter, typeshed });
  const { value, run } = await runBridgeHelper<PoolDescription | HelperError>(
    pool.python.executable,
    'typegen',
    [],
    {
      pythonPath: pool.pythonPath.map((p) => resolve(cwd, p)),
      env: { ...pool.env, [REQUEST_ENV]: request },
      timeoutMs,
      cwd: pool.cwd ? resolve(cwd, pool.cwd) : cwd,
    },
  );
  if (!value) {
    throw new PythonEnvError(
      `cannot describe pool "${pool.name}": ${pool.python.executable} printed no description (exit ${run.code})\n${run.output.slice(-20).join('\n')}`,
      'run `npx snakepit doctor` to check the interpreter and the adapter',
    );
  }
  if ('error' in value) {
    const e = value.error;
    const expected = EXPECTED_ERRORS[e.type];
    throw new PythonEnvError(
      `cannot describe pool "${pool.name}": ${e.type}: ${e.message}`,
      expected ??
        `fix what the traceback shows (\`npx snakepit doctor\` checks the adapter)\n${e.traceback ?? ''}`,
    );
  }
  return value;
}

function poolWarnings(pool: string, d: PoolDescription): string[] {
  const out: string[] = [];
  const untyped = d.tools.filter((t) => t.source === 'none');
  if (untyped.length > 0) {
    const names = untyped.slice(0, 5).map((t) => t.name);
    out.push(
      `pool "${pool}": ${untyped.length} tool${untyped.length === 1 ? ' has' : 's have'} no type hints and no stub ` +
        `(${names.join(', ')}${untyped.length > names.length ? ', …' : ''}): their values are typed \`unknown\`` +
        (d.stubs.includes('typeshed') || !d.tools.some((t) => t.origin === 'library')
          ? ''
          : ". No typeshed was found for the standard library: install mypy into the pool's Python " +
            '(`pip install mypy`) or pyright into the project (`npm i -D pyright`)'),
    );
  }
  return out;
}

/** pyright's bundled typeshed (`npm i -D pyright`), when the project has it. */
function pyrightTypeshed(cwd: string): string[] {
  try {
    const pkg = createRequire(join(cwd, 'package.json')).resolve('pyright/package.json');
    const dir = join(dirname(pkg), 'dist', 'typeshed-fallback');
    return existsSync(join(dir, 'stdlib')) ? [dir] : [];
  } catch {
    return [];
  }
}

/** `path` relative to `cwd` for messages and headers. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') ? path : rel || '.';
}
