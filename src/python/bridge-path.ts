/**
 * Where the bundled Python package `snakepit_bridge` lives. It ships inside the npm package (`python/`) and is
 * put first on each worker's PYTHONPATH, so no pip install is needed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The directory that contains `snakepit_bridge/` (the package's `python/` folder). */
export function bridgeDirectory(): string {
  if (cached) return cached;
  // Walk up from this module: src/python/ when run from source, dist/src/python/ when built.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'python');
    if (existsSync(join(candidate, 'snakepit_bridge', '__init__.py'))) {
      cached = candidate;
      return candidate;
    }
    dir = dirname(dir);
  }
  throw new Error('snakepit: the bundled python/snakepit_bridge package is missing from this installation');
}

/** The bundled demo adapter (`snakepit doctor` starts it when no pool is configured). */
export const SHOWCASE_ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
