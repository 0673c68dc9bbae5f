// `snakepit setup` and PythonPackages against one real venv made in a temp project (creating a venv and
// installing is slow, so the tests in this file share it and run in order).
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, PythonEnvError, PythonPackages } from '../../src/index.js';
import { findUv } from '../../src/python-env/uv.js';
import { runCli, type CliResult } from './cli-helpers.js';

const SHOWCASE = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
let project: string;
let venvPython: string;
let first: CliResult;
/** pip with no index it can reach: no config files, an empty find-links folder, a closed loopback port. */
let offline: Record<string, string | undefined>;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'snakepit-setup-'));
  writeFileSync(join(project, 'requirements.txt'), 'iniconfig\n');
  writeFileSync(
    join(project, 'pyproject.toml'),
    '[project]\nname = "demo"\ndependencies = [\n  "six>=1.16",\n]\n',
  );
  writeFileSync(
    join(project, 'snakepit.config.json'),
    JSON.stringify({ adapter: SHOWCASE, size: 2, python: { packages: ['pluggy>=1.0'] } }),
  );
  venvPython = join(project, '.venv', 'bin', 'python');
  mkdirSync(join(project, 'no-links'));
  offline = {
    PIP_CONFIG_FILE: '/dev/null',
    PIP_FIND_LINKS: join(project, 'no-links'),
    PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
    PIP_EXTRA_INDEX_URL: undefined,
    PIP_RETRIES: '1',
  };
  // SNAKEPIT_UV=0: pip uses this machine's configured mirror; uv has its own test below.
  first = await runCli(['setup'], { cwd: project, env: { SNAKEPIT_UV: '0' }, timeoutMs: 300_000 });
}, 320_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('snakepit setup', () => {
  it('creates a venv with msgpack, requirements.txt, pyproject.toml and python.packages, showing progress', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/› creating .*\.venv with Python 3\.\d+\.\d+/);
    expect(first.stdout).toContain('› pyproject.toml: 1 dependency');
    expect(first.stdout).toMatch(/› .*snakepit\.config\.json: python\.packages pluggy>=1\.0/);
    expect(first.stdout).toMatch(/› installing msgpack, six>=1\.16, pluggy>=1\.0, -r .*requirements\.txt/);
    expect(first.stdout).toMatch(/Successfully installed/);
    expect(first.stdout).toMatch(/workers will use .*\.venv\/bin\/python/);
    execFileSync(venvPython, ['-c', 'import msgpack, iniconfig, six, pluggy']);
  });

  it('gives a venv workers run in: ./.venv is picked, with msgpack', async () => {
    const r = await runCli(['call', 'info', '--compact'], { cwd: project });
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout) as { codec: string; python: string };
    expect(info.codec).toBe('msgpack');
    const doctor = await runCli(['doctor', '--json'], { cwd: project });
    const report = JSON.parse(doctor.stdout) as {
      ok: boolean;
      python: { executable: string; source: string };
    };
    expect(report.python).toMatchObject({ executable: venvPython, source: './.venv' });
    expect(report.ok).toBe(true);
    expect(doctor.code).toBe(0);
  });

  it('is a no-op the second time', async () => {
    const stamp = join(project, '.venv', '.snakepit-setup.json');
    const before = statSync(stamp).mtimeMs;
    const again = await runCli(['setup'], { cwd: project, env: { SNAKEPIT_UV: '0' } });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/› .*\.venv is up to date \(Python 3\.\d+\.\d+\)/);
    expect(again.stdout).not.toContain('installing');
    expect(statSync(stamp).mtimeMs).toBe(before);
  });

  it('installs again when a requirements file changes', async () => {
    const stamp = join(project, '.venv', '.snakepit-setup.json');
    const before = readFileSync(stamp, 'utf8');
    appendFileSync(join(project, 'requirements.txt'), '# a comment changes the stamp\n');
    const r = await runCli(['setup', '--quiet'], { cwd: project, env: { SNAKEPIT_UV: '0' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(stamp, 'utf8')).not.toBe(before);
    const r2 = await runCli(['setup'], { cwd: project, env: { SNAKEPIT_UV: '0' } });
    expect(r2.stdout).toContain('is up to date');
  });

  it('fails with the fix when pip cannot reach an index', async () => {
    const r = await runCli(['setup', 'colorama'], { cwd: project, env: { ...offline, SNAKEPIT_UV: '0' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: pip could not install msgpack .*colorama/);
    expect(r.stderr).toMatch(
      /fix: pip cannot reach a package index \(http:\/\/127\.0\.0\.1:9\/simple\), and found no version of colorama: .*PIP_INDEX_URL/,
    );
  });

  it('stops an installer that outlives --timeout, and says how to raise it', async () => {
    // An index that accepts connections and never answers: pip waits on it until setup's limit stops it.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const r = await runCli(['setup', 'colorama', '--timeout', '2'], {
        cwd: project,
        env: {
          ...offline,
          PIP_INDEX_URL: `http://127.0.0.1:${port}/simple`,
          PIP_TIMEOUT: '120',
          SNAKEPIT_UV: '0',
        },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/did not finish installing .*colorama.* within 2000 ms/);
      expect(r.stderr).toMatch(/snakepit setup --timeout SECONDS/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
    const bad = await runCli(['setup', '--timeout', 'soon'], { cwd: project });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--timeout "soon" is not a number of seconds/);
  });

  it('tells a version that does not exist, and requirements that conflict, apart from an unreachable index', async () => {
    const r = await runCli(['setup', 'pytest==0.0.1'], { cwd: project, env: { SNAKEPIT_UV: '0' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fix: no version of pytest==0\.0\.1 matches; the index has \d/);
    expect(r.stderr).not.toMatch(/cannot reach/);
    // pyproject.toml asks for six>=1.16.
    const c = await runCli(['setup', 'six==1.0'], { cwd: project, env: { SNAKEPIT_UV: '0' } });
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/fix: the requirements conflict \(six==1\.0 and six>=1\.16\): pip names/);
    expect(c.stderr).not.toMatch(/cannot reach/);
  });

  it('names the fix when the base interpreter is missing', async () => {
    const r = await runCli(['setup', '--venv', 'other-venv', '--python', '/nonexistent/python3'], {
      cwd: project,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"\/nonexistent\/python3" is not an executable Python interpreter/);
    expect(r.stderr).toMatch(/fix: install Python 3\.9 or newer/);
  });

  const uv = findUv();
  if (!uv)
    console.warn(
      'skipping the uv setup test: uv is not on PATH (snakepit falls back to python -m venv + pip)',
    );
  it.runIf(uv)(
    'uses uv when it is on PATH',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'snakepit-setup-uv-'));
      try {
        const r = await runCli(['setup'], { cwd: dir, timeoutMs: 300_000 });
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/creating .* with uv/);
        expect(r.stdout).toMatch(/installing msgpack with uv/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});

describe('PythonPackages against the venv', () => {
  it('checkInstalled reports each spec, with version clauses honoured', async () => {
    const r = await PythonPackages.checkInstalled(
      ['six>=1.16', 'iniconfig', 'msgpack<1', 'Definitely_Not_Installed-pkg'],
      { python: venvPython },
    );
    expect(r.allInstalled).toBe(false);
    expect(r.missing).toEqual(['msgpack<1', 'Definitely_Not_Installed-pkg']);
    expect(r.python).toBe(venvPython);
    expect(r.pythonVersion).toMatch(/^3\.\d+\.\d+$/);
    expect(r.packages[0]).toMatchObject({ name: 'six', satisfied: true });
    expect(r.packages[2]!.reason).toMatch(/^installed 1\.\d+\.\d+ does not satisfy <1$/);
    expect(r.packages[3]).toMatchObject({ installed: null, satisfied: false, reason: 'not installed' });
    expect(
      (await PythonPackages.checkInstalled(['six', 'pluggy>=1'], { python: venvPython })).allInstalled,
    ).toBe(true);
  });

  it('ensure installs only what is missing, then nothing', async () => {
    const lines: string[] = [];
    const r = await PythonPackages.ensure(['packaging', 'six>=1.16'], {
      python: venvPython,
      installer: 'pip',
      onOutput: (l) => lines.push(l),
    });
    expect(r).toEqual({
      installed: ['packaging'],
      alreadyInstalled: ['six>=1.16'],
      installer: 'pip',
      python: venvPython,
    });
    expect(lines.join('\n')).toMatch(/Successfully installed packaging/);
    const again = await PythonPackages.ensure(['packaging'], { python: venvPython });
    expect(again.installer).toBe('none');
    expect(again.alreadyInstalled).toEqual(['packaging']);
  });

  it('ensure fails with the fix when the index cannot be reached', async () => {
    const env = Object.fromEntries(Object.entries(offline).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    let caught: unknown;
    try {
      await PythonPackages.ensure(['colorama'], {
        python: venvPython,
        installer: 'pip',
        env: { ...env, PIP_EXTRA_INDEX_URL: '' },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PythonEnvError);
    expect((caught as PythonEnvError).fix).toMatch(/cannot reach a package index/);
  });

  it('refuses specs outside the grammar before running anything', async () => {
    await expect(
      PythonPackages.ensure(['six', 'numpy; rm -rf ~'], { python: venvPython }),
    ).rejects.toMatchObject({
      key: 'specs[1]',
    });
    await expect(
      PythonPackages.checkInstalled(['--index-url=http://x'], { python: venvPython }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('ensure names the fix when the interpreter has no pip', async () => {
    const bare = join(project, 'bare-venv');
    execFileSync(venvPython, ['-m', 'venv', '--without-pip', bare]);
    const err = await PythonPackages.ensure(['six'], {
      python: join(bare, 'bin', 'python'),
      installer: 'pip',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonEnvError);
    expect((err as PythonEnvError).fix).toMatch(
      /has no pip: create a virtual environment with `npx snakepit setup`/,
    );
  });

  it('says which interpreter is missing', async () => {
    await expect(
      PythonPackages.checkInstalled(['six'], { python: '/nonexistent/python' }),
    ).rejects.toBeInstanceOf(PythonEnvError);
  });
});
