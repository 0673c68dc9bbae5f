/**
 * Checks of the Python side. Each import runs in its own short-lived process (`probe.py import MODULE`), timed,
 * so one slow or crashing import cannot hide another; adapters are checked by starting one real worker.
 */
import type { PythonConfig, ResolvedPython, SnakepitConfig } from '../config/config-types.js';
import { SnakepitError, PythonEnvError, WorkerStartError } from '../errors/errors.js';
import { runBridgeHelper, runProbe } from '../python-env/bridge-helpers.js';
import { resolvePython } from '../python-env/interpreter.js';
import type { PackageStatus } from '../python-env/packages.js';
import { Snakepit } from '../snakepit.js';
import { silentLogger } from '../util/logger.js';
import type { DoctorCheck } from './doctor-types.js';

const MIN_PYTHON: [number, number] = [3, 9];

/** What the environment probe reports (python/snakepit_bridge/probe.py `env`). */
export interface PythonEnvInfo {
  python: string;
  implementation: string;
  executable: string;
  prefix: string;
  in_venv: boolean;
  externally_managed: boolean;
  pip: string | null;
  msgpack: string | null;
  gil_disabled: boolean;
  /** A free-threaded build (3.13t and later), whether or not its GIL is on now; absent from older probes. */
  free_threaded?: boolean;
}

interface ImportProbe {
  ok: boolean;
  ms: number;
  version?: string | null;
  error?: { type: string; message: string; missing_module: string | null };
}

/** Quote one shell word for a copy-and-paste fix (the commands snakepit runs itself never use a shell). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How to install `what` into the checked interpreter: `npx snakepit setup X` for the project venv, else pip. */
export function installFix(python: ResolvedPython, what: string[]): string {
  const words = what.map(shellWord).join(' ');
  return python.source === './.venv'
    ? `npx snakepit setup ${words}   (or: ${python.executable} -m pip install ${words})`
    : `${python.executable} -m pip install ${words}`;
}

export function checkInterpreter(
  cwd: string,
  config: PythonConfig,
): { check: DoctorCheck; python?: ResolvedPython } {
  try {
    const python = resolvePython(config.executable, {
      cwd,
      ...(config.strategy ? { strategy: config.strategy } : {}),
      ...(config.version ? { version: config.version } : {}),
    });
    return {
      python,
      check: {
        id: 'python',
        status: 'ok',
        message: `interpreter ${python.executable} (chosen by: ${python.source})`,
        ...(python.notes ? { details: python.notes } : {}),
      },
    };
  } catch (err) {
    const e = err as PythonEnvError;
    return {
      check: {
        id: 'python',
        status: 'fail',
        message: e instanceof PythonEnvError ? e.message.split('\n')[0]! : String(err),
        fix: e instanceof PythonEnvError ? e.fix : 'see the message',
      },
    };
  }
}

/** Version, virtual environment and pip of the interpreter. */
export async function checkEnvironment(
  python: ResolvedPython,
): Promise<{ checks: DoctorCheck[]; info?: PythonEnvInfo }> {
  let info: PythonEnvInfo | undefined;
  try {
    info = (await runProbe<PythonEnvInfo>(python.executable, ['env'], { timeoutMs: 30_000 })).value;
  } catch (err) {
    return {
      checks: [
        {
          id: 'python-version',
          status: 'fail',
          message: `${python.executable} does not run: ${(err as Error).message.split('\n')[0]}`,
          fix:
            err instanceof PythonEnvError
              ? err.fix
              : 'point snakepit at a working Python 3.9+ (SNAKEPIT_PYTHON, python.executable)',
          ...(err instanceof Error ? { details: err.message.split('\n').slice(1, 6) } : {}),
        },
      ],
    };
  }
  if (!info) return { checks: [] };
  const checks: DoctorCheck[] = [];
  const [major, minor] = info.python.split('.').map(Number) as [number, number];
  const oldEnough = major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
  checks.push(
    oldEnough
      ? {
          id: 'python-version',
          status: 'ok',
          message: `Python ${info.python} (${info.implementation}${freeThreading(info)})`,
        }
      : {
          id: 'python-version',
          status: 'fail',
          message: `Python ${info.python} is too old; snakepit needs ${MIN_PYTHON.join('.')} or newer`,
          fix: 'install a newer Python and point snakepit at it (SNAKEPIT_PYTHON, python.executable), or recreate ./.venv with `npx snakepit setup --python python3.12`',
        },
  );
  checks.push(
    info.in_venv
      ? { id: 'venv', status: 'ok', message: `virtual environment ${info.prefix}` }
      : {
          id: 'venv',
          status: 'warn',
          message: `no virtual environment: ${info.executable} is a system Python${info.externally_managed ? ' that refuses pip installs (PEP 668)' : ''}`,
          fix: '`npx snakepit setup` creates ./.venv (with msgpack and your requirements), which snakepit then uses',
        },
  );
  if (info.pip === null) {
    checks.push({
      id: 'pip',
      status: 'warn',
      message: `${info.executable} has no pip (PythonPackages.ensure and setup need pip or uv)`,
      fix: `${info.executable} -m ensurepip, or install uv, or use a venv made by \`npx snakepit setup\``,
    });
  }
  return { checks, info };
}

