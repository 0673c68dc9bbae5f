/**
 * RemoteFleet: a pool's remote workers — which endpoints exist, how many workers each should have, and getting
 * back to that after a connection is lost.
 *
 *   resolve endpoints (list, or resolver every resolveIntervalMs)
 *        │
 *        ▼
 *   reconcile(): for each endpoint, live workers (starting|ready) < workersPerEndpoint?
 *        │           └─ yes, and not backing off ─► pool starts a worker there (RemoteLink)
 *        │                                              ├─ ready: the endpoint's failures reset
 *        │                                              └─ failed: back off (initial × 2ⁿ ≤ max), then reconcile
 *        └─ endpoint gone from the resolver ─► its workers drain and stop
 *
 * A worker whose connection is lost fails its in-flight calls (WorkerHandle, kind `connection_lost`) and leaves the
 * pool; `onExit` reconciles at once, so the endpoint is tried again in the background for as long as the pool
 * runs. Remote workers never count against `restart.maxAttempts`: an endpoint that is down is expected to come
 * back.
 */
import { lookup } from 'node:dns/promises';
import type { Client } from '@grpc/grpc-js';
import type { ResolvedGrpcConfig } from '../config/config-types.js';
import { exposureProblem } from './grpc-config.js';
import { WorkerStartError } from '../errors/errors.js';
import { clientOptions, GRPC_KEEPALIVE_TIMEOUT_MS, loadBridgeProto, type BridgeProto } from './grpc-proto.js';
import { trace } from '../util/trace.js';
import { RemoteLink } from './remote-link.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { LinkHost, LinkKind, PoolLinks } from '../worker/link-kind.js';
import type { LinkFactory } from '../worker/worker-link.js';

/** What the fleet needs of its pool. */
export type FleetHost = LinkHost;

interface Backoff {
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

/** The gRPC link kind: remote workers at endpoints, beside the local ones, when the pool has `grpc`. */
export const grpcLinks: LinkKind = {
  name: 'grpc',
  open: (host) => (host.config.grpc ? new RemoteFleet(host) : undefined),
};

export class RemoteFleet implements PoolLinks {
  readonly #host: FleetHost;
  readonly #grpc: ResolvedGrpcConfig;
  readonly #clients = new Map<string, Client>();
  readonly #backoff = new Map<string, Backoff>();
  /** Workers being started, per endpoint (they count as live before the pool sees them starting). */
  readonly #starting = new Map<string, number>();
  /** Workers draining because their endpoint left the resolver's answer. */
  readonly #retiring = new Set<WorkerHandle>();
  #proto: BridgeProto | undefined;
  #endpoints: string[] = [];
  #resolveTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(host: FleetHost) {
    this.#host = host;
    this.#grpc = host.config.grpc!;
  }

