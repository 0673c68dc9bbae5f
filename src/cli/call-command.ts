import type { Command } from 'commander';
import type { SnakepitConfig } from '../config/config-types.js';
import { ConfigError, InvalidArgumentsError } from '../errors/errors.js';
import { Snakepit, type ToolArgs } from '../snakepit.js';
import { addTargetOptions, cliLogger, loadTarget, type TargetFlags } from './cli-config.js';
import { formatJson } from './json-output.js';
import { reportError } from './output.js';

interface CallFlags extends TargetFlags {
  stream?: boolean;
  timeout?: string;
  compact?: boolean;
}

/** `{"a": 1}` → `{ a: 1 }`; anything but a JSON object is refused with an example. */
export function parseJsonArgs(tool: string, text: string | undefined): ToolArgs {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `json-args is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"name": "Ada"}'`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentsError(
      tool,
      undefined,
      `json-args must be a JSON object of keyword arguments, e.g. '{"a": 1, "b": 2}', got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as ToolArgs;
}

const GENERIC_TOOL =
  /^python\.([A-Za-z][A-Za-z0-9_]{0,63})\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/;

/**
 * With no config file, `python.<module>.<function>` needs no adapter: the generic adapter is configured on the fly
 * for that one module, listing that one function. Any module may be named, `os` and `subprocess` included
 * (`allowUnsafe`): the caller is the local user at a shell, who can run Python anyway. The name policy still
 * holds (no `_` names). A pool built from a config file gets no such allowance.
 */
export function onTheFlyConfig(tool: string): SnakepitConfig | undefined {
  const m = GENERIC_TOOL.exec(tool);
  if (!m) return undefined;
  const [, module, fn] = m as unknown as [string, string, string];
  return {
    size: 1,
    libraries: [{ name: module, module, functions: [fn], allowUnsafe: true }],
  };
}

function noTarget(): Error {
  return new ConfigError(
    'pools',
    'nothing to call: write snakepit.config.json (e.g. {"adapter": "my_pkg.adapter:MyAdapter", "pythonPath": ["./python"]}), ' +
      'pass --adapter module:Class (and --python-path DIR), or call a library function directly as python.<module>.<function>',
  );
}

export function registerCall(program: Command): void {
  addTargetOptions(
    program
      .command('call')
      .summary('run one tool and print its result as JSON')
      .addHelpText(
        'after',
        '\nExamples:\n  npx snakepit call add \'{"a": 1, "b": 2}\'                  # the pool of ./snakepit.config.*\n' +
          '  npx snakepit call count \'{"n": 3}\' --pool models          # a stream: one JSON line per chunk\n' +
          '  npx snakepit call python.math.sqrt \'{"_args": [2]}\'         # any library function, no config needed\n' +
          '  npx snakepit call greet --adapter my_pkg.adapter:MyAdapter --python-path ./python\n' +
          '\nWithout a config file, python.<module>.<function> configures that one module on the fly, any module\n' +
          'included (os, subprocess: you can run Python here anyway). Pools from a config file serve only what\n' +
          'their libraries list (expose, allowUnsafe; see docs/SECURITY.md).\n',
      )
      .description(
        'Start one worker, run a tool with JSON keyword arguments, print the result as JSON (a streaming tool ' +
          'prints one JSON line per chunk), and stop',
      )
      .argument('<tool>', 'tool name, as in pit.execute(tool, ...)')
      .argument('[json-args]', 'keyword arguments as a JSON object, e.g. \'{"a": 1, "b": 2}\'')
      .option('--stream', 'call it as a stream even if it does not say it streams')
      .option('-t, --timeout <ms>', 'call timeout in milliseconds')
      .option('--compact', 'print JSON on one line'),
  ).action(async (tool: string, jsonArgs: string | undefined, flags: CallFlags) => {
    let pit: Snakepit | undefined;
    try {
      const args = parseJsonArgs(tool, jsonArgs);
      const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout);
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
        throw new ConfigError('--timeout', `must be a positive number of milliseconds, got ${flags.timeout}`);
      }
      const target = await loadTarget(flags, process.cwd());
      const targetConfig = target?.config ?? onTheFlyConfig(tool);
      if (!targetConfig) throw noTarget();
      const config: SnakepitConfig = { logger: cliLogger(Boolean(flags.verbose)), ...targetConfig };
      pit = await Snakepit.start(config);
      const spec = pit.describe().find((t) => t.name === tool);
      const options = timeoutMs === undefined ? {} : { timeoutMs };
      if (flags.stream || spec?.supports_streaming) {
        for await (const chunk of pit.executeStream(tool, args, options)) {
          process.stdout.write(`${formatJson(chunk, false)}\n`);
        }
      } else {
        const result = await pit.execute(tool, args, options);
        process.stdout.write(`${formatJson(result, !flags.compact)}\n`);
      }
    } catch (err) {
      reportError(err);
    } finally {
      await pit?.close();
    }
  });
}
