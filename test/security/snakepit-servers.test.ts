// Attack 4: the local servers of transport "snakepit". Each Snakepit-style worker has two gRPC servers: the host's
// BridgeService (ExecuteElixirTool runs any host tool) and the worker's (ExecuteTool runs any Python tool). Both
// listen on Unix sockets (0600) in a private directory (0700) of the host's, so another local user's process
// cannot connect to either; the test runs a real client as the user "nobody" against both.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit } from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { bridgeProtoPath } from '../../src/remote/grpc-proto.js';
import { liveSnakepitLinks, type SnakepitLink } from '../../src/interop/snakepit-link.js';
import { grpcInstalled } from '../grpc-helpers.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';
import { marker } from './security-helpers.js';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hosts', 'foreign-client.mjs');
const NOBODY = 65534;
const AS_ROOT = process.getuid?.() === 0;
const run = requireOptional(grpcInstalled(), 'grpcio and protobuf (Snakepit-style workers)');
if (run && !AS_ROOT)
  console.warn('skipping the foreign-user attack: it needs root to run a client as nobody');

interface Attempt {
  ok: boolean;
  code?: string;
  details?: string;
}
type Outcome = { host: Attempt; worker: Attempt; via: string };

/** A raw connection attempt to both servers, inline (no file of the repository needed): Node, then Python. */
const CONNECT_JS = `
const net = require('net');
const [host, worker] = JSON.parse(process.argv[1]);
const attempt = (a) => new Promise((resolve) => {
  const s = a.startsWith('unix:') ? net.connect(a.slice(5)) : net.connect(Number(a.split(':')[1]), a.split(':')[0]);
  s.on('connect', () => { s.destroy(); resolve({ ok: true }); });
  s.on('error', (e) => resolve({ ok: false, code: e.code }));
});
Promise.all([attempt(host), attempt(worker)]).then(([h, w]) => console.log(JSON.stringify({ host: h, worker: w })));
`;
const CONNECT_PY = `
import json, socket, sys
def attempt(a):
    if a.startswith("unix:"):
        s, where = socket.socket(socket.AF_UNIX), a[5:]
    else:
        s, where = socket.socket(), (a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1]))
    try:
        s.connect(where)
        return {"ok": True}
    except OSError as e:
        return {"ok": False, "code": type(e).__name__}
    finally:
        s.close()
h, w = json.loads(sys.argv[1])
print(json.dumps({"host": attempt(h), "worker": attempt(w)}))
`;

/**
 * Attack one link's two servers as the user `uid`: with a real gRPC client (ExecuteElixirTool, ExecuteTool) when
 * that user can read this repository, else with a raw connection (the step every client starts with), from Node or
 * Python, whichever that user can run. Undefined when it can run neither.
 */
function foreignClient(link: SnakepitLink, markerPath: string, uid: number): Outcome | undefined {
  const as = { uid, gid: uid, encoding: 'utf8' as const, timeout: 20_000, cwd: '/' };
  const addresses = JSON.stringify([link.hostAddress, link.workerAddress]);
  const tries: Array<[string, string, string[]]> = [
    [
      'gRPC',
      process.execPath,
      [
        CLIENT,
        JSON.stringify({
          proto: bridgeProtoPath(),
          host: link.hostAddress,
          worker: link.workerAddress,
          marker: markerPath,
        }),
      ],
    ],
    ['connect (node)', process.execPath, ['-e', CONNECT_JS, addresses]],
    ['connect (node)', '/usr/bin/node', ['-e', CONNECT_JS, addresses]],
    ['connect (python)', '/usr/bin/python3', ['-c', CONNECT_PY, addresses]],
  ];
  for (const [via, command, args] of tries) {
    const out = spawnSync(command, args, as);
    if (out.status === 0 && out.stdout.trim()) {
      return { ...(JSON.parse(out.stdout) as Omit<Outcome, 'via'>), via };
    }
  }
  return undefined;
}

describe.skipIf(!run)('attack: a foreign local client of the Snakepit-style servers', () => {
  let pit: Snakepit;
  let link: SnakepitLink;
  const pwned = marker('interop');
  const planted: string[] = [];
  beforeAll(async () => {
    pit = await Snakepit.start({
      adapter: 'snakepit_fixtures.impostor:ImpostorAdapter',
      size: 1,
      logger: false,
      transport: 'snakepit',
      pythonPath: [FIXTURES_PYTHONPATH],
    });
    pit.tools.register('plant', ({ path }) => {
      planted.push(String(path));
      return 'planted';
    });
    link = [...liveSnakepitLinks].find((l) => pit.workers().some((w) => w.id === l.workerId))!;
  });
  afterAll(async () => {
    await pit?.close();
    pwned.remove();
  });

  it('both servers listen on Unix sockets only the host’s user can open', () => {
    for (const address of [link.hostAddress, link.workerAddress]) {
      expect(address).toMatch(/^unix:\//);
      const path = address!.slice('unix:'.length);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    }
  });

  it.runIf(AS_ROOT)('a client running as another user is refused by both, and nothing runs', (ctx) => {
    const out = foreignClient(link, pwned.path, NOBODY);
    if (!out) {
      console.warn('skipping: the user nobody can run neither node nor python3 here');
      ctx.skip();
      return;
    }
    expect(out.host, out.via).toMatchObject({ ok: false });
    expect(out.worker, out.via).toMatchObject({ ok: false });
    expect(['UNAVAILABLE', 'EACCES', 'PermissionError']).toContain(out.host.code);
    expect(['UNAVAILABLE', 'EACCES', 'PermissionError']).toContain(out.worker.code);
    expect(planted).toEqual([]);
    expect(existsSync(`${pwned.path}.worker`)).toBe(false);
  });

  it('the pool itself still works through them: calls, and host tools from Python', async () => {
    expect(await pit.execute('call', { tool_name: 'plant', args: { path: 'ok' } })).toMatchObject({
      called: { value: 'planted' },
    });
    expect(planted).toEqual(['ok']);
  });
});

describe.skipIf(!run)('a Snakepit-style worker of your own command that binds TCP', () => {
  it('is still reached (on 127.0.0.1, as Snakepit’s own worker binds), the host’s side on its socket', async () => {
    // Snakepit's own Python worker knows nothing of SNAKEPIT_WORKER_SOCKET: this one is made to ignore it.
    const pit = await Snakepit.start({
      adapter: 'snakepit_fixtures.impostor:ImpostorAdapter',
      size: 1,
      logger: false,
      transport: 'snakepit',
      pythonPath: [FIXTURES_PYTHONPATH],
      snakepit: {
        command: [
          'env',
          '-u',
          'SNAKEPIT_WORKER_SOCKET',
          resolvePython(undefined).executable,
          '-m',
          'snakepit_bridge',
          'snakepit',
        ],
      },
    });
    try {
      const link = [...liveSnakepitLinks].find((l) => pit.workers().some((w) => w.id === l.workerId))!;
      expect(link.workerAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(link.hostAddress).toMatch(/^unix:\//);
      expect(await pit.execute('call', { tool_name: 'nothing' })).toMatchObject({
        called: { error: { name: 'UnknownHostToolError' } },
      });
    } finally {
      await pit.close();
    }
  });
});
