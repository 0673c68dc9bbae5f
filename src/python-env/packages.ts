/**
 * `PythonPackages`: are these requirements installed in the workers' Python, and install what is missing.
 *
 *   const check = await PythonPackages.checkInstalled(['numpy>=1.26', 'pandas']);
 *   if (!check.allInstalled) console.log(check.missing);        // ['pandas']
 *   await PythonPackages.ensure(['numpy>=1.26', 'pandas']);      // installs pandas only
 *
 * Specs are checked against a strict grammar (see package-spec.ts) before any process starts, and reach pip or
 * uv as single arguments of an argument vector, never through a shell. Installed versions are read with
 * `importlib.metadata` in the target interpreter and compared with PEP 440 basics (python/snakepit_bridge/
 * packages.py says exactly what is supported), so `packaging` need not be installed.
 */
import { ConfigError, PythonEnvError } from '../errors/errors.js';
import { runBridgeHelper } from './bridge-helpers.js';
import { installPackages, type Installer } from './install.js';
import { resolvePython } from './interpreter.js';
import { checkRequirementSpec } from './package-spec.js';

export interface PythonPackagesOptions {
  /** The interpreter whose environment is checked. Default: resolved as for pools (SNAKEPIT_PYTHON, ./.venv, ...). */
  python?: string;
  /** Directory for interpreter resolution and the installer. Default: the process's. */
  cwd?: string;
  /** `auto` (uv when on PATH, else pip), `pip` or `uv`. Default `auto`. */
  installer?: Installer;
  /** Installer time limit. Default 300,000 ms. */
  timeoutMs?: number;
  /** Extra environment variables for the installer (e.g. `PIP_INDEX_URL`). */
  env?: Record<string, string>;
  /** Each line the installer prints (progress). */
  onOutput?: (line: string) => void;
}

/** One requirement's state. */
export interface PackageStatus {
  /** The spec as given, e.g. `numpy>=1.26`. */
  spec: string;
  /** Its distribution name, e.g. `numpy`. */
  name: string;
  /** The installed version, or null when not installed. */
  installed: string | null;
  satisfied: boolean;
  /** Why not, e.g. `not installed` or `installed 1.25.0 does not satisfy >=1.26`. */
  reason?: string;
}

export interface CheckInstalledResult {
  /** True when every spec is satisfied. */
  allInstalled: boolean;
  /** The specs that are not satisfied (not installed, or the wrong version). */
  missing: string[];
  packages: PackageStatus[];
  /** The interpreter checked. */
  python: string;
  /** Its version. */
  pythonVersion: string;
}

export interface EnsureResult {
  /** Specs that were missing and are now installed. */
  installed: string[];
  /** Specs that were already satisfied. */
  alreadyInstalled: string[];
  /** Which installer ran (`none` when nothing was missing). */
  installer: 'pip' | 'uv' | 'none';
  python: string;
}

interface HelperReport {
  python: string;
  executable: string;
  packages: PackageStatus[];
}

function validate(specs: unknown): string[] {
  if (!Array.isArray(specs)) {
    throw new ConfigError('specs', `must be an array of requirement strings, got ${typeof specs}`);
  }
  specs.forEach((spec, i) => checkRequirementSpec(spec, `specs[${i}]`));
  return specs as string[];
}

function interpreter(options: PythonPackagesOptions): string {
  return resolvePython(options.python, options.cwd ? { cwd: options.cwd } : {}).executable;
}

async function check(
  specs: string[],
  python: string,
  options: PythonPackagesOptions,
): Promise<CheckInstalledResult> {
  const { value } = await runBridgeHelper<HelperReport>(python, 'packages', specs, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (!value || !Array.isArray(value.packages) || value.packages.length !== specs.length) {
    throw new PythonEnvError(
      `${python} -m snakepit_bridge.packages answered something unexpected`,
      'the bundled python/snakepit_bridge may be from another snakepit version; reinstall snakepit',
    );
  }
  const missing = value.packages.filter((p) => !p.satisfied).map((p) => p.spec);
  return {
    allInstalled: missing.length === 0,
    missing,
    packages: value.packages,
    python,
    pythonVersion: value.python,
  };
}

/** Check and install requirements in the workers' Python environment. */
export const PythonPackages = {
  /**
   * Whether every requirement is installed with a satisfying version.
   * @param specs requirement specifiers such as `numpy>=1.26`, `pandas[excel]==2.2.*`
   * @throws ConfigError for a spec outside the accepted grammar (before anything runs)
   * @throws PythonEnvError when the interpreter cannot be found or run
   */
  async checkInstalled(specs: string[], options: PythonPackagesOptions = {}): Promise<CheckInstalledResult> {
    const valid = validate(specs);
    const python = interpreter(options);
    if (valid.length === 0) {
      return { allInstalled: true, missing: [], packages: [], python, pythonVersion: '' };
    }
    return check(valid, python, options);
  },

  /**
   * Install the requirements that are missing (or at a wrong version), then check again.
   * @throws ConfigError for a spec outside the accepted grammar (before anything runs)
   * @throws PythonEnvError when the install fails (no index reachable, no such version, no pip, a system
   *   Python that refuses installs), with the fix; or when a package is still missing afterwards
   */
  async ensure(specs: string[], options: PythonPackagesOptions = {}): Promise<EnsureResult> {
    const valid = validate(specs);
    const python = interpreter(options);
    if (valid.length === 0) return { installed: [], alreadyInstalled: [], installer: 'none', python };
    const before = await check(valid, python, options);
    const alreadyInstalled = valid.filter((s) => !before.missing.includes(s));
    if (before.allInstalled) return { installed: [], alreadyInstalled, installer: 'none', python };
    const installer = await installPackages({
      python,
      specs: before.missing,
      ...(options.installer ? { installer: options.installer } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onOutput ? { onLine: options.onOutput } : {}),
    });
    const after = await check(before.missing, python, options);
    if (!after.allInstalled) {
      const why = after.packages
        .filter((p) => !p.satisfied)
        .map((p) => `${p.spec}: ${p.reason ?? 'not satisfied'}`)
        .join('; ');
      throw new PythonEnvError(
        `${installer} finished, but requirements are still not met in ${python}: ${why}`,
        'another constraint may pin a different version (pip constraints, PIP_CONSTRAINT); read the installer ' +
          'output (onOutput) and relax the version clause or the constraint',
      );
    }
    return { installed: before.missing, alreadyInstalled, installer, python };
  },
} as const;
