/**
 * How commands that run Python (call, inspect, doctor) decide what to run: `--adapter` on the command line, else
 * the config file's pools (`--pool` picks one, default the first). A command that starts workers starts one
 * worker of one pool, whatever size the config asks for.
 */
import type { Command } from 'commander';
import type { PoolConfig, SnakepitConfig } from '../config/config-types.js';
import { POOL_KEYS } from '../config/pool-config.js';
import { ConfigError } from '../errors/errors.js';
import type { Logger } from '../util/logger.js';
import { loadConfigFile } from './config-file.js';

export interface TargetFlags {
  config?: string;
  pool?: string;
  adapter?: string;
  pythonPath?: string[];
  python?: string;
  verbose?: boolean;
}

/** Add `--config`, `--pool`, `--adapter`, `--python-path`, `--python` and `--verbose` to a command. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (default: ./snakepit.config.{ts,js,json} when present)')
    .option('-p, --pool <name>', 'pool of the config to use (default: the first)')
    .option('--adapter <module:Class>', "adapter to run, instead of the config file's pools")
    .option('--python-path <dir>', 'directory to put on PYTHONPATH (repeatable)', collect)
    .option(
      '--python <exe>',
      'Python interpreter (default: resolved as for pools: SNAKEPIT_PYTHON, ./.venv, ...)',
    )
    .option('--verbose', "show the workers' logs (stdout/stderr of Python)");
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** One pool's config, as the command will start it. */
export interface Target {
  /** A config with exactly one pool, of size 1. */
  config: SnakepitConfig;
  pool: string;
  /** Where the pool came from: `--adapter`, or the config file's path. */
  from: string;
}

/** Every pool the command line or the config file names (doctor checks them all). */
export async function loadTargets(
  flags: TargetFlags,
  cwd: string,
): Promise<{ targets: Target[]; file?: string; raw?: SnakepitConfig }> {
  const { path, config } = await loadConfigFile(cwd, flags.config);
  const top = topLevel(config, flags);
  if (flags.adapter) {
    return {
      targets: [
        {
          config: { ...top, adapter: flags.adapter, pythonPath: flags.pythonPath ?? [], size: 1 },
          pool: 'default',
          from: '--adapter',
        },
      ],
      ...(path ? { file: path } : {}),
      ...(config ? { raw: config } : {}),
    };
  }
  if (!config || !path) return { targets: [] };
  const pools = poolsOf(config, path);
  const chosen = flags.pool === undefined ? pools : pools.filter((p) => p.name === flags.pool);
  if (flags.pool !== undefined && chosen.length === 0) {
    throw new ConfigError(
      '--pool',
      `no pool named "${flags.pool}" in ${path} (pools: ${pools.map((p) => p.name).join(', ')})`,
    );
  }
  const extraPath = flags.pythonPath ?? [];
  return {
    targets: chosen.map((pool) => ({
      config: {
        ...top,
        pools: [{ ...pool, size: 1, pythonPath: [...(pool.pythonPath ?? []), ...extraPath] }],
      },
      pool: pool.name,
      from: path,
    })),
    file: path,
    raw: config,
  };
}

/** The one pool a command runs (`--pool`, else the first). */
export async function loadTarget(flags: TargetFlags, cwd: string): Promise<Target | undefined> {
  const { targets } = await loadTargets(flags, cwd);
  return targets[0];
}

/** Top-level settings (python, timeouts, anything but pools) with the command line's overrides. */
function topLevel(config: SnakepitConfig | undefined, flags: TargetFlags): SnakepitConfig {
  const rest: Record<string, unknown> = {};
  if (config) {
    // Keep only what is not a pool setting: with `pools` absent, the pool settings sit at the top level
    // (`python` is both: the top-level section stays here).
    for (const [k, v] of Object.entries(config)) {
      if (k !== 'pools' && (k === 'python' || !(POOL_KEYS as readonly string[]).includes(k))) rest[k] = v;
    }
  }
  const top = rest as SnakepitConfig;
  if (flags.python) top.python = { ...(top.python ?? {}), executable: flags.python };
  return top;
}

function poolsOf(config: SnakepitConfig, path: string): PoolConfig[] {
  if (config.pools !== undefined) {
    if (!Array.isArray(config.pools)) throw new ConfigError('pools', `must be an array (in ${path})`);
    return config.pools;
  }
  if (config.adapter === undefined && config.libraries === undefined) {
    throw new ConfigError(
      'pools',
      `${path} configures no pool: give \`adapter\`, \`libraries\` or \`pools\``,
    );
  }
  const {
    pools: _pools,
    logger: _l,
    logLevel: _ll,
    closeTimeoutMs: _c,
    killGraceMs: _k,
    python: _py,
    ...pool
  } = config;
  return [{ ...pool, name: config.name ?? 'default' } as PoolConfig];
}

/** Worker and host logs for the CLI: stderr only (stdout carries results), warnings and errors unless verbose. */
export function cliLogger(verbose: boolean): Logger {
  const write =
    (level: string, show: boolean) =>
    (obj: object, msg?: string): void => {
      if (!show) return;
      const o = obj as { worker?: string; pool?: string };
      const who = o.worker ?? o.pool;
      process.stderr.write(
        `[snakepit${who ? ` ${who}` : ''}${level === 'info' || level === 'debug' ? '' : ` ${level}`}] ${msg ?? ''}\n`,
      );
    };
  return {
    debug: write('debug', verbose),
    info: write('info', verbose),
    warn: write('warn', verbose),
    error: write('error', true),
  };
}
