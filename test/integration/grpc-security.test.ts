// Remote workers are secure by default: a token checked in constant time, TLS with server verification and
// optional client certificates, and a server that will not listen off loopback without both (unless --insecure).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, type SnakepitConfig, WorkerStartError } from '../../src/index.js';
import {
  grpcInstalled,
  runServeExpectingExit,
  startWorkerServer,
  type WorkerServer,
} from '../grpc-helpers.js';
import { requireOptional, SHOWCASE } from '../helpers.js';
import { findPython } from '../pythons.js';
import { makeTestCerts, type TestCerts } from '../tls-certs.js';
import { bridgeDirectory } from '../../src/python-env/bridge-path.js';

const TOKEN = 'correct-horse-battery-staple-0123';
const run = requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)');

function remote(endpoint: string, grpc: NonNullable<SnakepitConfig['grpc']>): SnakepitConfig {
  return {
    adapter: SHOWCASE,
    logger: false,
    transport: 'grpc',
    endpoints: [endpoint],
    grpc: { connectTimeoutMs: 3_000, ...grpc },
  };
}

async function startFails(config: SnakepitConfig): Promise<WorkerStartError> {
  const err = await Snakepit.start(config).then(
    async (pit) => {
      await pit.close();
      throw new Error('expected the start to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkerStartError);
  return err as WorkerStartError;
}

describe.skipIf(!run)('gRPC security', () => {
  let certs: TestCerts;
  let tokenFile: string;
  const servers: WorkerServer[] = [];
  beforeAll(() => {
    certs = makeTestCerts(['snakepit-worker.test']);
    tokenFile = join(certs.dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    certs?.remove();
  });
  const serve = async (args: string[], listen?: string): Promise<WorkerServer> => {
    const server = await startWorkerServer({ adapter: SHOWCASE, args, ...(listen ? { listen } : {}) });
    servers.push(server);
    return server;
  };

  describe('token', () => {
    let server: WorkerServer;
    beforeAll(async () => {
      server = await serve(['--token-file', tokenFile]);
    });

    it('serves a host that presents the token', async () => {
      // Loopback without TLS: the token goes in clear text, which the host does only when told (insecure).
      const pit = await Snakepit.start(remote(server.address, { token: TOKEN, insecure: true }));
      expect(await pit.execute('add', { a: 2, b: 3 })).toBe(5);
      await pit.close();
    });

    it('refuses a wrong token, and a missing one, before any worker starts', async () => {
      const wrong = await startFails(remote(server.address, { token: `${TOKEN}-but-wrong`, insecure: true }));
      expect(wrong.message).toMatch(/refused the worker \(UNAUTHENTICATED: missing or wrong token/);
      const missing = await startFails(remote(server.address, {}));
      expect(missing.message).toMatch(/UNAUTHENTICATED/);
      // Nothing was started for either: only the good host above ever got a worker.
      expect(server.stderr.filter((l) => /worker .* started/.test(l))).toHaveLength(1);
    });
  });

  describe('exposure rules of the server', () => {
    it('refuses a non-loopback address without TLS and a token, naming what is missing', () => {
      const bare = runServeExpectingExit(['--grpc', '0.0.0.0:0', '--adapter', SHOWCASE]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/refusing to serve on 0\.0\.0\.0.*without TLS.*and a token/s);
      expect(bare.stderr).toMatch(/--insecure/);
      const tokenOnly = runServeExpectingExit([
        '--grpc',
        '0.0.0.0:0',
        '--adapter',
        SHOWCASE,
        '--token-file',
        tokenFile,
      ]);
      expect(tokenOnly.code).toBe(2);
      expect(tokenOnly.stderr).toMatch(/without TLS/);
      expect(tokenOnly.stderr).not.toMatch(/and a token/);
      const tlsOnly = runServeExpectingExit([
        '--grpc',
        '[::]:0',
        '--adapter',
        SHOWCASE,
        '--tls-cert',
        certs.serverCert,
        '--tls-key',
        certs.serverKey,
      ]);
      expect(tlsOnly.code).toBe(2);
      expect(tlsOnly.stderr).toMatch(/without a token/);
    });

    it('refuses bad arguments with exit code 2', () => {
      expect(runServeExpectingExit(['--grpc', 'nowhere', '--adapter', SHOWCASE]).stderr).toMatch(/HOST:PORT/);
      expect(runServeExpectingExit(['--grpc', '127.0.0.1:0', '--adapter', 'nope']).stderr).toMatch(
        /module:Class/,
      );
      const short = runServeExpectingExit(['--grpc', '127.0.0.1:0', '--adapter', SHOWCASE], {
        SNAKEPIT_GRPC_TOKEN: 'short',
      });
      expect(short.code).toBe(2);
      expect(short.stderr).toMatch(/at least 16 characters/);
      expect(
        runServeExpectingExit([
          '--grpc',
          '127.0.0.1:0',
          '--adapter',
          SHOWCASE,
          '--tls-cert',
          certs.serverCert,
        ]).stderr,
      ).toMatch(/--tls-cert and --tls-key go together/);
    });

    it('names the fix when grpcio is missing (a Python without it, when this machine has one)', () => {
      const bare = findPython('3.9') ?? findPython('3.13');
      if (!bare) return void console.warn('skipping: no Python 3.9 or 3.13 without grpcio found');
      const result = spawnSync(
        bare,
        ['-m', 'snakepit_bridge', 'serve', '--grpc', '127.0.0.1:0', '--adapter', SHOWCASE],
        {
          encoding: 'utf8',
          env: { ...process.env, PYTHONPATH: bridgeDirectory() },
        },
      );
      if (!/No module named 'grpc'/.test(result.stderr)) return; // that Python has grpcio after all
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/pip install grpcio protobuf/);
    });

    it('serves off loopback with --insecure, saying so', async () => {
      const server = await serve(['--insecure'], '0.0.0.0:0');
      expect(server.stderr.join('\n')).toMatch(/INSECURE/);
      const pit = await Snakepit.start(remote(server.address, {}));
      expect(await pit.execute('add', { a: 1, b: 1 })).toBe(2);
      await pit.close();
    });
  });

  describe('TLS', () => {
    let server: WorkerServer;
    beforeAll(async () => {
      // Off loopback, with TLS and a token: allowed without --insecure. The host reaches it at 127.0.0.1.
      server = await serve(
        ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey, '--token-file', tokenFile],
        '0.0.0.0:0',
      );
    });

    it('verifies the server against the given CA and serves', async () => {
      const pit = await Snakepit.start(
        remote(`127.0.0.1:${server.port}`, { token: TOKEN, tls: { ca: certs.ca } }),
      );
      expect(await pit.execute('add', { a: 20, b: 22 })).toBe(42);
      const named = await Snakepit.start(
        remote(`127.0.0.1:${server.port}`, {
          token: TOKEN,
          tls: { ca: certs.ca, serverName: 'snakepit-worker.test' },
        }),
      );
      expect(await named.execute('add', { a: 1, b: 2 })).toBe(3);
      await Promise.all([pit.close(), named.close()]);
    });

    it('refuses a server whose certificate another CA signed, or whose name does not match', async () => {
      const wrongCa = await startFails(
        remote(`127.0.0.1:${server.port}`, {
          token: TOKEN,
          tls: { ca: certs.otherCa },
          connectTimeoutMs: 1_500,
        }),
      );
      expect(wrongCa.message).toMatch(/cannot connect to 127\.0\.0\.1:\d+ within 1500 ms.*unable to verify/);
      const wrongName = await startFails(
        remote(`127.0.0.1:${server.port}`, {
          token: TOKEN,
          tls: { ca: certs.ca, serverName: 'somebody-else.test' },
          connectTimeoutMs: 1_500,
        }),
      );
      expect(wrongName.message).toMatch(/cannot connect/);
    });

    it('refuses a plaintext host', async () => {
      const err = await startFails(
        remote(`127.0.0.1:${server.port}`, { token: TOKEN, insecure: true, connectTimeoutMs: 1_500 }),
      );
      expect(err.message).toMatch(/cannot connect|refused/);
    });
  });

  describe('client certificates', () => {
    let server: WorkerServer;
    beforeAll(async () => {
      server = await serve([
        '--tls-cert',
        certs.serverCert,
        '--tls-key',
        certs.serverKey,
        '--tls-client-ca',
        certs.ca,
        '--token-file',
        tokenFile,
      ]);
    });

    it('serves a host with a certificate the client CA signed, and refuses one without', async () => {
      const pit = await Snakepit.start(
        remote(server.address, {
          token: TOKEN,
          tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        }),
      );
      expect(await pit.execute('add', { a: 3, b: 4 })).toBe(7);
      await pit.close();
      const without = await startFails(
        remote(server.address, { token: TOKEN, tls: { ca: certs.ca }, connectTimeoutMs: 1_500 }),
      );
      expect(without.message).toMatch(/cannot connect|refused/);
    });
  });
});
