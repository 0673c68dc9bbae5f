import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeDirectory } from '../python/bridge-path.js';
import { setupEnvironment } from '../python/setup-env.js';
import { dim, green, reportError } from './output.js';

interface SetupFlags {
  python?: string;
  venv: string;
  requirements: string[];
  dev?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'Create or update ./.venv with msgpack (the fast codec) and your requirements; a no-op when nothing changed',
    )
    .argument('[packages...]', 'extra pip requirement specifiers to install')
    .option('--python <exe>', 'interpreter that creates the venv (default: SNAKEPIT_PYTHON, else python3)')
    .option('--venv <dir>', 'virtual environment directory', '.venv')
    .option(
      '-r, --requirements <file>',
      'a requirements file (repeatable; default: ./requirements.txt when present)',
      collect,
      [],
    )
    .option('--dev', "also install snakepit's test dependencies (python/requirements-dev.txt)")
    .option('-q, --quiet', 'print only errors')
    .option('--verbose', "show pip's output")
    .action(async (packages: string[], flags: SetupFlags) => {
      const cwd = process.cwd();
      const files = [...flags.requirements];
      if (files.length === 0 && existsSync(join(cwd, 'requirements.txt'))) files.push('requirements.txt');
      if (flags.dev) files.push(join(bridgeDirectory(), 'requirements-dev.txt'));
      try {
        const result = await setupEnvironment({
          cwd,
          python: flags.python,
          venv: flags.venv,
          packages: ['msgpack', ...packages],
          requirementFiles: files,
          onProgress: (line) => {
            if (!flags.quiet) process.stdout.write(`${green('›')} ${line}\n`);
          },
          ...(flags.verbose ? { onOutput: (line: string) => process.stdout.write(`${dim(line)}\n`) } : {}),
        });
        if (!flags.quiet && result.changed) process.stdout.write(`workers will use ${result.python}\n`);
      } catch (err) {
        reportError(err);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
