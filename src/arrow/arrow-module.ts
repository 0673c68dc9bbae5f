/**
 * Loading apache-arrow, synchronously, the first time a table crosses (arrow-tables.ts): the codecs encode and
 * decode synchronously, so there is no later moment to await an import in.
 *
 * Node's `require` loads it at once. A program that `require`d apache-arrow itself has its CommonJS build loaded:
 * that copy is used. Otherwise the ES module build (what `import 'apache-arrow'` gives) is preferred where Node can
 * `require` an ES module (Node ≥ 20.19, ≥ 22.12): a program that made its Table with `import` already holds that
 * very module, so loading it costs nothing and the Tables that come back are of its own classes. Elsewhere the
 * CommonJS build is loaded; its Tables pass apache-arrow's `instanceof Table` checks all the same.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ArrowModule = typeof import('apache-arrow');

/** undefined: not tried yet; null: not installed (or not loadable), tried once. */
let arrow: ArrowModule | null | undefined;

/** apache-arrow, loaded on the first call; undefined when it is not installed. */
export function loadArrowSync(): ArrowModule | undefined {
  if (arrow === undefined) arrow = requireArrow() ?? null;
  return arrow ?? undefined;
}

/** True once apache-arrow was loaded here (for tests and stats; never loads it). */
export function arrowLoaded(): boolean {
  return !!arrow;
}

function requireArrow(): ArrowModule | undefined {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('apache-arrow'); // the CommonJS entry
  } catch {
    return undefined;
  }
  const required = require.cache[main]; // the program `require`d it already: its copy costs nothing
  if (required?.loaded) return required.exports as ArrowModule;
  const esm = (process.features as { require_module?: boolean }).require_module ? esmEntry(main) : undefined;
  if (esm) {
    try {
      return require(esm) as ArrowModule;
    } catch {
      /* not loadable as an ES module here: the CommonJS build below */
    }
  }
  try {
    return require(main) as ArrowModule;
  } catch {
    return undefined;
  }
}

/** The ES module entry the package declares for Node (`exports["."].node.import`), beside its CommonJS `main`. */
function esmEntry(main: string): string | undefined {
  for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
    let pkg: { name?: string; exports?: unknown };
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    if (pkg.name !== 'apache-arrow') return undefined;
    const root = (pkg.exports as Record<string, unknown> | undefined)?.['.'] as
      Record<string, unknown> | undefined;
    const node = root?.['node'] as Record<string, unknown> | undefined;
    const entry = importTarget(node?.['import']) ?? importTarget(root?.['import']);
    return entry === undefined ? undefined : join(dir, entry);
  }
  return undefined;
}

function importTarget(condition: unknown): string | undefined {
  if (typeof condition === 'string') return condition;
  const target = (condition as Record<string, unknown> | undefined)?.['default'];
  return typeof target === 'string' ? target : undefined;
}
