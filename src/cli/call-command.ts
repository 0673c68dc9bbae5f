import type { Command } from 'commander';
import type { SnakepitConfig } from '../config/config-types.js';
import { ConfigError, InvalidArgumentsError } from '../errors/errors.js';
import type { ToolSpec } from '../protocol/messages.js';
import { Snakepit, type ToolArgs } from '../snakepit.js';
import { addTargetOptions, cliLogger, loadTarget, type TargetFlags } from './cli-config.js';
import { formatJson } from './json-output.js';
import { reportError } from './output.js';

interface CallFlags extends TargetFlags {
  stream?: boolean;
  timeout?: string;
  compact?: boolean;
}

/** A command-line value: JSON when it parses (`16`, `true`, `[1,2]`, `"a=b"`), else the text itself (`Ada`). */
function cliValue(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    return word;
  }
}

/** What the words after the tool name say: values in order, and `name=value` keyword arguments. */
export interface CallWords {
  positional: unknown[];
  keywords: ToolArgs;
}

const KEYWORD = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;

/**
 * `snakepit call <tool> [args...]`: one JSON object is the keyword arguments (`'{"a": 1}'`, as before); otherwise
 * each word is a value (JSON when it parses, else a string) or `name=value`. A string holding `=` is passed
 * JSON-quoted: `'"a=b"'`.
 */
export function parseCallWords(tool: string, words: string[]): CallWords {
  if (words.length === 1 && words[0]!.trim().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(words[0]!);
    } catch (err) {
      throw new InvalidArgumentsError(
        tool,
        undefined,
        `the arguments are not valid JSON (${(err as Error).message}); quote them for the shell, e.g. '{"name": "Ada"}'`,
      );
    }
    return { positional: [], keywords: value as ToolArgs };
  }
  const out: CallWords = { positional: [], keywords: {} };
  for (const word of words) {
    const kw = KEYWORD.exec(word);
    if (kw) {
      if (kw[1]! in out.keywords) throw new InvalidArgumentsError(tool, undefined, `${kw[1]} is given twice`);
      out.keywords[kw[1]!] = cliValue(kw[2]!);
    } else if (Object.keys(out.keywords).length > 0) {
      throw new InvalidArgumentsError(
        tool,
        undefined,
        `positional value ${JSON.stringify(word)} after name=value`,
      );
    } else {
      out.positional.push(cliValue(word));
    }
  }
  return out;
}

/**
 * The call's keyword arguments: positional values go to `_args` for a library function (`python.math.sqrt 16`),
 * else onto the tool's parameters in order (`add 1 2` → `{a: 1, b: 2}`).
 */
export function bindCallWords(tool: string, words: CallWords, spec: ToolSpec | undefined): ToolArgs {
  if (words.positional.length === 0) return words.keywords;
  if (tool.startsWith('python.') || spec?.library !== undefined) {
    return { ...words.keywords, _args: words.positional };
  }
  const params = (spec?.parameters ?? []).filter(
    (p) => p.kind === 'positional_or_keyword' || p.kind === 'positional_only',
  );
  if (spec && words.positional.length > params.length) {
    throw new InvalidArgumentsError(
      tool,
      spec.signature,
      `takes ${params.length} positional value${params.length === 1 ? '' : 's'} (${params.map((p) => p.name).join(', ') || 'none'}), got ${words.positional.length}; use name=value`,
    );
  }
  if (!spec)
    throw new InvalidArgumentsError(tool, undefined, 'positional values need a known tool; use name=value');
  const args: ToolArgs = {};
  words.positional.forEach((value, i) => (args[params[i]!.name] = value));
  for (const [name, value] of Object.entries(words.keywords)) {
    if (name in args) throw new InvalidArgumentsError(tool, spec.signature, `${name} is given twice`);
    args[name] = value;
  }
  return args;
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
        '\nExamples:\n  npx snakepit call add 1 2                               # the pool of ./snakepit.config.*\n' +
          '  npx snakepit call add \'{"a": 1, "b": 2}\'                  # the same, as a JSON object\n' +
          '  npx snakepit call count n=3 --pool models                # a stream: one JSON line per chunk\n' +
          '  npx snakepit call python.math.sqrt 16                    # any library function, no config needed\n' +
          '  npx snakepit call greet Ada --adapter my_pkg.adapter:MyAdapter --python-path ./python\n' +
          '\nEach value is JSON when it parses (16, true, [1,2], \'"text"\'), else a string; name=value is a keyword\n' +
          "argument; positional values fill the tool's parameters in order.\n" +
          '\nWithout a config file, python.<module>.<function> configures that one module on the fly, any module\n' +
          'included (os, subprocess: you can run Python here anyway). Pools from a config file serve only what\n' +
          'their libraries list (expose, allowUnsafe; see docs/SECURITY.md).\n',
      )
      .description(
        'Start one worker, run a tool with the arguments given, print the result as JSON (a streaming tool ' +
          'prints one JSON line per chunk), and stop',
      )
      .argument('<tool>', 'tool name, as in pit.execute(tool, ...)')
      .argument(
        '[args...]',
        'values (JSON or text), name=value pairs, or one JSON object of keyword arguments',
      )
      .option('--stream', 'call it as a stream even if it does not say it streams')
      .option('-t, --timeout <ms>', 'call timeout in milliseconds')
      .option('--compact', 'print JSON on one line'),
  ).action(async (tool: string, words: string[], flags: CallFlags) => {
    let pit: Snakepit | undefined;
    try {
      const parsed = parseCallWords(tool, words);
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
      const args = bindCallWords(tool, parsed, spec);
      const options = timeoutMs === undefined ? {} : { timeoutMs };
      if (flags.stream || spec?.supportsStreaming) {
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
