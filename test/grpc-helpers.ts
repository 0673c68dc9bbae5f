/**
 * Helpers for tests of the gRPC transport: real `python -m snakepit_bridge serve --grpc` servers, started on a
 * free port and stopped when the test file ends.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bridgeDirectory } from '../src/python-env/bridge-path.js';
import { FIXTURES_PYTHONPATH } from './helpers.js';

/** The interpreter the tests' workers use (the project's venv when there is one). */
export const TEST_PYTHON =
  process.env['SNAKEPIT_PYTHON'] ||
  (existsSync('.venv/bin/python') ? resolve('.venv/bin/python') : 'python3');

let grpcChecked: boolean | undefined;

/** Whether grpcio and protobuf are importable by the test interpreter. */
export function grpcInstalled(): boolean {
  grpcChecked ??=
    spawnSync(TEST_PYTHON, ['-c', 'import grpc, google.protobuf'], { stdio: 'ignore' }).status === 0;
  return grpcChecked;
}

export interface WorkerServer {
  /** `host:port` to put in `endpoints`. */
  address: string;
  port: number;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr: string[];
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  adapter: string;
  /** Listen address; default 127.0.0.1:0. */
  listen?: string;
  /** Extra `serve` arguments (--token-file, --tls-cert, --insecure, --max-workers …). */
  args?: string[];
  env?: Record<string, string>;
  /** Run the server inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** How long to wait for the ready file. Default 20 s. */
  timeoutMs?: number;
}

/**
 * Start a worker server and wait until it listens.
 * @throws when it exits first (with its stderr) or does not get ready in time
 */
export async function startWorkerServer(options: ServerOptions): Promise<WorkerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-grpc-'));
  const readyFile = join(dir, 'ready');
  const listen = options.listen ?? '127.0.0.1:0';
  const serveArgs = [
    '-m',
    'snakepit_bridge',
    'serve',
    '--grpc',
    listen,
    '--adapter',
    options.adapter,
    '--ready-file',
    readyFile,
    '--max-workers',
    '16',
    ...(options.args ?? []),
  ];
  const [command, args] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, TEST_PYTHON, ...serveArgs]]
    : [TEST_PYTHON, serveArgs];
  const proc = spawn(command, args as string[], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PYTHONPATH: [bridgeDirectory(), FIXTURES_PYTHONPATH, process.env['PYTHONPATH'] ?? '']
        .filter(Boolean)
        .join(':'),
      ...options.env,
    },
  });
  const stderr: string[] = [];
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (text: string) => stderr.push(...text.split('\n').filter(Boolean)));
  let exited = false;
  const exit = new Promise<void>((r) =>
    proc.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const stop = async (): Promise<void> => {
    if (!exited) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!existsSync(readyFile)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(
        `worker server did not get ready (${exited ? `exit code ${proc.exitCode}` : 'timeout'}): ${stderr.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(readFileSync(readyFile, 'utf8').trim());
  const host = listen.slice(0, listen.lastIndexOf(':'));
  const address = `${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return { address, port, proc, stderr, stop };
}

/** Runs `serve` and returns its exit code and stderr (for arguments it must refuse). */
export function runServeExpectingExit(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stderr: string } {
  const result = spawnSync(TEST_PYTHON, ['-m', 'snakepit_bridge', 'serve', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PYTHONPATH: bridgeDirectory(), ...env },
  });
  return { code: result.status, stderr: result.stderr };
}
