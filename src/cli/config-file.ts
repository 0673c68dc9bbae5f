/**
 * Find and load `snakepit.config.{ts,mts,js,mjs,cjs,json}` (or the file given with `--config`).
 *
 * A JS/TS file exports the config as its default export (an object, or a function returning one, possibly
 * async). TypeScript files load natively where Node strips types, else through `tsx` when the project (or
 * snakepit) has it installed. Relative paths inside the config (pythonPath, cwd, python.executable) are relative
 * to the current directory, as they are for `Snakepit.start`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SnakepitConfig } from '../config/config-types.js';
import { ConfigError } from '../errors/errors.js';

export const CONFIG_FILE_NAMES = [
  'snakepit.config.ts',
  'snakepit.config.mts',
  'snakepit.config.js',
  'snakepit.config.mjs',
  'snakepit.config.cjs',
  'snakepit.config.json',
];

export interface LoadedConfig {
  /** The file read, or undefined when there is none. */
  path: string | undefined;
  config: SnakepitConfig | undefined;
}

/**
 * Load the config file.
 * @param explicit a `--config` path (must exist)
 * @throws ConfigError when the file is missing (explicit), unreadable, or does not export an object
 */
export async function loadConfigFile(cwd: string, explicit?: string): Promise<LoadedConfig> {
  let path: string | undefined;
  if (explicit !== undefined) {
    path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError('--config', `${path} does not exist`);
  } else {
    path = CONFIG_FILE_NAMES.map((n) => join(cwd, n)).find((p) => existsSync(p));
  }
  if (!path) return { path: undefined, config: undefined };
  const config = await readConfig(path, cwd);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError(
      path,
      `must export a config object (export default { adapter: "pkg.mod:Class" }), got ${Array.isArray(config) ? 'an array' : typeof config}`,
    );
  }
  return { path, config: config as SnakepitConfig };
}

async function readConfig(path: string, cwd: string): Promise<unknown> {
  if (path.endsWith('.json')) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (err) {
      throw new ConfigError(path, `is not valid JSON: ${(err as Error).message}`);
    }
  }
  const mod = /\.m?ts$/.test(path) ? await importTypeScript(path, cwd) : await importModule(path);
  let value = mod['default'] ?? mod['config'];
  // A CommonJS-compiled module (a .ts file outside a "type": "module" package) nests its default export once more.
  if (value && typeof value === 'object' && 'default' in value) {
    const keys = Object.keys(value).filter((k) => k !== '__esModule' && k !== 'default');
    if (keys.length === 0) value = (value as { default: unknown }).default;
  }
  // A CommonJS file imported as ESM puts module.exports on `default`; a function builds the config.
  if (typeof value === 'function') value = await (value as () => unknown)();
  return value;
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(path, `could not be loaded: ${(err as Error).message}`);
  }
}

async function importTypeScript(path: string, cwd: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' && !(err instanceof SyntaxError)) {
      throw new ConfigError(path, `could not be loaded: ${(err as Error).message}`);
    }
  }
  const tsx = findTsx(cwd);
  if (!tsx) {
    throw new ConfigError(
      path,
      'is TypeScript, which this Node version cannot load by itself: install tsx (`npm i -D tsx`), or write ' +
        'snakepit.config.js / snakepit.config.json instead',
    );
  }
  try {
    const api = (await import(pathToFileURL(tsx).href)) as {
      tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>>;
    };
    return await api.tsImport(pathToFileURL(path).href, import.meta.url);
  } catch (err) {
    throw new ConfigError(path, `could not be loaded with tsx: ${(err as Error).message}`);
  }
}

/** tsx's ESM API (`tsx/esm/api`, its `import` entry), from the project first, then from snakepit's own dependencies. */
function findTsx(cwd: string): string | undefined {
  for (const base of [join(cwd, 'package.json'), import.meta.url]) {
    try {
      const pkgPath = createRequire(base).resolve('tsx/package.json');
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
        exports?: Record<string, { import?: { default?: string } | string }>;
      };
      const entry = pkg.exports?.['./esm/api'];
      const file = typeof entry === 'object' ? entry.import : undefined;
      const target = typeof file === 'string' ? file : file?.default;
      if (target) return join(dirname(pkgPath), target);
    } catch {
      /* not installed there */
    }
  }
  return undefined;
}
