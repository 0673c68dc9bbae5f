/**
 * `snakepit doctor`: check everything a pool needs, in order, and say how to fix what is wrong.
 *
 *   Node → interpreter (and why it was chosen) → Python version, venv, pip → snakepit_bridge import → codec →
 *   python.packages → --import modules → each configured adapter (a real worker start) → optional packages →
 *   sockets → limits
 *
 * A check that cannot run because an earlier one failed is reported as `skip`, not silently dropped.
 */
import type { PythonConfig, SnakepitConfig } from '../config/config-types.js';
import { SHOWCASE_ADAPTER } from '../python-env/bridge-path.js';
import type { DoctorCheck, DoctorReport } from './doctor-types.js';
import { checkLimits, checkNode, checkSockets } from './host-checks.js';
import {
  checkAdapter,
  checkBridge,
  checkCodec,
  checkEnvironment,
  checkImports,
  checkInterpreter,
  checkOptional,
  checkPackages,
} from './python-checks.js';

export interface DoctorInput {
  cwd: string;
  /** The top-level `python` section (with `--python` applied). */
  python: PythonConfig;
  /** Pools to start one worker of, each as a one-pool config. None: the bundled showcase adapter. */
  pools: Array<{ name: string; config: SnakepitConfig }>;
  /** Extra directories for `imports`. */
  pythonPath: string[];
  /** Modules to import (`--import`). */
  imports: string[];
  configFile?: string | undefined;
  /** Called as each check finishes (for progressive output). */
  onCheck?: (check: DoctorCheck) => void;
}

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (...more: DoctorCheck[]): void => {
    for (const c of more) {
      checks.push(c);
      input.onCheck?.(c);
    }
  };
  add(checkNode());
  const { check, python } = checkInterpreter(input.cwd, input.python);
  add(check);
  let version: string | undefined;
  if (python) {
    const env = await checkEnvironment(python);
    add(...env.checks);
    version = env.info?.python;
    if (env.info && !env.checks.some((c) => c.status === 'fail')) {
      const bridge = await checkBridge(python);
      add(bridge);
      add(await checkCodec(python));
      add(...(await checkPackages(python, input.python.packages ?? [])));
      add(...(await checkImports(python, input.imports, input.pythonPath)));
      if (bridge.status === 'ok') {
        const pools =
          input.pools.length > 0
            ? input.pools
            : [{ name: 'showcase', config: { adapter: SHOWCASE_ADAPTER, size: 1, python: input.python } }];
        for (const pool of pools) add(await checkAdapter(pool.name, pool.config, python));
      } else {
        add({
          id: 'adapters',
          status: 'skip',
          message: 'adapters not started: snakepit_bridge does not import',
        });
      }
      add(...(await checkOptional(python)));
    } else {
      add({
        id: 'imports',
        status: 'skip',
        message: 'imports and adapters not checked: the interpreter does not run',
      });
    }
  } else {
    add({ id: 'imports', status: 'skip', message: 'Python checks skipped: no interpreter' });
  }
  add(await checkSockets());
  add(checkLimits());
  return {
    ok: !checks.some((c) => c.status === 'fail'),
    checks,
    ...(python
      ? { python: { executable: python.executable, source: python.source, ...(version ? { version } : {}) } }
      : {}),
    ...(input.configFile ? { configFile: input.configFile } : {}),
  };
}
