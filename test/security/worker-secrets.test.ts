// Attack 6: host secrets leak into workers. A worker runs library code the host does not control; whatever is in
// its environment, that code can read and send anywhere. The host's environment reaches workers without its
// secrets (local, Snakepit-style and served workers alike); serve --grpc warns when it runs without a token; and
// the host sends its token only over TLS unless grpc.insecure says otherwise.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Snakepit, type SnakepitConfig } from '../../src/index.js';
import { loadBridgeProto } from '../../src/remote/grpc-proto.js';
import { inheritedEnv, isSecretVariable } from '../../src/worker/worker-env.js';
import { bridgeDirectory } from '../../src/python-env/bridge-path.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { grpcInstalled, startWorkerServer } from '../grpc-helpers.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';
import { refusal } from './security-helpers.js';

const IMPOSTOR = 'snakepit_fixtures.impostor:ImpostorAdapter';
const GRPC = requireOptional(grpcInstalled(), 'grpcio and protobuf (served and Snakepit-style workers)');
const TOKEN = 'a-host-token-nobody-else-knows-0123';

/** Secrets as they sit in a host's environment, and two ordinary variables. */
const HOST_ENV: Record<string, string> = {
  SNAKEPIT_GRPC_TOKEN: TOKEN,
  OPENAI_API_KEY: 'sk-attack-surface',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  AWS_SESSION_TOKEN: 'aws-session',
  PGPASSWORD: 'pg-secret',
  DATABASE_URL: 'postgres://app:hunter2@db.internal/app',
  SNAKEPIT_TEST_PLAIN: 'plain',
  SNAKEPIT_TEST_URL: 'https://example.org/path',
};
const SECRETS = Object.keys(HOST_ENV).filter((n) => !n.startsWith('SNAKEPIT_TEST_'));
const NAMES = [...Object.keys(HOST_ENV), 'HF_TOKEN'];

