// Attack 3: a worker names the session of its host calls. A tool running in session "other" (or in none) sets
// ctx.session_id = "acme" and lists and calls acme's session-scoped host tools. The host must take the session
// from the call it started itself: the claim is refused (UnknownHostToolError / SessionMismatchError in Python),
// acme's handler never runs, and honest calls (and nested calls inside a host tool) keep working. Locally, over
// a gRPC remote worker, and through a Snakepit-style worker's ExecuteElixirTool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snakepit, type SnakepitConfig } from '../../src/index.js';
import { grpcInstalled, startWorkerServer, type WorkerServer } from '../grpc-helpers.js';
import { FIXTURES_PYTHONPATH, requireOptional } from '../helpers.js';

const IMPOSTOR = 'snakepit_fixtures.impostor:ImpostorAdapter';
const GRPC = requireOptional(grpcInstalled(), 'grpcio and protobuf (remote and Snakepit-style workers)');

interface Attempt {
  value?: unknown;
  error?: { name: string; code: string | null; message: string };
}

function transports(): Array<[string, () => Promise<{ config: SnakepitConfig; stop(): Promise<void> }>]> {
  const local = async () => ({
    config: {
      adapter: IMPOSTOR,
      size: 1,
      logger: false,
      pythonPath: [FIXTURES_PYTHONPATH],
    } as SnakepitConfig,
    stop: async () => {},
  });
  if (!GRPC) return [['local', local]];
  return [
    ['local', local],
    [
      'grpc',
      async () => {
        const server: WorkerServer = await startWorkerServer({ adapter: IMPOSTOR });
        return {
          config: {
            adapter: IMPOSTOR,
            logger: false,
            transport: 'grpc',
            endpoints: [server.address],
          } as SnakepitConfig,
          stop: () => server.stop(),
        };
      },
    ],
    [
      'snakepit',
      async () => ({
        config: {
          adapter: IMPOSTOR,
          size: 1,
          logger: false,
          transport: 'snakepit',
          pythonPath: [FIXTURES_PYTHONPATH],
        } as SnakepitConfig,
        stop: async () => {},
      }),
    ],
  ];
}

describe.each(transports())('attack: a worker claims another session for host tools (%s)', (_name, setup) => {
  let pit: Snakepit;
  let stop: () => Promise<void>;
  const ran: string[] = [];
  beforeAll(async () => {
    const made = await setup();
    stop = made.stop;
    pit = await Snakepit.start(made.config);
    pit.tools.register(
      'acmeSecrets',
      () => {
        ran.push('acmeSecrets');
        return 'the keys of acme';
      },
      { sessionId: 'acme' },
    );
    pit.tools.register('hello', (_args, ctx) => `hello ${ctx.sessionId ?? 'nobody'}`);
  });
  afterAll(async () => {
    await pit?.close();
    await stop?.();
  });

  it('a tool in session "other" that claims "acme" neither sees nor runs acme’s tools', async () => {
    const out = (await pit.executeInSession('other', 'claim', {
      session: 'acme',
      tool_name: 'acmeSecrets',
    })) as { listed: Attempt; called: Attempt };
    expect(out.listed.error?.name).toBe('SessionMismatchError');
    expect(out.called.error?.name).toBe('SessionMismatchError');
    expect(out.called.error?.message).toMatch(/runs in session "other"/);
    expect(ran).toEqual([]);
  });

  it('a tool with no session that claims "acme" is refused the same way', async () => {
    const out = (await pit.execute('claim', { session: 'acme', tool_name: 'acmeSecrets' })) as {
      listed: Attempt;
      called: Attempt;
    };
    expect(out.called.error?.name).toBe('SessionMismatchError');
    expect(out.called.error?.message).toMatch(/has no session/);
    expect(ran).toEqual([]);
  });

  it('honest calls get their own session’s tools, and only those', async () => {
    const acme = (await pit.executeInSession('acme', 'call', { tool_name: 'acmeSecrets' })) as {
      called: Attempt;
    };
    expect(acme.called.value).toBe('the keys of acme');
    expect(ran).toEqual(['acmeSecrets']);
    const other = (await pit.executeInSession('other', 'call', { tool_name: 'acmeSecrets' })) as {
      called: Attempt;
    };
    expect(other.called.error?.name).toBe('UnknownHostToolError');
    expect(other.called.error?.message.split('available:')[1]).not.toMatch(/acmeSecrets/);
    expect(ran).toEqual(['acmeSecrets']);
    expect(await pit.executeInSession('other', 'call', { tool_name: 'hello' })).toMatchObject({
      called: { value: 'hello other' },
    });
    ran.length = 0;
  });
});

describe('host calls outside any call, and nested calls', () => {
  let pit: Snakepit;
  const ran: string[] = [];
  beforeAll(async () => {
    pit = await Snakepit.start({
      adapter: IMPOSTOR,
      size: 1,
      logger: false,
      pythonPath: [FIXTURES_PYTHONPATH],
    });
    pit.tools.register(
      'acmeSecrets',
      () => {
        ran.push('acmeSecrets');
        return 'the keys of acme';
      },
      { sessionId: 'acme' },
    );
  });
  afterAll(() => pit?.close());

  it('a thread that outlives its call and claims "acme" is refused (the host started no call for it)', async () => {
    expect(await pit.executeInSession('other', 'later', { session: 'acme', tool_name: 'acmeSecrets' })).toBe(
      'scheduled',
    );
    const outcome = (await pit.executeInSession('other', 'later_outcome')) as Attempt;
    expect(outcome.error?.name).toBe('SessionMismatchError');
    expect(ran).toEqual([]);
  });

  it('a call made inside a host tool inherits the session of the call that called the tool', async () => {
    pit.tools.register(
      'relayToPython',
      async (_args, ctx) => {
        expect(ctx.sessionId).toBe('acme');
        return pit.execute('call', { tool_name: 'acmeSecrets' }); // no sessionId: nested, so acme's
      },
      { sessionId: 'acme' },
    );
    const out = (await pit.executeInSession('acme', 'call', { tool_name: 'relayToPython' })) as {
      called: { value: { called: Attempt } };
    };
    expect(out.called.value.called.value).toBe('the keys of acme');
    expect(ran).toEqual(['acmeSecrets']);
  });
});
