// `snakepit doctor` as a subprocess: passes on this machine, and fails with the right fix for a missing
// interpreter, a broken adapter import, and a missing library.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorCheck, DoctorReport } from '../../src/doctor/doctor-types.js';
import { FIXTURES, REPO, REPO_PYTHON, runCli } from './cli-helpers.js';

let dir: string;

function check(report: DoctorReport, id: string): DoctorCheck {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

/** A project folder with this config file (the repo's venv as interpreter, so nothing is installed). */
function project(name: string, config: object): string {
  const p = join(dir, name);
  mkdirSync(p);
  writeFileSync(
    join(p, 'snakepit.config.json'),
    JSON.stringify({ python: { executable: REPO_PYTHON }, ...config }),
  );
  return p;
}

async function doctorJson(cwd: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const r = await runCli(['doctor', '--json', ...args], { cwd, env });
  return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as DoctorReport };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snakepit-doctor-'));
  mkdirSync(join(dir, 'mods'));
  writeFileSync(
    join(dir, 'mods', 'raises_at_import.py'),
    'raise RuntimeError("config file not found: /etc/model.yaml")\n',
  );
  writeFileSync(
    join(dir, 'mods', 'needs_lib.py'),
    'import snakepit_absent_library_xyz\nfrom snakepit_bridge import BaseAdapter\nclass A(BaseAdapter):\n    pass\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snakepit doctor', () => {
  it('passes on this machine, showing the interpreter and why it was chosen', async () => {
    const r = await runCli(['doctor'], { cwd: REPO });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ Node\.js v\d+/m);
    expect(r.stdout).toContain(`✓ interpreter ${REPO_PYTHON} (chosen by: ./.venv)`);
    expect(r.stdout).toMatch(/^✓ Python 3\.\d+\.\d+ \(cpython/m);
    expect(r.stdout).toMatch(/^✓ snakepit_bridge [\d.]+ imports \([\d.]+ ms\)/m);
    expect(r.stdout).toMatch(/^✓ msgpack [\d.]+: the fast codec is used/m);
    expect(r.stdout).toMatch(/^✓ pool "showcase": .*ShowcaseAdapter starts with \d+ tools \(\d+ ms\)/m);
    expect(r.stdout).toMatch(
      /worker: Python 3\.\d+\.\d+ at .*\.venv\/bin\/python \(chosen by: \.\/\.venv\), codec msgpack/,
    );
    expect(r.stdout).toMatch(/^✓ numpy [\d.]+ \(arrays\)/m);
    expect(r.stdout).toMatch(/^[✓!] pandas/m);
    expect(r.stdout).toMatch(/^✓ loopback TCP .* and Unix sockets work/m);
    // How limits.memoryMb is enforced here, and why a cgroup is or is not part of it.
    expect(r.stdout).toMatch(/^[✓!] .*limits\.memoryMb.*(a cgroup per worker under|no cgroup: .+)$/m);
    expect(r.stdout).toMatch(/^0 problems, \d+ warnings?$/m);

    const { report } = await doctorJson(REPO);
    expect(report.ok).toBe(true);
    expect(report.python).toMatchObject({ executable: REPO_PYTHON, source: './.venv' });
    expect(report.python?.version).toMatch(/^3\./);
    expect(check(report, 'bridge').ms).toBeGreaterThan(0);
    for (const c of report.checks.filter((x) => x.status === 'warn')) expect(c.fix).toBeTruthy();
  });

  it('fails with the fix when SNAKEPIT_PYTHON points nowhere', async () => {
    const { code, report } = await doctorJson(dir, [], { SNAKEPIT_PYTHON: '/nonexistent/python3' });
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(check(report, 'python')).toMatchObject({
      status: 'fail',
      message: 'SNAKEPIT_PYTHON="/nonexistent/python3" is not an executable file',
      fix: 'point SNAKEPIT_PYTHON at a Python interpreter, or unset it',
    });
    expect(check(report, 'imports').status).toBe('skip');
  });

  it('fails with the fix when there is no Python at all', async () => {
    const bin = join(dir, 'node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await runCli(['doctor'], { cwd: dir, replaceEnv: true, env: { PATH: bin, HOME: dir } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ no Python interpreter found/m);
    expect(r.stdout).toMatch(/fix: install Python 3\.9 or newer, or point snakepit at one/);
    expect(r.stdout).toMatch(/^1 problem, 0 warnings$/m);
  });

  it('fails with the fix when the adapter raises at import', async () => {
    const cwd = project('raises', { adapter: 'raises_at_import:Adapter', pythonPath: [join(dir, 'mods')] });
    const { code, report } = await doctorJson(cwd);
    expect(code).toBe(1);
    const c = check(report, 'adapter:default');
    expect(c.status).toBe('fail');
    expect(c.message).toBe(
      'pool "default": raises_at_import:Adapter fails to start: the module raised RuntimeError at import: ' +
        'RuntimeError: config file not found: /etc/model.yaml',
    );
    expect(c.fix).toContain('fix raises_at_import (see the traceback)');
    expect(c.details?.join('\n')).toMatch(/raises_at_import\.py", line 1/);
    expect(check(report, 'bridge').status).toBe('ok');
  });

  it('fails with the fix when the adapter module cannot be found', async () => {
    const cwd = project('unfound', { adapter: 'my_models.adapter:ModelAdapter' });
    const { report } = await doctorJson(cwd);
    const c = check(report, 'adapter:default');
    expect(c.message).toMatch(/ModuleNotFoundError: No module named 'my_models'/);
    expect(c.fix).toMatch(/add the directory that contains my_models\/ .* to pythonPath/);
  });

  it('fails with the install command when the adapter needs a missing library', async () => {
    const cwd = project('needs', {
      pools: [
        { name: 'good', adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter' },
        { name: 'needy', adapter: 'needs_lib:A', pythonPath: [join(dir, 'mods')] },
      ],
    });
    const { code, report } = await doctorJson(cwd);
    expect(code).toBe(1);
    expect(check(report, 'adapter:good').status).toBe('ok');
    const c = check(report, 'adapter:needy');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/No module named 'snakepit_absent_library_xyz'/);
    expect(c.fix).toContain(`"snakepit_absent_library_xyz" is not installed in ${REPO_PYTHON}`);
    expect(c.fix).toContain(`${REPO_PYTHON} -m pip install snakepit_absent_library_xyz`);
  });

  it('fails when a library of python.packages is missing or too old, and checks --import modules', async () => {
    const cwd = project('packages', {
      adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
      python: {
        executable: REPO_PYTHON,
        packages: ['msgpack>=1.0', 'msgpack<1', 'snakepit-absent-package-xyz'],
      },
    });
    const { code, report } = await doctorJson(cwd, [
      '--import',
      'json',
      '--import',
      'needs_lib',
      '--python-path',
      join(dir, 'mods'),
    ]);
    expect(code).toBe(1);
    const pkgs = report.checks.filter((c) => c.id.startsWith('package:'));
    expect(pkgs.map((c) => c.status)).toEqual(['ok', 'fail', 'fail']);
    expect(pkgs[1]!.message).toMatch(/^msgpack<1: installed [\d.]+ does not satisfy <1$/);
    expect(pkgs[2]!.message).toBe('snakepit-absent-package-xyz: not installed');
    expect(pkgs[2]!.fix).toBe(`${REPO_PYTHON} -m pip install snakepit-absent-package-xyz`);
    expect(check(report, 'import:json')).toMatchObject({ status: 'ok' });
    expect(check(report, 'import:needs_lib')).toMatchObject({ status: 'fail' });
    expect(check(report, 'import:needs_lib').fix).toContain('pip install snakepit_absent_library_xyz');
  });

  it('reports a bad config file as an error with its key', async () => {
    const cwd = join(dir, 'badconfig');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'snakepit.config.json'), '{"adapter": ');
    const r = await runCli(['doctor'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: config .*snakepit\.config\.json: is not valid JSON/);
  });

  it('uses --adapter and --python-path without a config file', async () => {
    const { code, report } = await doctorJson(dirname(FIXTURES), [
      '--adapter',
      'snakepit_fixtures.broken_import:BrokenAdapter',
      '--python-path',
      FIXTURES,
      '--python',
      REPO_PYTHON,
    ]);
    expect(code).toBe(1);
    expect(check(report, 'adapter:default').fix).toMatch(/pip install snakepit_fixtures_missing_dependency/);
  });
});