function withHostEnv(): void {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(HOST_ENV)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

const expectNoSecrets = (seen: Record<string, string | null>): void => {
  for (const name of SECRETS) expect(seen[name], name).toBeNull();
  expect(seen['SNAKEPIT_TEST_PLAIN']).toBe('plain');
  expect(seen['SNAKEPIT_TEST_URL']).toBe('https://example.org/path');
};

describe('attack: a worker reads the host’s secrets from its environment', () => {
  withHostEnv();
  const transports: Array<[string, Partial<SnakepitConfig>]> = [['local', {}]];
  if (GRPC) transports.push(['snakepit', { transport: 'snakepit' }]);

  it.each(transports)('%s workers get the host’s environment without its secrets', async (_name, extra) => {
    const pit = await Snakepit.start({
      adapter: IMPOSTOR,
      size: 1,
      logger: false,
      pythonPath: [FIXTURES_PYTHONPATH],
      env: { HF_TOKEN: 'given-on-purpose' }, // a secret the pool passes explicitly does arrive
      ...extra,
    } as SnakepitConfig);
    try {
      const seen = (await pit.execute('environ', { names: NAMES })) as Record<string, string | null>;
      expectNoSecrets(seen);
      expect(seen['HF_TOKEN']).toBe('given-on-purpose');
    } finally {
      await pit.close();
    }
  });
});

describe.skipIf(!GRPC)('attack: a served worker reads the server’s token', () => {
  it('workers of serve --grpc get the server’s environment without its token or other secrets', async () => {
    const server = await startWorkerServer({
      adapter: IMPOSTOR,
      env: { ...HOST_ENV, HF_TOKEN: 'passed-by-name', SNAKEPIT_PASS_ENV: 'HF_TOKEN' },
    });
    try {
      expect(server.stderr.join('\n')).not.toMatch(/WARNING/); // it has a token (from its environment)
      const pit = await Snakepit.start({
        adapter: IMPOSTOR,
        logger: false,
        transport: 'grpc',
        endpoints: [server.address],
        grpc: { token: TOKEN, insecure: true },
      });
      try {
        const seen = (await pit.execute('environ', { names: NAMES })) as Record<string, string | null>;
        expectNoSecrets(seen);
        expect(seen['HF_TOKEN']).toBe('passed-by-name');
      } finally {
        await pit.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('serve --grpc on loopback without a token warns that every local process may call it', async () => {
    const server = await startWorkerServer({ adapter: IMPOSTOR, env: { SNAKEPIT_GRPC_TOKEN: '' } });
    try {
      expect(server.stderr.join('\n')).toMatch(
        /WARNING: serving on 127\.0\.0\.1 without a token: any process on this machine \(any user\) can run/,
      );
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!GRPC)('attack: the host’s token sent in clear text', () => {
  let server: { close(): void; address: string; seen: string[] };
  beforeAll(async () => {
    // A listener on loopback that records what a host sends (what anyone on a plain-TCP path would see).
    const { grpc, BridgeService } = await loadBridgeProto();
    const seen: string[] = [];
    const s = new grpc.Server();
    s.addService(BridgeService.service, {
      WorkerChannel: (call: { metadata: { get(k: string): unknown[] }; destroy(e: Error): void }) => {
        seen.push(...call.metadata.get('authorization').map(String));
        call.destroy(new Error('recorded'));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    server = { close: () => s.forceShutdown(), address: `127.0.0.1:${port}`, seen };
  });
  afterAll(() => server?.close());

  const config = (grpc: NonNullable<SnakepitConfig['grpc']>): SnakepitConfig => ({
    adapter: IMPOSTOR,
    logger: false,
    transport: 'grpc',
    endpoints: [server.address],
    startupTimeoutMs: 3_000,
    grpc: { connectTimeoutMs: 1_500, ...grpc },
  });

  it('a token without TLS is a ConfigError before anything is sent (given, or from SNAKEPIT_GRPC_TOKEN)', async () => {
    const given = (await refusal(Snakepit.start(config({ token: TOKEN })))) as ConfigError;
    expect(given).toBeInstanceOf(ConfigError);
    expect(given.key).toBe('pool.grpc.token');
    expect(given.message).toMatch(/clear text.*grpc\.tls.*grpc\.insecure: true/s);
    process.env['SNAKEPIT_GRPC_TOKEN'] = TOKEN;
    try {
      const fromEnv = (await refusal(Snakepit.start(config({})))) as ConfigError;
      expect(fromEnv.key).toBe('SNAKEPIT_GRPC_TOKEN');
    } finally {
      delete process.env['SNAKEPIT_GRPC_TOKEN'];
    }
    expect(server.seen).toEqual([]);
  });

  it('with grpc.insecure: true the host sends it, as asked', async () => {
    await refusal(Snakepit.start(config({ token: TOKEN, insecure: true })));
    expect(server.seen).toContain(`Bearer ${TOKEN}`);
  });
});

describe('the environment rule', () => {
  it('withholds secret-looking names and URLs with passwords, and is the same in the worker servers', () => {
    const sample: Record<string, string> = {
      ...HOST_ENV,
      PATH: '/usr/bin',
      PWD: '/srv/app',
      HOME: '/root',
      LANG: 'C.UTF-8',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
      GITHUB_TOKEN: 'ghp_x',
      NPM_CONFIG__AUTH: 'x',
      'some.private.key': 'x',
      MONGO_URI: 'mongodb://user:pw@h:27017/db',
      CUDA_VISIBLE_DEVICES: '0',
      KEYBOARD_LAYOUT: 'us',
      XAUTHORITY: '/root/.Xauthority',
      TOKENIZERS_PARALLELISM: 'false',
    };
    const kept = Object.keys(inheritedEnv(sample)).sort();
    expect(kept).toEqual(
      [
        'CUDA_VISIBLE_DEVICES',
        'HOME',
        'KEYBOARD_LAYOUT',
        'LANG',
        'PATH',
        'PWD',
        'SNAKEPIT_TEST_PLAIN',
        'SNAKEPIT_TEST_URL',
        'TOKENIZERS_PARALLELISM',
        'XAUTHORITY',
      ].sort(),
    );
    expect(isSecretVariable('SNAKEPIT_GRPC_TOKEN', 'x')).toBe(true);
    const python = spawnSync(
      resolvePython(undefined).executable,
      [
        '-c',
        'import json, sys; from snakepit_bridge.remote.worker_env import inherited_env; ' +
          'print(json.dumps(sorted(inherited_env(json.loads(sys.argv[1])))))',
        JSON.stringify(sample),
      ],
      { env: { ...process.env, PYTHONPATH: bridgeDirectory() }, encoding: 'utf8' },
    );
    expect(JSON.parse(python.stdout)).toEqual(kept);
  });
});