async function probeImport(python: string, module: string, pythonPath: string[] = []): Promise<ImportProbe> {
  try {
    const { value } = await runProbe<ImportProbe>(python, ['import', module], {
      pythonPath,
      timeoutMs: 120_000,
    });
    return (
      value ?? { ok: false, ms: 0, error: { type: 'Error', message: 'no answer', missing_module: null } }
    );
  } catch (err) {
    return {
      ok: false,
      ms: 0,
      error: { type: 'PythonEnvError', message: (err as Error).message, missing_module: null },
    };
  }
}

function version(probe: ImportProbe): string {
  return probe.version ? ` ${probe.version}` : '';
}

export async function checkBridge(python: ResolvedPython): Promise<DoctorCheck> {
  const probe = await probeImport(python.executable, 'snakepit_bridge');
  if (probe.ok) {
    return { id: 'bridge', status: 'ok', message: `snakepit_bridge${version(probe)} imports`, ms: probe.ms };
  }
  return {
    id: 'bridge',
    status: 'fail',
    message: `snakepit_bridge does not import: ${probe.error?.type}: ${probe.error?.message}`,
    fix: "the bundled python/snakepit_bridge folder is damaged or shadowed: reinstall snakepit (`npm ci`), and check PYTHONPATH for another 'snakepit_bridge'",
    ms: probe.ms,
  };
}

export async function checkCodec(python: ResolvedPython): Promise<DoctorCheck> {
  const probe = await probeImport(python.executable, 'msgpack');
  if (probe.ok) {
    return {
      id: 'codec',
      status: 'ok',
      message: `msgpack${version(probe)}: the fast codec is used`,
      ms: probe.ms,
    };
  }
  return {
    id: 'codec',
    status: 'warn',
    message: 'msgpack is not installed: workers fall back to the JSON codec (slower; bytes as base64)',
    fix: installFix(python, ['msgpack']),
    ms: probe.ms,
  };
}

/** Optional packages snakepit uses when present. */
export const OPTIONAL_PACKAGES = [
  { module: 'numpy', pkg: 'numpy', use: 'arrays' },
  { module: 'pandas', pkg: 'pandas', use: 'DataFrames' },
  { module: 'grpc', pkg: 'grpcio', use: 'remote workers over gRPC' },
  { module: 'opentelemetry.trace', pkg: 'opentelemetry-api', use: 'tracing' },
] as const;

export async function checkOptional(python: ResolvedPython): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const o of OPTIONAL_PACKAGES) {
    const probe = await probeImport(python.executable, o.module);
    checks.push(
      probe.ok
        ? {
            id: `optional:${o.pkg}`,
            status: 'ok',
            message: `${o.pkg}${version(probe)} (${o.use})`,
            ms: probe.ms,
          }
        : probe.error?.missing_module && o.module.startsWith(probe.error.missing_module)
          ? {
              id: `optional:${o.pkg}`,
              status: 'warn',
              message: `${o.pkg} is not installed (optional: ${o.use})`,
              fix: installFix(python, [o.pkg]),
            }
          : {
              id: `optional:${o.pkg}`,
              status: 'warn',
              message: `${o.pkg} is installed but its import fails: ${probe.error?.type}: ${probe.error?.message}`,
              fix: `reinstall it: ${python.executable} -m pip install --force-reinstall ${o.pkg}`,
              ms: probe.ms,
            },
    );
  }
  return checks;
}

/** `python.packages` from the config: installed, at a satisfying version. */
export async function checkPackages(python: ResolvedPython, specs: string[]): Promise<DoctorCheck[]> {
  if (specs.length === 0) return [];
  let packages: PackageStatus[];
  try {
    const { value } = await runBridgeHelper<{ packages: PackageStatus[] }>(
      python.executable,
      'packages',
      specs,
    );
    packages = value?.packages ?? [];
  } catch (err) {
    return [
      {
        id: 'packages',
        status: 'fail',
        message: `cannot check python.packages: ${(err as Error).message.split('\n')[0]}`,
        fix: err instanceof PythonEnvError ? err.fix : 'run `npx snakepit doctor --json` for details',
      },
    ];
  }
  return packages.map((p) =>
    p.satisfied
      ? { id: `package:${p.name}`, status: 'ok', message: `${p.spec} (installed ${p.installed})` }
      : {
          id: `package:${p.name}`,
          status: 'fail',
          message: `${p.spec}: ${p.reason ?? 'not satisfied'}`,
          fix:
            python.source === './.venv'
              ? `npx snakepit setup   (installs python.packages into ./.venv)`
              : installFix(python, [p.spec]),
        },
  );
}

/** Modules named with `--import`: each imported in its own process, timed. */
export async function checkImports(
  python: ResolvedPython,
  modules: string[],
  pythonPath: string[],
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const module of modules) {
    const probe = await probeImport(python.executable, module, pythonPath);
    if (probe.ok) {
      checks.push({
        id: `import:${module}`,
        status: 'ok',
        message: `import ${module}${version(probe)}`,
        ms: probe.ms,
      });
      continue;
    }
    const missing = probe.error?.missing_module;
    checks.push({
      id: `import:${module}`,
      status: 'fail',
      message: `import ${module} fails: ${probe.error?.type}: ${probe.error?.message}`,
      fix: missing
        ? missingModuleFix(python, missing, module)
        : `fix the module's code (it raised at import)`,
      ms: probe.ms,
    });
  }
  return checks;
}

