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

function noTarget(tool: string): Error {
  if (tool.startsWith('python.')) {
    // The generic adapter (issue 4) will serve `python.<module>.<function>` from a config built on the fly.
    return new ConfigError(
      'tool',
      `"${tool}" needs the generic Python adapter, which this version of snakepit does not include yet; ` +
        "list the module's functions with `snakepit inspect <module>`, or call them through your own adapter " +
        '(`snakepit gen adapter <Name>`)',
    );
  }
  return new ConfigError(
    'pools',
    'nothing to call: write snakepit.config.json (e.g. {"adapter": "my_pkg.adapter:MyAdapter", "pythonPath": ["./python"]}), ' +
      'or pass --adapter module:Class (and --python-path DIR)',
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
          '  npx snakepit call greet --adapter my_pkg.adapter:MyAdapter --python-path ./python\n',
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
      if (!target) throw noTarget(tool);
      const config: SnakepitConfig = { logger: cliLogger(Boolean(flags.verbose)), ...target.config };
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
