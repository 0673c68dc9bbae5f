/**
 * The `snakepit` command line. Each command lives in its own module; this file only wires them to commander.
 */
import { Command } from 'commander';
import { registerBench } from './bench-command.js';
import { registerSetup } from './setup-command.js';
import { readPackageVersion } from './package-info.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('snakepit')
    .description('Run Python as a pool of long-lived workers behind one typed async API')
    .version(readPackageVersion(), '-v, --version')
    .showHelpAfterError();
  registerSetup(program);
  registerBench(program);
  await program.parseAsync(argv);
}