function missingModuleFix(python: ResolvedPython, missing: string, ownModule: string): string {
  const top = missing.split('.')[0]!;
  if (ownModule === missing || ownModule.startsWith(`${missing}.`)) {
    return (
      `Python cannot find the module ${missing}: add the directory that contains ${top}/ (or ${top}.py) to ` +
      `pythonPath in the config (or --python-path), or install the package that provides it`
    );
  }
  return (
    `"${top}" is not installed in ${python.executable}: ${installFix(python, [top])}; the package name can ` +
    `differ from the module name (sklearn is scikit-learn), and python.packages or requirements.txt keeps it ` +
    `installed by \`npx snakepit setup\``
  );
}

/** Start one worker of the pool and report how it went (timing, tools, its interpreter). */
export async function checkAdapter(
  label: string,
  config: SnakepitConfig,
  python: ResolvedPython | undefined,
): Promise<DoctorCheck> {
  const adapter = config.pools?.[0]?.adapter ?? config.adapter ?? '?';
  const id = `adapter:${label}`;
  const started = performance.now();
  let pit: Snakepit | undefined;
  try {
    pit = await Snakepit.start({ ...config, logger: silentLogger });
    const ms = Math.round(performance.now() - started);
    const tools = pit.describe();
    const w = pit.workers()[0];
    return {
      id,
      status: 'ok',
      message: `pool "${label}": ${adapter} starts with ${tools.length} tool${tools.length === 1 ? '' : 's'}`,
      details: w
        ? [
            `worker: Python ${w.python ?? '?'} at ${w.pythonExecutable} (chosen by: ${w.pythonSource}), codec ${w.codec ?? '?'}`,
          ]
        : [],
      ms,
    };
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    return { id, ms, ...describeStartFailure(label, adapter, err, python) };
  } finally {
    await pit?.close();
  }
}

function describeStartFailure(
  label: string,
  adapter: string,
  err: unknown,
  python: ResolvedPython | undefined,
): Pick<DoctorCheck, 'status' | 'message' | 'fix' | 'details'> {
  const head = `pool "${label}": ${adapter} fails to start`;
  if (!(err instanceof WorkerStartError)) {
    const e = err as SnakepitError;
    return {
      status: 'fail',
      message: `${head}: ${String(e?.message ?? err).split('\n')[0]}`,
      fix: err instanceof PythonEnvError ? err.fix : `fix the config (${e?.code ?? 'see the message'})`,
    };
  }
  const tb = (err.traceback ?? '').trim().split('\n');
  const details = (tb.length > 1 ? tb.slice(-4) : err.stderrTail.slice(-4)).map((l) => l.trimEnd());
  const lastLine = tb[tb.length - 1] || err.message;
  const moduleName = adapter.includes(':')
    ? adapter.split(':')[0]!
    : adapter.slice(0, adapter.lastIndexOf('.'));
  const missing = /No module named '([^']+)'/.exec(lastLine)?.[1];
  if (err.phase === 'import' && missing && python) {
    return {
      status: 'fail',
      message: `${head}: ${lastLine}`,
      fix: missingModuleFix(python, missing, moduleName),
      details,
    };
  }
  if (err.phase === 'import' && err.pythonType === 'AttributeError') {
    return {
      status: 'fail',
      message: `${head}: ${lastLine}`,
      fix: `module ${moduleName} has no class "${adapter.split(/[:.]/).pop()}": check the class name in adapter ("module:Class")`,
      details,
    };
  }
  if (err.phase === 'import') {
    return {
      status: 'fail',
      message: `${head}: the module raised ${err.pythonType ?? 'an error'} at import: ${lastLine}`,
      fix: `fix ${moduleName} (see the traceback); \`python -c "import ${moduleName}"\` shows the same error`,
      details,
    };
  }
  if (err.phase) {
    return {
      status: 'fail',
      message: `${head}: ${err.phase} raised ${err.pythonType ?? 'an error'}: ${lastLine}`,
      fix: `fix the adapter's ${err.phase}() (see the traceback)`,
      details,
    };
  }
  return {
    status: 'fail',
    message: `${head}: ${err.message.split('\n')[0]}`,
    fix: /did not become ready/.test(err.message)
      ? 'the adapter starts slowly: raise startupTimeoutMs, and find the slow import with `snakepit doctor --import <module>`'
      : "read the worker's stderr below; `snakepit call --verbose` shows all of it",
    details,
  };
}

/** How a free-threaded build runs (profile "thread" runs sync tools in parallel only without the GIL). */
function freeThreading(info: PythonEnvInfo): string {
  if (info.gil_disabled) return ', free-threaded build, GIL off';
  return info.free_threaded ? ', free-threaded build, GIL on (an extension module asked for it)' : '';
}
