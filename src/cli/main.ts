/**
 * The `snakepit` command line. Each command lives in its own module; this file only wires them to commander.
 */
import { Command } from 'commander';
import { registerBench } from './bench-command.js';
import { registerCall } from './call-command.js';
import { registerConformance } from './conformance-command.js';
import { registerDashboard } from './dashboard-command.js';
import { registerDoctor } from './doctor-command.js';
import { registerGen } from './gen-command.js';
import { registerInspect } from './inspect-command.js';
import { readPackageVersion } from './package-info.js';
import { registerServe } from './serve-command.js';
import { registerSetup } from './setup-command.js';
import { registerTop } from './top-command.js';
import { registerTypes } from './types-command.js';

export async function main(argv: string[]): Promise<void> {
  // `snakepit inspect json | head`: the reader went away; stop quietly (workers see end-of-file and exit).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const program = new Command();
  program
    .name('snakepit')
    .description('Run Python as a pool of long-lived workers behind one typed async API')
    .version(readPackageVersion(), '-v, --version')
    .showHelpAfterError();
  registerSetup(program);
  registerDoctor(program);
  registerGen(program);
  registerCall(program);
  registerInspect(program);
  registerTypes(program);
  registerDashboard(program);
  registerServe(program);
  registerTop(program);
  registerBench(program);
  registerConformance(program);
  await program.parseAsync(argv);
}
