/**
 * Install on start (opt-in, per library: `install: { package, version? }`): before a pool's workers spawn, check
 * which of its libraries' packages are missing from the pool's interpreter and install them, with
 * `PythonPackages` (src/python-env/packages.ts): requirement specs checked against a strict grammar, installed by pip
 * (or uv when present) as an argument vector, never a shell string, with the installer's output as progress lines.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { PythonEnvError } from '../errors/errors.js';
import { PythonPackages } from '../python-env/packages.js';
import type { Logger } from '../util/logger.js';

/** pip may build wheels; a stuck index still ends within this. */
export const INSTALL_TIMEOUT_MS = 600_000;

/** The command a user can run instead: `<python> -m pip install 'numpy>=1.26'`. */
export function pipCommand(python: string, specs: string[]): string {
  const quoted = specs.map((s) => (/^[A-Za-z0-9._\-[\],]+$/.test(s) ? s : `'${s}'`));
  return `${python} -m pip install ${quoted.join(' ')}`;
}

/** The requirement spec pip is given for a library's `install`. */
function specOf(install: { package: string; version: string | undefined }): string {
  return `${install.package}${install.version ?? ''}`;
}

/**
 * Install what is missing among the pools' `install`-enabled libraries, once per interpreter and spec.
 * @throws PythonEnvError naming the pool, the libraries, the fix and the command to run by hand
 */
export async function installMissingLibraries(pools: ResolvedPoolConfig[], logger: Logger): Promise<void> {
  const done = new Set<string>(); // interpreter \0 spec already handled
  for (const [index, pool] of pools.entries()) {
    const python = pool.python.executable;
    const wanted = new Map<string, string>(); // spec -> where it is configured
    pool.libraries.forEach((lib, i) => {
      if (!lib.install) return;
      const spec = specOf(lib.install);
      if (done.has(`${python}\0${spec}`) || wanted.has(spec)) return;
      done.add(`${python}\0${spec}`);
      wanted.set(spec, `pools[${index}].libraries[${i}] (${lib.module})`);
    });
    if (wanted.size === 0) continue;
    const options = { python, ...(pool.cwd ? { cwd: pool.cwd } : {}) };
    const check = await PythonPackages.checkInstalled([...wanted.keys()], options);
    if (check.allInstalled) continue;
    const fields = { pool: pool.name };
    for (const p of check.packages.filter((p) => !p.satisfied)) {
      logger.info(
        fields,
        `library ${wanted.get(p.spec)}: ${p.spec} ${p.reason ?? 'is missing'}; installing it`,
      );
    }
    logger.info(fields, `running ${pipCommand(python, check.missing)}`);
    try {
      const result = await PythonPackages.ensure(check.missing, {
        ...options,
        timeoutMs: INSTALL_TIMEOUT_MS,
        onOutput: (line) => logger.info({ ...fields, installer: true }, line),
      });
      logger.info(fields, `installed ${result.installed.join(', ')} with ${result.installer}`);
    } catch (err) {
      if (!(err instanceof PythonEnvError)) throw err;
      const where = check.missing.map((s) => wanted.get(s)).join(', ');
      throw new PythonEnvError(
        `could not install ${check.missing.join(', ')} for pool "${pool.name}", ${where}: ` +
          err.message.split('\n  fix: ')[0],
        `${err.fix}; or install it yourself: ${pipCommand(python, check.missing)}`,
        { cause: err },
      );
    }
  }
}
