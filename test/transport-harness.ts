/**
 * One way to start a Snakepit per transport, so a suite can run unchanged against each (CPython's
 * test_concurrent_futures/util.py does the same per executor kind): `local` spawns workers on socket pairs;
 * `grpc` starts a real `serve --grpc` server per adapter and attaches to it as remote workers.
 */
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { grpcInstalled, startWorkerServer, type WorkerServer } from './grpc-helpers.js';
import { FIXTURES_PYTHONPATH, requireOptional, SHOWCASE } from './helpers.js';

export type TransportName = 'local' | 'grpc';
export const TRANSPORTS: readonly TransportName[] = ['local', 'grpc'];
export type ProfileName = 'process' | 'thread';
/** Every transport in every worker profile (docs/PROFILES.md): the conformance suite runs against each. */
export const TRANSPORT_PROFILES: readonly [TransportName, ProfileName][] = TRANSPORTS.flatMap((t) =>
  (['process', 'thread'] as const).map((p): [TransportName, ProfileName] => [t, p]),
);

/** Whether the transport can run here (grpc needs grpcio+protobuf; a printed skip, or a failure in CI). */
export function transportAvailable(transport: TransportName): boolean {
  return transport === 'local' || requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)');
}

export interface PitOptions extends Omit<Partial<SnakepitConfig>, 'pools'> {
  adapter?: string;
  size?: number;
}

export class TransportHarness {
  readonly transport: TransportName;
  readonly profile: ProfileName;
  readonly #servers = new Map<string, Promise<WorkerServer>>();
  readonly #pits: Snakepit[] = [];

  constructor(transport: TransportName, profile: ProfileName = 'process') {
    this.transport = transport;
    this.profile = profile;
  }

  /** The server serving `adapter` (started on first use; grpc only). */
  server(adapter: string): Promise<WorkerServer> {
    let server = this.#servers.get(adapter);
    if (!server) {
      server = startWorkerServer({ adapter });
      this.#servers.set(adapter, server);
    }
    return server;
  }

  /** Start a Snakepit of `size` workers running `adapter`, over this harness's transport. */
  async start(options: PitOptions = {}): Promise<Snakepit> {
    const { adapter = SHOWCASE, size = 1, ...rest } = options;
    const profile = this.profile === 'thread' ? { profile: 'thread' as const, threadsPerWorker: 4 } : {};
    const base = { adapter, logger: false as const, pythonPath: [FIXTURES_PYTHONPATH], ...profile, ...rest };
    let config: SnakepitConfig;
    if (this.transport === 'local') {
      config = { ...base, size };
    } else {
      const server = await this.server(adapter);
      config = {
        ...base,
        transport: 'grpc',
        endpoints: [server.address],
        grpc: { workersPerEndpoint: size, ...(rest.grpc ?? {}) },
      };
    }
    const pit = await Snakepit.start(config);
    this.#pits.push(pit);
    return pit;
  }

  /** Close every Snakepit, then stop the servers. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#pits.map((p) => p.close()));
    const servers = await Promise.allSettled([...this.#servers.values()]);
    await Promise.allSettled(
      servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : Promise.resolve())),
    );
  }
}
