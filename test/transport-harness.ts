/**
 * One way to start a Snakepit per transport, so a suite can run unchanged against each (CPython's
 * test_concurrent_futures/util.py does the same per executor kind): `local` spawns workers on socket pairs;
 * `grpc` starts a real `serve --grpc` server per adapter and attaches to it as remote workers.
 */
import { Snakepit, type SnakepitConfig } from '../src/index.js';
import { grpcInstalled, startWorkerServer, type WorkerServer } from './grpc-helpers.js';
import { BRIDGE_PYTHONPATH, FIXTURES_PYTHONPATH, requireOptional, SHOWCASE } from './helpers.js';
import { rayAvailable, startLocalRay, type LocalRay } from './ray-helpers.js';

export type TransportName = 'local' | 'grpc' | 'ray';
export const TRANSPORTS: readonly TransportName[] = ['local', 'grpc', 'ray'];
export type ProfileName = 'process' | 'thread';
/**
 * Every transport in every worker profile (docs/PROFILES.md): the conformance suite runs against each. Ray only
 * in the process profile: the profile lives inside the worker process, which is the same over every link, and a
 * local Ray costs its start-up (keep CI bounded).
 */
export const TRANSPORT_PROFILES: readonly [TransportName, ProfileName][] = TRANSPORTS.flatMap((t) =>
  (t === 'ray' ? (['process'] as const) : (['process', 'thread'] as const)).map(
    (p): [TransportName, ProfileName] => [t, p],
  ),
);

/** Whether the transport can run here (grpc needs grpcio+protobuf, ray needs ray; a printed skip, or a failure in CI). */
export function transportAvailable(transport: TransportName): boolean {
  if (transport === 'local') return true;
  if (transport === 'ray') return rayAvailable();
  return requireOptional(grpcInstalled(), 'grpcio and protobuf (gRPC transport)');
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
  #ray: Promise<LocalRay> | undefined;

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

  /** Start what the transport needs before any Snakepit (ray: the local cluster), in a `beforeAll`. */
  async prepare(): Promise<void> {
    if (this.transport !== 'ray') return;
    this.#ray ??= startLocalRay({ numCpus: 4 }, [], { pythonPath: [BRIDGE_PYTHONPATH, FIXTURES_PYTHONPATH] });
    await this.#ray;
  }

  /** Start a Snakepit of `size` workers running `adapter`, over this harness's transport. */
  async start(options: PitOptions = {}): Promise<Snakepit> {
    const { adapter = SHOWCASE, size = 1, ...rest } = options;
    const profile = this.profile === 'thread' ? { profile: 'thread' as const, threadsPerWorker: 4 } : {};
    const base = { adapter, logger: false as const, pythonPath: [FIXTURES_PYTHONPATH], ...profile, ...rest };
    let config: SnakepitConfig;
    if (this.transport === 'local') {
      config = { ...base, size };
    } else if (this.transport === 'ray') {
      // One local cluster per harness; its nodes import the bridge and the fixtures, so the actors reuse the
      // workers Ray started in advance (shipBridge false).
      await this.prepare();
      const ray = await this.#ray!;
      config = {
        ...base,
        size,
        startupTimeoutMs: 60_000,
        backend: { kind: 'ray', address: ray.address, shipBridge: false, resources: { num_cpus: 0.25 } },
      };
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

  /** Close every Snakepit, then stop the servers and the local Ray. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#pits.map((p) => p.close()));
    await this.#ray?.then((ray) => ray.stop()).catch(() => undefined);
    const servers = await Promise.allSettled([...this.#servers.values()]);
    await Promise.allSettled(
      servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : Promise.resolve())),
    );
  }
}
