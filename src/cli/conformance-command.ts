/**
 * `snakepit conformance --command "<worker command line>"`: run the conformance suite (src/conformance/) against a
 * worker and print one line per check. Exit code 0 when it conforms, 1 when a check failed.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatReport, runConformance, type CheckResult } from '../conformance/conformance.js';
import { ConfigError } from '../errors/errors.js';
import { nodeRuntimeEntry } from '../config/runtime-config.js';
import { dim, green, red, reportError } from './output.js';

interface ConformanceFlags {
  command?: string;
  node?: string;
  cwd?: string;
  env?: string[];
  json?: boolean;
}

/** Split a command line into words: spaces separate, single or double quotes group, no shell runs it. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
    }
  }
  if (quote) throw new ConfigError('--command', `unbalanced ${quote} in ${JSON.stringify(text)}`);
  if (started || word) words.push(word);
  return words;
}

function parseEnv(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('--env', `expected NAME=value, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function printCheck(check: CheckResult): void {
  const mark =
    check.status === 'pass'
      ? green('PASS')
      : check.status === 'fail'
        ? red('FAIL', process.stdout)
        : dim('skip');
  process.stdout.write(`${mark}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}\n`);
}

export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .summary('check that a worker command speaks the local protocol')
    .description(
      'Start the worker command the way a pool would and check the protocol: handshake, end of file, broken ' +
        'frames, then calls, values, errors, streams, cancellation, heartbeats, sessions, crash, recycle and ' +
        'shutdown through a real pool. Checks that need a conformance tool the worker lacks are skipped.',
    )
    .option('--command <command line>', 'the worker to check, e.g. "ruby worker.rb" (run without a shell)')
    .option('--node <module>', 'check the Node runtime serving this module (instead of --command)')
    .option('--cwd <dir>', 'working directory of the worker')
    .option('--env <NAME=value...>', 'extra environment variables for the worker')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  npx snakepit conformance --command "node my-worker.mjs"\n' +
        '  npx snakepit conformance --command "python -m snakepit_bridge --adapter my_pkg.adapter:Conformance"\n' +
        '  npx snakepit conformance --node ./tools.mjs\n',
    )
    .action(async (flags: ConformanceFlags) => {
      try {
        let command: string[];
        if (flags.node !== undefined) {
          if (flags.command !== undefined)
            throw new ConfigError('--node', 'give --command or --node, not both');
          command = [process.execPath, nodeRuntimeEntry(), '--module', resolve(flags.cwd ?? '.', flags.node)];
        } else {
          command = splitCommandLine(flags.command ?? '');
          if (command.length === 0) {
            throw new ConfigError(
              '--command',
              'name the worker to check, e.g. --command "node my-worker.mjs"',
            );
          }
        }
        const report = await runConformance({
          command,
          ...(flags.cwd ? { cwd: flags.cwd } : {}),
          ...(flags.env ? { env: parseEnv(flags.env)! } : {}),
          ...(flags.json ? {} : { onCheck: printCheck }),
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(`${formatReport(report).split('\n').pop()}\n`);
        process.exitCode = report.ok ? 0 : 1;
      } catch (err) {
        reportError(err);
      }
    });
}
