import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors/errors.js';
import { bridgeDirectory } from '../python-env/bridge-path.js';
import { adapterFiles, adapterNames, tsSnippet } from './adapter-template.js';
import { bold, dim, green, reportError } from './output.js';

interface GenFlags {
  dir: string;
  force?: boolean;
}

export function registerGen(program: Command): void {
  const gen = program
    .command('gen')
    .summary('generate code (gen adapter <Name>)')
    .description('Generate code (see `snakepit gen adapter --help`)');
  gen
    .command('adapter')
    .summary('scaffold a Python adapter with a passing test')
    .addHelpText(
      'after',
      '\nExample:\n  npx snakepit gen adapter ImageTools   # python/image_tools/{__init__,adapter,test_adapter}.py\n',
    )
    .description(
      'Scaffold a Python adapter package with a tool, a streaming tool and a test (unittest; pytest runs it ' +
        'too) that passes as generated, and print the TypeScript that uses it',
    )
    .argument('<Name>', 'adapter name, e.g. ImageTools (class ImageToolsAdapter in package image_tools)')
    .option('-d, --dir <dir>', 'folder to create the package in (it goes on pythonPath)', 'python')
    .option('-f, --force', 'overwrite existing files')
    .action((name: string, flags: GenFlags) => {
      try {
        const names = adapterNames(name);
        if (!names) {
          throw new ConfigError(
            '<Name>',
            `"${name}" is not usable as an adapter name: use letters, digits and "_" starting with a letter ` +
              '(e.g. ImageTools), not a Python keyword',
          );
        }
        const cwd = process.cwd();
        const packageDir = resolve(cwd, flags.dir, names.moduleName);
        const files = adapterFiles(names, bridgeDirectory());
        const existing = Object.keys(files).filter((f) => existsSync(join(packageDir, f)));
        if (existing.length > 0 && !flags.force) {
          throw new ConfigError(
            '<Name>',
            `${relative(cwd, packageDir) || packageDir} already has ${existing.join(', ')}; pick another name, ` +
              'or pass --force to overwrite',
          );
        }
        mkdirSync(packageDir, { recursive: true });
        for (const [file, text] of Object.entries(files)) {
          writeFileSync(join(packageDir, file), text);
          process.stdout.write(`${green('created')} ${relative(cwd, join(packageDir, file))}\n`);
        }
        const pythonPathDir = `./${relative(cwd, resolve(cwd, flags.dir)) || '.'}`;
        const rel = relative(cwd, packageDir);
        // unittest is in every Python; the venv's when there is one (it has the project's packages).
        const python = existsSync(join(cwd, '.venv', 'bin', 'python')) ? '.venv/bin/python' : 'python3';
        const top = relative(cwd, resolve(cwd, flags.dir)) || '.';
        process.stdout.write(
          `\n${bold('Test it:')}\n  ${python} -m unittest discover -s ${rel} -t ${top}     ${dim('(pytest runs it too)')}\n` +
            `  npx snakepit call greet '{"name":"Ada"}' --adapter ${names.adapterSpec} --python-path ${pythonPathDir}\n` +
            `\n${bold('Use it from TypeScript:')}\n\n${tsSnippet(names, pythonPathDir)}`,
        );
      } catch (err) {
        reportError(err);
      }
    });
}
