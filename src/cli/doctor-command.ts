import type { Command } from 'commander';
import { runDoctor } from '../doctor/doctor.js';
import type { DoctorCheck } from '../doctor/doctor-types.js';
import { checkPythonConfig } from '../config/python-config.js';
import { addTargetOptions, collect, loadTargets, type TargetFlags } from './cli-config.js';
import { bold, dim, green, red, reportError, yellow } from './output.js';

interface DoctorFlags extends TargetFlags {
  json?: boolean;
  import?: string[];
}

const MARK: Record<DoctorCheck['status'], (s: string) => string> = {
  ok: (s) => green(s),
  warn: (s) => yellow(s),
  fail: (s) => red(s, process.stdout),
  skip: (s) => dim(s),
};
const SYMBOL: Record<DoctorCheck['status'], string> = { ok: '✓', warn: '!', fail: '✗', skip: '–' };

function printCheck(c: DoctorCheck): void {
  const ms = c.ms !== undefined ? dim(` (${c.ms < 10 ? c.ms.toFixed(1) : Math.round(c.ms)} ms)`) : '';
  process.stdout.write(`${MARK[c.status](SYMBOL[c.status])} ${c.message}${ms}\n`);
  for (const d of c.details ?? []) process.stdout.write(`    ${dim(d)}\n`);
  if (c.fix) process.stdout.write(`    ${bold('fix:')} ${c.fix}\n`);
}

export function registerDoctor(program: Command): void {
  addTargetOptions(
    program
      .command('doctor')
      .summary('check the Python environment and say how to fix what is wrong')
      .addHelpText(
        'after',
        '\nExamples:\n  npx snakepit doctor\n  npx snakepit doctor --import torch --json\n  npx snakepit doctor --adapter my_pkg.adapter:MyAdapter --python-path ./python\n',
      )
      .description(
        'Check Node, the Python interpreter (and why it was chosen), the venv, the bridge, codecs, each ' +
          'configured adapter, optional packages and sockets; print the fix for each problem; exit 1 if any check fails',
      )
      .option('--import <module>', 'also check that this Python module imports, timed (repeatable)', collect)
      .option('--json', 'print the report as JSON'),
  ).action(async (flags: DoctorFlags) => {
    try {
      const cwd = process.cwd();
      const { targets, file, raw } = await loadTargets(flags, cwd);
      const python = {
        ...checkPythonConfig('python', raw?.python, true),
        ...(flags.python ? { executable: flags.python } : {}),
      };
      if (!flags.json)
        process.stdout.write(`${bold('snakepit doctor')}${file ? dim(` (config: ${file})`) : ''}\n`);
      const report = await runDoctor({
        cwd,
        python,
        pools: targets.map((t) => ({ name: t.pool, config: t.config })),
        pythonPath: flags.pythonPath ?? [],
        imports: flags.import ?? [],
        configFile: file,
        ...(flags.json ? {} : { onCheck: printCheck }),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const failed = report.checks.filter((c) => c.status === 'fail').length;
        const warned = report.checks.filter((c) => c.status === 'warn').length;
        const summary = `${failed} problem${failed === 1 ? '' : 's'}, ${warned} warning${warned === 1 ? '' : 's'}`;
        process.stdout.write(`${failed ? red(summary, process.stdout) : green(summary)}\n`);
      }
      if (!report.ok) process.exitCode = 1;
    } catch (err) {
      reportError(err);
    }
  });
}
