// `snakepit serve --grpc` in the Node CLI: it runs the bridge's gRPC server with the interpreter and PYTHONPATH a
// pool would use (here: an adapter of the user's own, from --python-path), a host attaches to it and calls; the
// server stops with the command (SIGTERM passed on, and after a SIGKILL of the command too); an interpreter
// without grpcio is refused with the fix.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit } from '../../src/index.js';
import { grpcInstalled } from '../grpc-helpers.js';
import { alive, eventually, processesMatching, requireOptional } from '../helpers.js';
import { CLI, neutralEnv, REPO_PYTHON, runCli } from './cli-helpers.js';

const run = requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snakepit-serve-'));
  writeFileSync(
    join(dir, 'served_tools.py'),
    `from snakepit_bridge import BaseAdapter, tool


class Tools(BaseAdapter):
    @tool
    def shout(self, text: str) -> str:
        return text.upper() + "!"
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startServe(readyFile: string): { child: ChildProcess; stderr: string[] } {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--grpc',
      '127.0.0.1:0',
      '--adapter',
      'served_tools:Tools',
      '--python-path',
      '.',
      '--python',
      REPO_PYTHON,
      '--ready-file',
      readyFile,
    ],
    { cwd: dir, env: { ...neutralEnv(), NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return { child, stderr };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.on('exit', (c) => r(c)));

describe.runIf(run)('snakepit serve --grpc', () => {
  it('serves the adapter to a host, and stops with the command (SIGTERM passed on)', async () => {
    const ready = join(dir, 'ready-1');
    const { child, stderr } = startServe(ready);
    try {
      await eventually(() => existsSync(ready) || child.exitCode !== null, 20_000, 'the server to listen');
      expect(child.exitCode, stderr.join('')).toBeNull();
      const port = Number(readFileSync(ready, 'utf8').trim());
      const pit = await Snakepit.start({
        adapter: 'served_tools:Tools',
        transport: 'grpc',
        endpoints: [`127.0.0.1:${port}`],
        grpc: { insecure: true },
        logger: false,
      });
      try {
        expect(await pit.execute('shout', { text: 'hi' })).toBe('HI!');
      } finally {
        await pit.close();
      }
      expect(stderr.join('')).toMatch(/serving served_tools:Tools on 127\.0\.0\.1:\d+/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    expect(stderr.join('')).toMatch(/stopping/);
  }, 60_000);

  it('the server leaves when the command is killed with SIGKILL: no orphan', async () => {
    const ready = join(dir, 'ready-2');
    const { child } = startServe(ready);
    await eventually(() => existsSync(ready) || child.exitCode !== null, 20_000, 'the server to listen');
    const servers = processesMatching('snakepit_bridge', 'serve', ready);
    expect(servers.length).toBe(1);
    child.kill('SIGKILL');
    await exited(child);
    await eventually(() => !alive(servers[0]!), 10_000, 'the server to stop after its command died');
  }, 40_000);
});

describe('snakepit serve without gRPC', () => {
  it('refuses an interpreter without grpcio, with the fix', async () => {
    // The first python3 on PATH that lacks grpcio (the test venv has it).
    const python = ['python3', '/usr/bin/python3'].find(
      (p) => spawnSync(p, ['-c', 'import grpc'], { stdio: 'ignore' }).status === 1,
    );
    if (!python) {
      console.warn('skipping: every python3 here has grpcio, so the refusal cannot be shown');
      return;
    }
    const r = await runCli(
      ['serve', '--grpc', '127.0.0.1:0', '--adapter', 'served_tools:Tools', '--python', python],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot import grpcio and protobuf, which the gRPC server needs/);
    expect(r.stderr).toMatch(/fix: install them in that interpreter: npx snakepit setup grpcio protobuf/);
  });

  it('says what to serve when there is no adapter', async () => {
    const r = await runCli(['serve', '--grpc', '127.0.0.1:0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing to serve: give --adapter module:Class/);
  });
});