  /** The endpoints in use now. */
  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  /**
   * Resolve the endpoints and start `workersPerEndpoint` workers at each. Rejects with the first failure (the
   * pool then stops everything: no half-started pool).
   */
  async start(): Promise<void> {
    this.#proto = await loadBridgeProto();
    this.#endpoints = await this.#resolve();
    if (this.#endpoints.length === 0 && this.#host.config.size === 0) {
      throw new WorkerStartError(
        `pool "${this.#host.name}" has no workers: its endpoint resolver returned no endpoints`,
        { pool: this.#host.name, workerId: '-' },
      );
    }
    const starts: Array<Promise<WorkerHandle>> = [];
    for (const endpoint of this.#endpoints) {
      for (let i = 0; i < this.#grpc.workersPerEndpoint; i++) starts.push(this.#startOne(endpoint));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.#grpc.endpoints.resolver) {
      this.#resolveTimer = setInterval(() => void this.#refresh(), this.#grpc.resolveIntervalMs);
      this.#resolveTimer.unref();
    }
  }

  /** How the pool opens a worker's link at `endpoint` (also used for a recycled worker's replacement). */
  linkFor(endpoint: string): LinkFactory;
  linkFor(endpoint: string | undefined): LinkFactory | undefined;
  linkFor(endpoint: string | undefined): LinkFactory | undefined {
    if (endpoint === undefined) return undefined; // the pool's local workers are not the fleet's
    return ({ workerId, onLine }) => {
      const proto = this.#proto!;
      const metadata = new proto.grpc.Metadata();
      // Only over TLS, or where grpc.insecure said so (the config refuses a token otherwise).
      if (this.#grpc.token && (this.#grpc.tls || this.#grpc.insecure)) {
        metadata.set('authorization', `Bearer ${this.#grpc.token}`);
      }
      metadata.set('x-snakepit-worker-id', workerId);
      metadata.set('x-snakepit-pool', this.#host.name);
      metadata.set('x-snakepit-run-id', this.#host.runId);
      metadata.set('x-snakepit-codec', this.#host.config.codec);
      return new RemoteLink({
        grpc: proto.grpc,
        client: this.#client(endpoint),
        endpoint,
        metadata,
        connectTimeoutMs: this.#grpc.connectTimeoutMs,
        onLine,
      });
    };
  }

  /** A remote worker left the pool: get its endpoint back to strength. */
  onExit(worker: WorkerHandle): void {
    this.#retiring.delete(worker);
    this.reconcile();
  }

  /** A slot freed: a retiring worker with nothing left stops now. */
  onSlotFree(worker: WorkerHandle): void {
    if (this.#retiring.has(worker) && worker.load === 0) void worker.stop();
  }

  /** Stop reconnecting and resolving (the pool is closing). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#resolveTimer);
    for (const b of this.#backoff.values()) clearTimeout(b.timer);
    this.#backoff.clear();
  }

  /** Close the channels, once the pool has stopped the workers. */
  close(): void {
    this.stop();
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /** Start the workers each endpoint is missing, unless it is backing off. */
  reconcile(): void {
    if (this.#stopped || !this.#host.isRunning()) return;
    for (const endpoint of this.#endpoints) {
      if (this.#backoff.get(endpoint)?.timer) continue;
      const live =
        this.#host
          .workers()
          .filter((w) => w.endpoint === endpoint && (w.state === 'ready' || w.state === 'starting')).length +
        (this.#starting.get(endpoint) ?? 0);
      for (let i = live; i < this.#grpc.workersPerEndpoint; i++) {
        this.#startOne(endpoint).then(
          () => this.#succeeded(endpoint),
          (err: unknown) => this.#failed(endpoint, err as Error),
        );
      }
    }
  }

  #startOne(endpoint: string): Promise<WorkerHandle> {
    const problem = exposureProblem(endpoint, this.#grpc);
    if (problem) {
      return Promise.reject(new WorkerStartError(problem, { pool: this.#host.name, workerId: '-' }));
    }
    this.#starting.set(endpoint, (this.#starting.get(endpoint) ?? 0) + 1);
    const done = (): void => {
      this.#starting.set(endpoint, (this.#starting.get(endpoint) ?? 1) - 1);
    };
    return this.#host.startRemoteWorker(endpoint).then(
      (worker) => {
        done();
        return worker;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  #succeeded(endpoint: string): void {
    const backoff = this.#backoff.get(endpoint);
    if (backoff && backoff.failures > 0) {
      this.#host.logger.info(
        { pool: this.#host.name, endpoint },
        `endpoint ${endpoint} is back after ${backoff.failures} failed attempt(s)`,
      );
    }
    this.#backoff.delete(endpoint);
  }

  #failed(endpoint: string, err: Error): void {
    if (this.#stopped || !this.#host.isRunning()) return;
    const backoff = this.#backoff.get(endpoint) ?? { failures: 0, timer: undefined };
    backoff.failures++;
    const { initialBackoffMs, maxBackoffMs } = this.#grpc.reconnect;
    const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(backoff.failures - 1, 30));
    clearTimeout(backoff.timer);
    backoff.timer = setTimeout(() => {
      backoff.timer = undefined;
      this.reconcile();
    }, delay);
    backoff.timer.unref();
    this.#backoff.set(endpoint, backoff);
    // First failure of a streak, then every tenth: a long outage must not flood the log.
    if (backoff.failures === 1 || backoff.failures % 10 === 0) {
      this.#host.logger.warn(
        { pool: this.#host.name, endpoint },
        `cannot start a worker at ${endpoint} (attempt ${backoff.failures}, next in ${delay} ms): ${err.message}`,
      );
    }
    trace('pool', `${this.#host.name} endpoint ${endpoint} failed (${backoff.failures}): ${err.message}`);
  }

  async #refresh(): Promise<void> {
    if (this.#stopped || !this.#host.isRunning()) return;
    let endpoints: string[];
    try {
      endpoints = await this.#resolve();
    } catch (err) {
      this.#host.logger.warn(
        { pool: this.#host.name },
        `endpoint resolver failed (keeping ${this.#endpoints.length} endpoints): ${(err as Error).message}`,
      );
      return;
    }
    const gone = this.#endpoints.filter((e) => !endpoints.includes(e));
    this.#endpoints = endpoints;
    for (const endpoint of gone) {
      this.#backoff.delete(endpoint);
      for (const worker of this.#host.workers()) {
        if (worker.endpoint !== endpoint || !worker.drain()) continue;
        this.#retiring.add(worker);
        this.#host.logger.info(
          { pool: this.#host.name, worker: worker.id, endpoint },
          `endpoint ${endpoint} left the resolver's answer: worker ${worker.id} drains and stops`,
        );
        if (worker.load === 0) void worker.stop();
      }
      this.#clients.get(endpoint)?.close();
      this.#clients.delete(endpoint);
    }
    this.reconcile();
  }

  async #resolve(): Promise<string[]> {
    const { list, resolver } = this.#grpc.endpoints;
    if (list) return list;
    const answer = await resolver();
    if (!Array.isArray(answer) || answer.some((e) => typeof e !== 'string')) {
      throw new TypeError(`the endpoint resolver must return an array of "host:port" strings`);
    }
    return [...new Set(answer)];
  }

  #client(endpoint: string): Client {
    let client = this.#clients.get(endpoint);
    if (client) return client;
    const { grpc, BridgeService } = this.#proto!;
    const tls = this.#grpc.tls;
    const credentials = tls
      ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null)
      : grpc.credentials.createInsecure();
    client = new BridgeService(
      endpoint,
      credentials,
      clientOptions({
        keepaliveMs: this.#grpc.keepaliveMs,
        keepaliveTimeoutMs: GRPC_KEEPALIVE_TIMEOUT_MS,
        reconnectInitialMs: this.#grpc.reconnect.initialBackoffMs,
        reconnectMaxMs: this.#grpc.reconnect.maxBackoffMs,
        serverName: tls?.serverName,
      }),
    );
    this.#clients.set(endpoint, client);
    return client;
  }
}

/**
 * An endpoint resolver for DNS-based discovery, e.g. a Kubernetes headless Service: every address `name`
 * resolves to, at `port`.
 *
 * ```ts
 * endpoints: dnsEndpoints('snakepit-workers.default.svc.cluster.local', 50051)
 * ```
 */
export function dnsEndpoints(name: string, port: number): () => Promise<string[]> {
  return async () => {
    const addresses = await lookup(name, { all: true });
    return addresses.map((a) => (a.family === 6 ? `[${a.address}]:${port}` : `${a.address}:${port}`)).sort();
  };
}
