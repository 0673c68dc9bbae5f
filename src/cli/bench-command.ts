import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repositoryUrl } from './package-info.js';

/** dist/bench/run.js of this checkout (the suite ships with the repository, not with the npm package). */
function benchScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dist', 'bench', 'run.js');
    if (existsSync(candidate)) return candidate;
    const sibling = join(dir, 'bench', 'run.js');
    if (dir.endsWith('/dist') && existsSync(sibling)) return sibling;
    dir = dirname(dir);
  }
  return undefined;
}

export function registerBench(program: Command): void {
  // Only a clone has the suite: an installed package keeps the command (scripts may call it) out of its help.
  const available = benchScript() !== undefined;
  program
    .command('bench', { hidden: !available })
    .description('run the benchmark suite: snakepit against a bare loop and the other bridges, in one run')
    .option('--rounds <n>', 'interleaved rounds', '3')
    .option('--systems <list>', 'comma-separated system ids (default: all)')
    .option('--quick', 'tiny sizes: check every workload works, no timing claims')
    .option('--no-docs', 'do not update docs/PERFORMANCE.md')
    .action((flags: { rounds: string; systems?: string; quick?: boolean; docs: boolean }) => {
      const script = benchScript();
      if (!script) {
        const repo = repositoryUrl();
        // Not a failure of this install: the suite and its peers (pythonia, python-shell, node-calls-python) are
        // development dependencies of the repository, so an installed package says where to run it instead.
        process.stdout.write(
          'snakepit bench needs a clone of the repository (the suite and the bridges it compares with are not ' +
            `part of the npm package):\n  git clone ${repo} && cd snakepit && npm ci && npm run bench\n` +
            `The latest figures: ${repo}/blob/main/docs/PERFORMANCE.md\n`,
        );
        return;
      }
      const args = [script, '--rounds', flags.rounds];
      if (flags.systems) args.push('--systems', flags.systems);
      if (flags.quick) args.push('--quick');
      if (!flags.docs) args.push('--no-docs');
      const child = spawn(process.execPath, args, { stdio: 'inherit' });
      child.on('exit', (code) => {
        process.exitCode = code ?? 1;
      });
    });
}
