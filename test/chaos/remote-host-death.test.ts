// Chaos over gRPC: a host killed with SIGKILL while it drives remote workers leaves nothing running on the
// endpoint (the stream ends, the server kills the worker processes), and the endpoint serves the next host.
import { describe, expect, it, onTestFinished } from 'vitest';
import { Snakepit } from '../../src/index.js';
import { grpcInstalled, startWorkerServer } from '../grpc-helpers.js';
import { eventually, requireOptional } from '../helpers.js';
import { runProcesses, startHost } from './chaos-helpers.js';

const CHAOS = 'snakepit_fixtures.chaos:ChaosAdapter';
const run = requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)');

describe.skipIf(!run)('a host with remote workers killed with SIGKILL', () => {
  it('leaves no worker process on the endpoint, which then serves the next host', async () => {
    const server = await startWorkerServer({ adapter: CHAOS });
    onTestFinished(() => server.stop());
    const grpc = { transport: 'grpc', endpoints: [server.address], grpc: { workersPerEndpoint: 2 } };
    const host = startHost('load', { size: 0, extra: grpc });
    const ready = await host.waitFor('ready');
    await host.waitFor('loading');
    const runId = ready['runId'] as string;
    expect(runProcesses(runId)).toHaveLength(2); // the endpoint's worker processes carry the host's run id
    host.child.kill('SIGKILL');
    await host.exited;
    const t0 = Date.now();
    await eventually(() => runProcesses(runId).length === 0, 10_000, 'the remote workers to end');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const next = await Snakepit.start({ adapter: CHAOS, logger: false, ...grpc } as Parameters<
      typeof Snakepit.start
    >[0]);
    try {
      expect(await next.execute('echo', { value: 'next host' })).toBe('next host');
    } finally {
      await next.close();
    }
  });
});
