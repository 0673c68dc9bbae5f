/**
 * Install requirements into an interpreter's environment, with uv when it is there (faster) or pip, and turn a
 * failure into a `PythonEnvError` whose fix fits the cause: no index reachable, no such version, an externally
 * managed system Python, an interpreter without pip.
 */
import { PythonEnvError } from '../errors/errors.js';
import { runProcess } from './run-process.js';
import { findUv, uvPipInstallArgs } from './uv.js';

/** `auto`: uv when it is on PATH (and `SNAKEPIT_UV` is not `0`), else pip. */
export type Installer = 'auto' | 'pip' | 'uv';

export interface InstallOptions {
  /** The interpreter whose environment receives the packages. */
  python: string;
  /** Requirement specifiers, each one argument. */
  specs: string[];
  /** Requirement files (`-r file`). */
  requirementFiles?: string[];
  installer?: Installer;
  cwd?: string;
  /** Extra environment variables for the installer. */
  env?: Record<string, string>;
  /** Default 300 s. */
  timeoutMs?: number;
  /** Each line the installer prints. */
  onLine?: (line: string) => void;
}

export const DEFAULT_INSTALL_TIMEOUT_MS = 300_000;

/** The environment an installer runs in: the seed's quiet defaults, and pip giving up fast without a network. */
export function installerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    ...extra,
  };
  // Without these, pip on a machine with no route to its index retries for minutes before failing.
  env['PIP_RETRIES'] ??= '1';
  if (env['PIP_TIMEOUT'] === undefined && env['PIP_DEFAULT_TIMEOUT'] === undefined) env['PIP_TIMEOUT'] = '15';
  return env;
}

/** Which installer `installer` means on this machine: `["uv", path]` or `["pip"]`. */
export function chooseInstaller(installer: Installer = 'auto'): { kind: 'uv'; uv: string } | { kind: 'pip' } {
  if (installer === 'pip') return { kind: 'pip' };
  const uv = findUv();
  if (uv) return { kind: 'uv', uv };
  if (installer === 'uv') {
    throw new PythonEnvError(
      'installer "uv" was asked for, but uv is not on PATH',
      'install uv (https://docs.astral.sh/uv/), or use installer "pip" / "auto"',
    );
  }
  return { kind: 'pip' };
}

/**
 * Install `specs` and `requirementFiles` into the environment of `python`.
 * @returns which installer ran
 * @throws PythonEnvError with a fix that fits the failure
 */
export async function installPackages(options: InstallOptions): Promise<'pip' | 'uv'> {
  const files = options.requirementFiles ?? [];
  const chosen = chooseInstaller(options.installer);
  const [command, args] =
    chosen.kind === 'uv'
      ? [chosen.uv, uvPipInstallArgs(options.python, options.specs, files)]
      : [options.python, ['-m', 'pip', 'install', ...options.specs, ...files.flatMap((f) => ['-r', f])]];
  const timeoutMs = options.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
  const r = await runProcess(command, args, {
    env: installerEnv(options.env),
    timeoutMs,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  if (r.code === 0) return chosen.kind;
  const what = [...options.specs, ...files.map((f) => `-r ${f}`)].join(' ');
  if (r.spawnError) {
    throw new PythonEnvError(
      `cannot run ${command}: ${r.spawnError.message}`,
      'check the interpreter path (python.executable, SNAKEPIT_PYTHON)',
    );
  }
  if (r.timedOut) {
    throw new PythonEnvError(
      `${chosen.kind} did not finish installing ${what} within ${timeoutMs} ms`,
      'check the network or the package index; for large packages raise the limit (`snakepit setup --timeout SECONDS`, or the timeoutMs option)',
    );
  }
  const tail = r.output.slice(-8);
  throw new PythonEnvError(
    `${chosen.kind} could not install ${what}:\n  ${tail.join('\n  ')}`,
    explainInstallFailure(r.output.join('\n'), options.python, chosen.kind),
  );
}

/** The fix for an installer's failure, judged from its output. */
export function explainInstallFailure(output: string, python: string, installer: 'pip' | 'uv'): string {
  if (/No module named pip\b/.test(output)) {
    return (
      `${python} has no pip: create a virtual environment with \`npx snakepit setup\`, ` +
      `or run \`${python} -m ensurepip\`, or install uv`
    );
  }
  if (/externally.managed/i.test(output)) {
    return (
      'this is a system Python that refuses pip installs (PEP 668): create a project environment with ' +
      '`npx snakepit setup` (./.venv), which snakepit then uses automatically'
    );
  }
  // Requirements that contradict each other (`six>=1.16` beside `six==1.0`): the index answered, the list is wrong.
  if (/ResolutionImpossible|conflicting dependencies|requirements are unsatisfiable/.test(output)) {
    const cause = /Cannot install (.+?) because these package versions have conflicting dependencies/.exec(
      output,
    );
    return (
      `the requirements conflict${cause ? ` (${cause[1]})` : ''}: ${installer} names the clashing clauses above; ` +
      'loosen or remove one (python.packages, requirements.txt, pyproject.toml or the command line)'
    );
  }
  // pip lists what the index has when it found the package: then it was reachable, and the version is wrong. This
  // comes first because pip also warns about an unreachable extra index on the way (a mirror beside PyPI).
  const versions =
    /Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)/.exec(output);
  if (versions && versions[2]!.trim() !== 'none') {
    return (
      `no version of ${versions[1]} matches; the index has ${versions[2]!.trim()}: change the version clause ` +
      '(python.packages, requirements.txt or the command line)'
    );
  }
  const unreachable =
    /(Failed to establish|Network is unreachable|Temporary failure in name resolution|Connection refused|NewConnectionError|Max retries exceeded|Could not fetch URL|timed out|Failed to fetch|error sending request|dns error)/i.test(
      output,
    );
  const where = /Looking in (?:indexes|links): (.*)/.exec(output)?.[1];
  if (versions) {
    // "from versions: none": no index had it, either because none was reachable or because the name is wrong.
    return unreachable
      ? `pip cannot reach a package index${where ? ` (${where})` : ''}, and found no version of ${versions[1]}: ` +
          'check the network, or point pip at a mirror (PIP_INDEX_URL / PIP_FIND_LINKS or pip.conf)'
      : `no package named ${versions[1]} on the index pip uses: check its name (pip's names are those on PyPI)`;
  }
  if (/No solution found|not found in the package registry/i.test(output) && !unreachable) {
    return (
      'no such package or version on the index uv uses: check the name and version clause (`uv pip install` ' +
      'prints what the index has above)'
    );
  }
  if (unreachable) {
    return installer === 'uv'
      ? 'uv cannot reach a package index: check the network, or point uv at a mirror (UV_INDEX_URL, ' +
          'UV_FIND_LINKS), or set SNAKEPIT_UV=0 to use pip and its configuration'
      : 'pip cannot reach a package index: check the network, or point pip at a mirror (PIP_INDEX_URL / ' +
          'PIP_FIND_LINKS or pip.conf)';
  }
  if (/(No matching distribution|No solution found)/i.test(output)) {
    return 'no such package or version on the index: check the name and version clause';
  }
  if (/Permission denied|EACCES/i.test(output)) {
    return 'no permission to write to that environment: use a project venv (`npx snakepit setup`)';
  }
  return `read ${installer}'s message above; fix the requirement, then run again`;
}
