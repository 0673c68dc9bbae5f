/**
 * A pool's `template` option: whether its local Python workers are forked from a warm template process (a fork
 * server: worker/template.ts, snakepit_bridge/template.py) or each started cold. docs/WORKERS.md, "Fast start".
 */
import { ConfigError } from '../errors/errors.js';
import { describe, isPlainObject, rejectUnknownKeys, stringList } from './checks.js';
import type { ResolvedTemplate, TransportKind } from './config-types.js';
import type { RuntimeKind } from './runtime-config.js';

/** Python module names only: they reach the template's command line. */
const MODULE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Where forking a warm interpreter is safe by default: Linux. macOS forks, but system frameworks (Objective-C,
 * CoreFoundation) may crash or deadlock in a child that did not exec; Windows has no fork.
 */
export function forkSafePlatform(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux';
}

export function resolveTemplate(
  key: string,
  value: unknown,
  pool: { transport: TransportKind; runtime: RuntimeKind; command: string[] | undefined; ray?: boolean },
): ResolvedTemplate {
  let enabled: boolean | undefined;
  let preload: string[] = [];
  if (typeof value === 'boolean') enabled = value;
  else if (isPlainObject(value)) {
    rejectUnknownKeys(`${key}.`, value, new Set(['enabled', 'preload']));
    if (value['enabled'] !== undefined && typeof value['enabled'] !== 'boolean')
      throw new ConfigError(`${key}.enabled`, `must be true or false, got ${describe(value['enabled'])}`);
    enabled = value['enabled'] as boolean | undefined;
    preload = stringList(`${key}.preload`, value['preload']);
    const bad = preload.find((m) => !MODULE_PATTERN.test(m));
    if (bad !== undefined)
      throw new ConfigError(`${key}.preload`, `must list Python module names, got ${JSON.stringify(bad)}`);
  } else if (value !== undefined) {
    throw new ConfigError(key, `must be true, false or { enabled, preload }, got ${describe(value)}`);
  }
  // Only the Python bridge forks (a `command` or the Node runtime is the user's own process), and only where this
  // host starts the workers itself (not Ray actors).
  const python =
    pool.runtime === 'python' &&
    pool.command === undefined &&
    pool.transport === 'local' &&
    pool.ray !== true;
  if (enabled === true && !python) {
    throw new ConfigError(
      key,
      'applies to Python workers this host starts itself (runtime "python", transport "local", no command, no Ray backend)',
    );
  }
  return { enabled: python && (enabled ?? forkSafePlatform()), preload };
}
