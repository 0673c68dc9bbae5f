import type { Command } from 'commander';
import { resolveConfig } from '../config/resolve-config.js';
import { ConfigError, PythonEnvError } from '../errors/errors.js';
import { runBridgeHelper } from '../python-env/bridge-helpers.js';
import { resolvePython } from '../python-env/interpreter.js';
import { silentLogger } from '../util/logger.js';
import { addTargetOptions, loadTarget, type TargetFlags } from './cli-config.js';
import { formatJson } from './json-output.js';
import { bold, dim, reportError } from './output.js';

interface InspectFlags extends TargetFlags {
  json?: boolean;
}

/** What python/snakepit_bridge/introspect.py prints. */
export interface ModuleDescription {
  module: string;
  file: string | null;
  doc: string;
  import_ms: number;
  callables: Array<{
    name: string;
    kind: 'function' | 'builtin' | 'class' | 'callable';
    signature: string;
    doc: string;
    is_async: boolean;
    is_generator: boolean;
  }>;
}

interface IntrospectError {
  error: { type: string; message: string; missing_module: string | null };
}

const MODULE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The interpreter, PYTHONPATH and cwd of the chosen pool, or of the command line alone. */
async function environment(
  flags: InspectFlags,
): Promise<{ python: string; pythonPath: string[]; cwd?: string }> {
  const target = await loadTarget(flags, process.cwd());
  if (target) {
    const pool = resolveConfig({ ...target.config, logger: silentLogger }).pools[0]!;
    return {
      python: pool.python.executable,
      pythonPath: pool.pythonPath,
      ...(pool.cwd ? { cwd: pool.cwd } : {}),
    };
  }
  return { python: resolvePython(flags.python).executable, pythonPath: flags.pythonPath ?? [] };
}

function printDescription(d: ModuleDescription): void {
  process.stdout.write(
    `${bold(d.module)} ${dim(`(${d.file ?? 'built in'}; imported in ${d.import_ms} ms)`)}\n`,
  );
  if (d.doc) process.stdout.write(`${dim(d.doc)}\n`);
  process.stdout.write('\n');
  for (const c of d.callables) {
    const tags = [
      c.kind === 'class' ? 'class' : '',
      c.is_async ? 'async' : '',
      c.is_generator ? 'generator' : '',
    ]
      .filter(Boolean)
      .join(' ');
    process.stdout.write(`  ${tags ? `${dim(tags)} ` : ''}${c.name}${c.signature}\n`);
    if (c.doc) process.stdout.write(`      ${dim(c.doc)}\n`);
  }
  process.stdout.write(`\n${d.callables.length} public callable${d.callables.length === 1 ? '' : 's'}\n`);
}

export function registerInspect(program: Command): void {
  addTargetOptions(
    program
      .command('inspect')
      .summary("list a Python module's functions with signatures and docs")
      .addHelpText(
        'after',
        '\nExamples:\n  npx snakepit inspect statistics\n  npx snakepit inspect my_pkg.tools --python-path ./python --json\n',
      )
      .description(
        "List a Python module's public functions and classes with their signatures and first docstring line, " +
          "as the pool's interpreter (and pythonPath) sees them",
      )
      .argument('<module>', 'module to import, e.g. json or my_pkg.tools')
      .option('--json', 'print the description as JSON'),
  ).action(async (module: string, flags: InspectFlags) => {
    try {
      if (!MODULE_PATTERN.test(module)) {
        throw new ConfigError(
          '<module>',
          `"${module}" is not a Python module name (e.g. json, os.path, my_pkg.tools)`,
        );
      }
      const env = await environment(flags);
      const { value } = await runBridgeHelper<ModuleDescription | IntrospectError>(
        env.python,
        'introspect',
        [module],
        {
          pythonPath: env.pythonPath,
          ...(env.cwd ? { cwd: env.cwd } : {}),
        },
      );
      if (!value) throw new PythonEnvError(`no description of ${module}`, 'run `npx snakepit doctor`');
      if ('error' in value) {
        const e = value.error;
        const fix = e.missing_module
          ? e.missing_module === module.split('.')[0] || module.startsWith(`${e.missing_module}.`)
            ? `Python (${env.python}) cannot find ${e.missing_module}: install it (\`npx snakepit setup ${e.missing_module}\`), or add its folder with --python-path`
            : `${module} needs "${e.missing_module}", which is not installed in ${env.python}: \`npx snakepit setup ${e.missing_module}\` (the package name can differ)`
          : `${module} raised at import: fix it, or check with \`snakepit doctor --import ${module}\``;
        throw new PythonEnvError(`cannot import ${module}: ${e.type}: ${e.message}`, fix);
      }
      if (flags.json) process.stdout.write(`${formatJson(value, true)}\n`);
      else printDescription(value);
    } catch (err) {
      reportError(err);
    }
  });
}
