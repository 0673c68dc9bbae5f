import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkPythonConfig } from '../config/python-config.js';
import { PythonEnvError } from '../errors/errors.js';
import { bridgeDirectory } from '../python-env/bridge-path.js';
import { readPyprojectDependencies } from '../python-env/pyproject.js';
import { setupEnvironment } from '../python-env/setup-env.js';
import { collect } from './cli-config.js';
import { loadConfigFile } from './config-file.js';
import { dim, green, reportError } from './output.js';
import { Progress } from './progress.js';

interface SetupFlags {
  python?: string;
  venv: string;
  requirements?: string[];
  pyproject: boolean;
  config?: string;
  uv: boolean;
  dev?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  timeout: string;
}

/** `--timeout 600` (seconds) as milliseconds. */
function timeoutMs(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new PythonEnvError(
      `--timeout ${JSON.stringify(text)} is not a number of seconds`,
      'e.g. --timeout 900',
    );
  }
  return Math.round(seconds * 1000);
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .summary('create or update ./.venv with msgpack and your requirements')
    .addHelpText(
      'after',
      '\nExamples:\n  npx snakepit setup                 # ./.venv with msgpack, requirements.txt, pyproject.toml, python.packages\n' +
        '  npx snakepit setup numpy pandas    # and these\n  npx snakepit setup --python python3.12 --venv .venv312\n',
    )
    .description(
      'Create or update ./.venv (with uv when it is on PATH, else python -m venv) with msgpack (the fast codec) ' +
        'and your requirements: requirements.txt, pyproject.toml dependencies, python.packages of the config, ' +
        'and the packages named here; a no-op when nothing changed',
    )
    .argument('[packages...]', 'extra pip requirement specifiers to install')
    .option('--python <exe>', 'interpreter that creates the venv (default: SNAKEPIT_PYTHON, else python3)')
    .option('--venv <dir>', 'virtual environment directory', '.venv')
    .option(
      '-r, --requirements <file>',
      'a requirements file (repeatable; default: ./requirements.txt when present)',
      collect,
    )
    .option('--no-pyproject', "do not install ./pyproject.toml's [project].dependencies")
    .option(
      '-c, --config <file>',
      'config file whose python.packages to install (default: ./snakepit.config.*)',
    )
    .option('--no-uv', 'do not use uv even when it is on PATH')
    .option('--dev', "also install snakepit's test dependencies (python/requirements-dev.txt)")
    .option(
      '--timeout <seconds>',
      'give up on one installer run after this long (large packages: raise it)',
      '300',
    )
    .option('-q, --quiet', 'print only errors')
    .option('--verbose', "show the installer's output")
    .action(async (packages: string[], flags: SetupFlags) => {
      const started = performance.now();
      const cwd = process.cwd();
      const progress = flags.quiet ? undefined : new Progress({ stream: process.stdout, mark: green('›') });
      const say = (line: string): void => progress?.step(line);
      try {
        const limitMs = timeoutMs(flags.timeout);
        const files = [...(flags.requirements ?? [])];
        if (files.length === 0 && existsSync(join(cwd, 'requirements.txt'))) files.push('requirements.txt');
        if (flags.dev) files.push(join(bridgeDirectory(), 'requirements-dev.txt'));
        const wanted = ['msgpack'];
        const pyproject = join(cwd, 'pyproject.toml');
        if (flags.pyproject && existsSync(pyproject)) {
          const deps = readPyprojectDependencies(pyproject);
          for (const dep of deps) {
            if (dep.startsWith('-')) {
              throw new PythonEnvError(
                `pyproject.toml dependency "${dep}" looks like an option`,
                'remove it',
              );
            }
          }
          if (deps.length > 0)
            say(`pyproject.toml: ${deps.length} dependenc${deps.length === 1 ? 'y' : 'ies'}`);
          wanted.push(...deps);
        }
        const { path: configPath, config } = await loadConfigFile(cwd, flags.config);
        const python = checkPythonConfig('python', config?.python, true);
        if (python.packages?.length) {
          say(`${configPath}: python.packages ${python.packages.join(', ')}`);
          wanted.push(...python.packages);
        }
        wanted.push(...packages);
        const result = await setupEnvironment({
          cwd,
          python: flags.python,
          pythonVersion: python.strategy === 'uv' ? python.version : undefined,
          venv: flags.venv,
          packages: [...new Set(wanted)],
          requirementFiles: files,
          useUv: flags.uv,
          onProgress: say,
          onOutput: flags.verbose
            ? (line: string) => progress?.step(dim(line))
            : (line: string) => progress?.status(line),
          timeoutMs: limitMs,
          bridgeDir: bridgeDirectory(),
        });
        progress?.stop();
        if (!flags.quiet && result.changed) {
          const s = ((performance.now() - started) / 1000).toFixed(1);
          process.stdout.write(
            `workers will use ${result.python} (Python ${result.pythonVersion}; ${s} s)\n`,
          );
        }
      } catch (err) {
        progress?.stop();
        reportError(err);
      }
    });
}
