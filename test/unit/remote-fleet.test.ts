// RemoteFleet against a fake pool: how many workers it asks for at each endpoint, back-off after failures,
// reconnection after a loss, and what a resolver's changing answer does.
import { describe, expect, it } from 'vitest';
import type { SnakepitConfig } from '../../src/config/config-types.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { silentLogger } from '../../src/util/logger.js';
import { type FleetHost, RemoteFleet } from '../../src/remote/remote-fleet.js';
import type { WorkerHandle } from '../../src/worker/worker-handle.js';
import { eventually } from '../helpers.js';

interface FakeWorker {
  endpoint: string;
  state: string;
  load: number;
  stopped: boolean;
  drain(): boolean;
  stop(): Promise<void>;
}

/** A pool that records each start and lets the test decide whether it succeeds. */
function fakePool(endpoints: SnakepitConfig['endpoints'], failing: Set<string> = new Set()) {
  const config = resolveConfig({
    adapter: 'pkg.mod:Adapter',
    logger: false,
    transport: 'grpc',
    endpoints,
    grpc: {
      workersPerEndpoint: 2,
      reconnect: { initialBackoffMs: 20, maxBackoffMs: 80 },
      resolveIntervalMs: 100,
    },
  }).pools[0]!;
  const workers: FakeWorker[] = [];
  const starts: string[] = [];
  let running = true;
  const host: FleetHost = {
    name: 'p',
    config,
    logger: silentLogger,
    runId: 'run',
    workers: () => workers as unknown as WorkerHandle[],
    isRunning: () => running,
    startRemoteWorker: async (endpoint) => {
      starts.push(endpoint);
      if (failing.has(endpoint)) throw new Error(`${endpoint} is down`);
      const w: FakeWorker = {
        endpoint,
        state: 'ready',
        load: 0,
        stopped: false,
        drain() {
          if (this.state !== 'ready') return false;
          this.state = 'draining';
          return true;
        },
        async stop() {
          this.stopped = true;
          this.state = 'stopped';
        },
      };
      workers.push(w);
      return w as unknown as WorkerHandle;
    },
  };
  return { host, workers, starts, failing, stop: () => (running = false) };
}

describe('RemoteFleet', () => {
  it('starts workersPerEndpoint workers at every endpoint', async () => {
    const pool = fakePool(['127.0.0.1:1', '127.0.0.1:2']);
    const fleet = new RemoteFleet(pool.host);
    await fleet.start();
    expect(pool.starts.sort()).toEqual(['127.0.0.1:1', '127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:2']);
    fleet.close();
  });

  it('fails the start when an endpoint cannot be reached', async () => {
    const pool = fakePool(['127.0.0.1:1', '127.0.0.1:2'], new Set(['127.0.0.1:2']));
    await expect(new RemoteFleet(pool.host).start()).rejects.toThrow('127.0.0.1:2 is down');
  });

  it('reconnects a lost worker, backing off while the endpoint stays down', async () => {
    const pool = fakePool(['127.0.0.1:1']);
    const fleet = new RemoteFleet(pool.host);
    await fleet.start();
    const lost = pool.workers[0]!;
    lost.state = 'crashed';
    pool.workers.splice(0, 1);
    pool.failing.add('127.0.0.1:1');
    const before = pool.starts.length;
    fleet.onExit(lost as unknown as WorkerHandle);
    await eventually(() => pool.starts.length >= before + 4, 2_000, 'several attempts');
    const attemptsWhileDown = pool.starts.length - before;
    pool.failing.clear();
    await eventually(
      () => pool.workers.filter((w) => w.state === 'ready').length === 2,
      2_000,
      'back to strength',
    );
    // Attempts were spaced (20, 40, 80, 80 ms …), not a busy loop.
    expect(attemptsWhileDown).toBeLessThan(40);
    fleet.close();
  });

  it('follows a resolver: new endpoints get workers, vanished ones drain and stop', async () => {
    let answer = ['127.0.0.1:1'];
    const pool = fakePool(() => answer);
    const fleet = new RemoteFleet(pool.host);
    await fleet.start();
    expect(pool.workers.map((w) => w.endpoint)).toEqual(['127.0.0.1:1', '127.0.0.1:1']);
    pool.workers[0]!.load = 1; // one call still running there
    answer = ['127.0.0.1:2'];
    await eventually(
      () => pool.workers.filter((w) => w.endpoint === '127.0.0.1:2').length === 2,
      2_000,
      'new endpoint',
    );
    const old = pool.workers.filter((w) => w.endpoint === '127.0.0.1:1');
    expect(old.map((w) => w.state)).toEqual(['draining', 'stopped']); // the idle one stopped at once
    old[0]!.load = 0;
    fleet.onSlotFree(old[0] as unknown as WorkerHandle); // its last call finished
    expect(old[0]!.stopped).toBe(true);
    expect(fleet.endpoints).toEqual(['127.0.0.1:2']);
    fleet.close();
  });

  it('refuses a resolved endpoint off this machine without TLS, at its first use', async () => {
    const pool = fakePool(() => ['10.9.8.7:50051']);
    await expect(new RemoteFleet(pool.host).start()).rejects.toThrow(/not on this machine/);
    expect(pool.starts).toEqual([]);
  });
});
