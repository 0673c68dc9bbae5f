/**
 * Install on start (opt-in, per library: `install: { package, version? }`): before a pool's workers spawn, find
 * which of its libraries are missing from the pool's interpreter and install them with pip, as an argument
 * vector (never a shell string), with pip's output as progress lines.
 *
 * One function, `installMissingLibraries`, is the whole surface, so the check and the installer can be swapped for
 * `PythonPackages.checkInstalled` / `ensure` (issue 8) without touching callers.
 */
import { spawn } from 'node:child_process';
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { PythonEnvError } from '../errors/errors.js';
import { bridgeDirectory } from '../python/bridge-path.js';
import type { Logger } from '../util/logger.js';

const PROBE_TIMEOUT_MS = 60_000;
/** pip may build wheels; a stuck index still ends within this. */
export const INSTALL_TIMEOUT_MS = 600_000;

interface Request {
  module: string;
  package: string;
  version: string | undefined;
  /** What pip is given: `numpy>=1.26`. */
  spec: string;
  /** Where it was configured, for messages: `pools[0].libraries[1]`. */
  where: string;
}

interface ProbeAnswer {
  module: string;
  package: string;
  installed: string | null;
  satisfied: boolean;
  reason: string;
}

interface RunResult {
  code: number | null;
  output: string[];
  error?: Error;
  timedOut: boolean;
}

function run(
  command: string,
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd: string | undefined;
    timeoutMs: number;
    onLine?: (line: string) => void;
  },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        output.push(line);
        if (output.length > 400) output.shift();
        options.onLine?.(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output, error, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

function probeEnv(pool: ResolvedPoolConfig): NodeJS.ProcessEnv {
  const pythonPath = [bridgeDirectory(), ...pool.pythonPath, process.env['PYTHONPATH'] ?? ''].filter(Boolean);
  return { ...process.env, ...pool.env, PYTHONPATH: pythonPath.join(':') };
}

async function probe(pool: ResolvedPoolConfig, requests: Request[]): Promise<ProbeAnswer[]> {
  const python = pool.python.executable;
  const payload = JSON.stringify(
    requests.map((r) => ({ module: r.module, package: r.package, version: r.version })),
  );
  const r = await run(python, ['-m', 'snakepit_bridge.generic.packages', payload], {
    env: probeEnv(pool),
    cwd: pool.cwd,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  const last = r.output.at(-1) ?? '';
  let answers: unknown;
  try {
    answers = r.code === 0 ? JSON.parse(last) : undefined;
  } catch {
    answers = undefined;
  }
  if (!Array.isArray(answers) || answers.length !== requests.length) {
    throw new PythonEnvError(
      `cannot check the libraries of pool "${pool.name}" with ${python}: ` +
        (r.error?.message ??
          (r.timedOut ? 'timed out' : r.output.slice(-5).join(' | ') || `exit code ${r.code}`)),
      'check that the interpreter runs (python.executable, SNAKEPIT_PYTHON), or remove install from the libraries',
    );
  }
  return answers as ProbeAnswer[];
}

/** The fix for a failed pip run, judged from its output. */
export function explainPipFailure(output: string, python: string): string {
  if (/No module named pip\b/.test(output)) {
    return `${python} has no pip: create a virtual environment with \`npx snakepit setup\`, or run \`${python} -m ensurepip\``;
  }
  if (/externally.managed/i.test(output)) {
    return 'this is a system Python that refuses pip installs (PEP 668): create a project environment with `npx snakepit setup`';
  }
  if (
    /(Failed to establish|Network is unreachable|Temporary failure in name resolution|Connection refused|NewConnectionError|Max retries exceeded|timed out)/i.test(
      output,
    )
  ) {
    return 'pip cannot reach a package index: check the network, or point pip at a mirror (PIP_INDEX_URL / PIP_FIND_LINKS)';
  }
  if (/(Could not find a version|No matching distribution)/i.test(output)) {
    return 'no such package or version on the index: check install.package and install.version';
  }
  return "read pip's output above; fix the library's install.package / install.version, or install it yourself";
}

function pipCommand(python: string, specs: string[]): string {
  return `${python} -m pip install ${specs.map((s) => (/^[A-Za-z0-9._\-[\],]+$/.test(s) ? s : `'${s}'`)).join(' ')}`;
}

/**
 * Install what is missing among the pools' `install`-enabled libraries, once per interpreter.
 * @throws PythonEnvError naming the package, the command and the fix when pip fails or a package is still missing
 */
export async function installMissingLibraries(pools: ResolvedPoolConfig[], logger: Logger): Promise<void> {
  const done = new Set<string>(); // interpreter \0 spec already handled
  for (const [index, pool] of pools.entries()) {
    const requests: Request[] = [];
    pool.libraries.forEach((lib, i) => {
      if (!lib.install) return;
      const spec = `${lib.install.package}${lib.install.version ?? ''}`;
      if (done.has(`${pool.python.executable}\0${spec}`)) return;
      done.add(`${pool.python.executable}\0${spec}`);
      requests.push({
        module: lib.module,
        package: lib.install.package.replace(/\[.*$/, ''),
        version: lib.install.version,
        spec,
        where: `pools[${index}].libraries[${i}]`,
      });
    });
    if (requests.length === 0) continue;
    const answers = await probe(pool, requests);
    const missing = requests.filter((_, i) => !answers[i]!.satisfied);
    if (missing.length === 0) continue;
    const python = pool.python.executable;
    const specs = missing.map((r) => r.spec);
    const fields = { pool: pool.name };
    missing.forEach((r, i) =>
      logger.info(
        fields,
        `library ${r.where} (${r.module}): ${answers[requests.indexOf(r)]!.reason}; installing ${specs[i]}`,
      ),
    );
    logger.info(fields, `running ${pipCommand(python, specs)}`);
    const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...specs];
    const env = {
      ...process.env,
      PIP_RETRIES: process.env['PIP_RETRIES'] ?? '1',
      PIP_TIMEOUT: process.env['PIP_TIMEOUT'] ?? '15',
    };
    const r = await run(python, args, {
      env,
      cwd: pool.cwd,
      timeoutMs: INSTALL_TIMEOUT_MS,
      onLine: (line) => logger.info({ ...fields, pip: true }, line),
    });
    if (r.code !== 0) {
      const output = r.output.join('\n');
      throw new PythonEnvError(
        `could not install ${specs.join(', ')} for pool "${pool.name}" (${missing.map((m) => m.where).join(', ')}): ` +
          (r.error
            ? r.error.message
            : r.timedOut
              ? `pip did not finish within ${INSTALL_TIMEOUT_MS} ms`
              : `pip exited with code ${r.code}:\n  ${r.output.slice(-8).join('\n  ')}`),
        `${explainPipFailure(output, python)}; or install by hand: ${pipCommand(python, specs)}`,
      );
    }
    const after = await probe(pool, missing);
    const still = missing.flatMap((r, i) =>
      after[i]!.satisfied ? [] : [`${r.module} (${after[i]!.reason})`],
    );
    if (still.length > 0) {
      throw new PythonEnvError(
        `pip finished, but ${still.join(', ')} is still missing for pool "${pool.name}"`,
        "the package may not provide that module: check the library's module and install.package",
      );
    }
    logger.info(fields, `installed ${specs.join(', ')}`);
  }
}
