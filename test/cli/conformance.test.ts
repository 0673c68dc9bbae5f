// `snakepit conformance`: the built CLI against the Python bridge, the Node runtime and the minimal example
// worker (each passes), and against broken workers (each fails, naming the checks that failed).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../../src/cli/conformance-command.js';
import { CLI, FIXTURES, REPO, REPO_PYTHON, runCli } from './cli-helpers.js';

const MINIMAL = join(REPO, 'test', 'fixtures', 'workers', 'minimal-worker.mjs');
const NODE_TOOLS = join(REPO, 'test', 'fixtures', 'node', 'conformance-tools.mjs');
const HOSTILE = join(REPO, 'test', 'fixtures', 'workers', 'hostile-worker.mjs');

function failedChecks(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('FAIL  '))
    .map((l) => l.slice(6).split(' — ')[0]!);
}

describe('snakepit conformance', () => {
  it('passes against the Python bridge', async () => {
    const r = await runCli(
      [
        'conformance',
        '--command',
        `${REPO_PYTHON} -m snakepit_bridge --adapter snakepit_fixtures.conformance:ConformanceAdapter`,
      ],
      { env: { PYTHONPATH: FIXTURES }, timeoutMs: 90_000 },
    );
    expect(r.stdout).toContain('the worker conforms');
    expect(failedChecks(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('passes against the Node runtime (--node)', async () => {
    const r = await runCli(['conformance', '--node', NODE_TOOLS], { timeoutMs: 90_000 });
    expect(failedChecks(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/all checks passed: the worker conforms/);
    expect(r.code).toBe(0);
  }, 120_000);

  it('passes against the minimal example worker; the optional tagged-values check is skipped, saying why', async () => {
    const r = await runCli(['conformance', '--command', `"${process.execPath}" ${MINIMAL}`], {
      timeoutMs: 90_000,
    });
    expect(failedChecks(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/skip {2}call: tagged values .* reads plain JSON only/);
    expect(r.code).toBe(0);
  }, 120_000);

  it('fails against a broken worker, naming each broken check, with exit code 1', async () => {
    const r = await runCli(
      [
        'conformance',
        '--command',
        `${process.execPath} ${MINIMAL}`,
        '--env',
        'MINIMAL_WORKER_FAULTS=mangle-echo,ignore-cancel,error-as-result,no-pong',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; status: string; detail: string }>;
    };
    expect(report.ok).toBe(false);
    const failed = Object.fromEntries(
      report.checks.filter((c) => c.status === 'fail').map((c) => [c.name, c.detail]),
    );
    expect(failed['call: values round trip (JSON forms)']).toMatch(
      /echo\(null\) returned \{"mangled":null\}/,
    );
    expect(failed['errors: a tool that throws']).toMatch(/returned a result instead of an error/);
    expect(failed['cancel: a timed-out call is answered, the worker kept']).toMatch(
      /answer the cancel|no answer to the cancel/,
    );
    expect(failed['heartbeat: answers pings while idle']).toMatch(/not answering pings/);
  }, 150_000);

  it('fails at the handshake against a worker that does not speak the protocol, and says so', async () => {
    const r = await runCli(
      ['conformance', '--command', `${process.execPath} ${HOSTILE}`, '--env', 'HOSTILE_START=protocol_2'],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}handshake: hello, welcome, ready — hello\.protocol is 2, not 1/);
    expect(r.stdout).toMatch(/skip {2}pool — the handshake failed/);
  }, 90_000);

  it('refuses a missing command', async () => {
    const r = await runCli(['conformance']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--command');
  });
});

describe('splitCommandLine', () => {
  it('splits on spaces, groups quotes, runs no shell', () => {
    expect(splitCommandLine(`node "my worker.mjs" --x 'a b' ''`)).toEqual([
      'node',
      'my worker.mjs',
      '--x',
      'a b',
      '',
    ]);
    expect(splitCommandLine('  ruby   w.rb  ')).toEqual(['ruby', 'w.rb']);
    expect(splitCommandLine('echo $(rm -rf /) ; x')).toEqual(['echo', '$(rm', '-rf', '/)', ';', 'x']);
    expect(() => splitCommandLine('node "unclosed')).toThrow(/unbalanced/);
  });
});

export { CLI };
