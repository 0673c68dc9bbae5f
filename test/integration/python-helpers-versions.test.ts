// The helper processes behind PythonPackages, inspect and doctor on the oldest and newest Python we support
// (standard library only there: no msgpack, no packaging).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PythonPackages } from '../../src/index.js';
import { runBridgeHelper, runProbe } from '../../src/python-env/bridge-helpers.js';

const PYENV = '/root/.pyenv/versions';
const interpreters = [
  ['3.9', `${PYENV}/3.9.18/bin/python3.9`],
  ['3.13', `${PYENV}/3.13.0/bin/python3.13`],
].map(([minor, exe]) => [minor!, existsSync(exe!) ? exe : undefined] as const);
for (const [minor, exe] of interpreters) {
  if (!exe) console.warn(`skipping the Python ${minor} helper tests: no interpreter at ${PYENV}`);
}

describe.each(interpreters)('helpers on Python %s', (minor, python) => {
  it.runIf(python)('check packages, describe a module, probe the environment', async () => {
    const check = await PythonPackages.checkInstalled(['pip>=20', 'pip<1', 'snakepit-absent-xyz'], {
      python: python!,
    });
    expect(check.pythonVersion.startsWith(`${minor}.`)).toBe(true);
    expect(check.packages.map((p) => p.satisfied)).toEqual([true, false, false]);

    const { value } = await runBridgeHelper<{ callables: Array<{ name: string; signature: string }> }>(
      python!,
      'introspect',
      ['json'],
    );
    expect(value!.callables.find((c) => c.name === 'dumps')!.signature).toMatch(/^\(obj, \*, skipkeys=False/);

    const env = await runProbe<{ python: string; msgpack: string | null }>(python!, ['env']);
    expect(env.value!.python.startsWith(`${minor}.`)).toBe(true);
    const imp = await runProbe<{ ok: boolean }>(python!, ['import', 'snakepit_bridge']);
    expect(imp.value!.ok).toBe(true);
  });
});
