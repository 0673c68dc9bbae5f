/**
 * Where the bundled Python package `snakepit_bridge` lives. It ships inside the npm package (`python/`) and is
 * put first on each worker's PYTHONPATH, so no pip install is needed.
 *
 * A bundled app (esbuild, Electron, pkg) has no `node_modules/snakepit` to walk up to: it copies the `python/`
 * folder beside itself and names it with `SNAKEPIT_BRIDGE_PATH` or the `python.bridgePath` option.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BridgeNotFoundError } from '../errors/errors.js';

/** The environment variable that points at the folder holding `snakepit_bridge/`. */
export const BRIDGE_PATH_ENV = 'SNAKEPIT_BRIDGE_PATH';

let bundled: string | undefined;

function hasBridge(dir: string): boolean {
  return existsSync(join(dir, 'snakepit_bridge', '__init__.py'));
}

/**
 * A folder given by the user: the one holding `snakepit_bridge/` (`python/`), or the package folder itself.
 * @throws BridgeNotFoundError
 */
function explicitBridge(path: string, from: string): string {
  const dir = resolve(path);
  if (hasBridge(dir)) return dir;
  if (basename(dir) === 'snakepit_bridge' && hasBridge(dirname(dir))) return dirname(dir);
  throw new BridgeNotFoundError(`${from} does not point at a folder holding snakepit_bridge/__init__.py`, [
    dir,
  ]);
}

/**
 * The directory that contains `snakepit_bridge/`: `explicit` (the `python.bridgePath` option) when given, then
 * `SNAKEPIT_BRIDGE_PATH`, then the `python/` folder of this installation.
 * @throws BridgeNotFoundError naming where it looked and how to fix it
 */
export function bridgeDirectory(explicit?: string): string {
  if (explicit !== undefined) return explicitBridge(explicit, 'python.bridgePath');
  const fromEnv = process.env[BRIDGE_PATH_ENV];
  if (fromEnv) return explicitBridge(fromEnv, BRIDGE_PATH_ENV);
  if (bundled) return bundled;
  // Walk up from this module: src/python-env/ from source, dist/src/python-env/ built, dist/cjs/ for the CommonJS build.
  const searched: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'python');
    searched.push(candidate);
    if (hasBridge(candidate)) return (bundled = candidate);
    dir = dirname(dir);
  }
  throw new BridgeNotFoundError(
    'the Python package snakepit_bridge is not where this installation of snakepit expects it (an app bundle?)',
    searched.slice(0, 3),
  );
}

/** The bundled demo adapter (`snakepit doctor` starts it when no pool is configured). */
export const SHOWCASE_ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
