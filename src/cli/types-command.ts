import { relative } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors/errors.js';
import { displayPath, generateTypes } from '../typegen/generate.js';
import { collect } from './cli-config.js';
import { loadConfigFile } from './config-file.js';
import { dim, green, red, reportError, yellow } from './output.js';

interface TypesFlags {
  config?: string;
  out?: string;
  check?: boolean;
  pool?: string[];
  importFrom?: string;
  typeshed?: string[];
  adapter?: string;
  pythonPath?: string[];
}

export function registerTypes(program: Command): void {
  program
    .command('types')
    .summary("write a typed TypeScript client for the config's adapters and libraries")
    .description(
      'Describe what each pool of the config serves (adapter tools and library functions: type hints, stubs, ' +
        'docstrings, defaults) with its own Python, and write <out>/index.d.ts and <out>/index.js: ' +
        '`typed(pit).tools.<tool>(args)` and `typed(pit).py.<namespace>.<function>(...)`, checked by tsc. ' +
        'The output depends only on the Python side: run it on every build, and `--check` in CI',
    )
    .option('-c, --config <file>', 'config file (default: ./snakepit.config.{ts,js,json} when present)')
    .option('-o, --out <dir>', 'directory to write index.d.ts and index.js to', 'snakepit-types')
    .option(
      '--check',
      'write nothing; exit 1 when the files are missing or differ from what would be written',
    )
    .option('-p, --pool <name>', 'only this pool (repeatable; default: every pool)', collect)
    .option('--import-from <module>', 'module the generated files import snakepit from', 'snakepit')
    .option(
      '--typeshed <dir>',
      'a typeshed checkout (with stdlib/) for standard-library types (repeatable)',
      collect,
    )
    .option('--adapter <module:Class>', 'an adapter to describe, instead of a config file')
    .option('--python-path <dir>', 'directory to put on PYTHONPATH with --adapter (repeatable)', collect)
    .addHelpText(
      'after',
      '\nExamples:\n  npx snakepit types                       # ./snakepit.config.* -> ./snakepit-types/\n' +
        '  npx snakepit types --out src/generated/python\n' +
        '  npx snakepit types --check               # in CI: fails when the Python side changed\n' +
        '  npx snakepit types --adapter my_models.adapter:Models --python-path ./python\n',
    )
    .action(async (flags: TypesFlags) => {
      try {
        const cwd = process.cwd();
        let config;
        let source: string | undefined;
        if (flags.adapter) {
          config = { adapter: flags.adapter, pythonPath: flags.pythonPath ?? [] };
          source = `--adapter ${flags.adapter}`;
        } else {
          const loaded = await loadConfigFile(cwd, flags.config);
          if (!loaded.config || !loaded.path) {
            throw new ConfigError(
              '--config',
              'no snakepit.config.{ts,mts,js,mjs,cjs,json} here: give --config FILE, or --adapter module:Class',
            );
          }
          config = loaded.config;
          source = relative(cwd, loaded.path) || loaded.path;
        }
        const result = await generateTypes(config, {
          cwd,
          ...(flags.out !== undefined ? { outDir: flags.out } : {}),
          ...(flags.check ? { check: true } : {}),
          ...(flags.pool ? { pools: flags.pool } : {}),
          ...(flags.importFrom !== undefined ? { importFrom: flags.importFrom } : {}),
          ...(flags.typeshed ? { typeshed: flags.typeshed } : {}),
          source,
        });
        for (const p of result.pools) {
          process.stderr.write(
            dim(
              `pool ${p.name}: ${p.tools} tool${p.tools === 1 ? '' : 's'}, ${p.functions} library function` +
                `${p.functions === 1 ? '' : 's'} (${p.elapsedMs} ms)\n`,
              process.stderr,
            ),
          );
        }
        for (const w of result.warnings) process.stderr.write(`${yellow('warning', process.stderr)}: ${w}\n`);
        for (const f of result.files) {
          const path = displayPath(f.path, cwd);
          const status =
            f.status === 'written'
              ? green('written')
              : f.status === 'unchanged'
                ? dim('unchanged')
                : red(f.status, process.stdout);
          process.stdout.write(`${status} ${path}\n`);
        }
        if (result.stale) {
          process.stderr.write(
            `${red('stale', process.stderr)}: the generated types do not match the Python side; run \`npx snakepit types\`` +
              `${flags.out && flags.out !== 'snakepit-types' ? ` --out ${flags.out}` : ''} and commit the result\n`,
          );
          process.exitCode = 1;
        }
      } catch (err) {
        reportError(err);
      }
    });
}
