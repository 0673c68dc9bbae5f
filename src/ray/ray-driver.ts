/**
 * RayDriver: a Ray driver process (`python -m snakepit_bridge.ray.driver`, spawned with a socket on fd 3; one per
 * cluster, shared by a host's pools) and the frames it shares with the host, several workers over one socket
 * (docs/PROTOCOL.md §11).
 *
 * The driver connects to the cluster in the background; workers asked for before that wait in the driver. If it
 * cannot connect (no `ray` installed, no cluster at the address) or later exits (the cluster connection died and
 * Ray gave up, or it was killed), every link it carries ends as `lost` with the reason, and the backend starts
 * a new driver for the next worker: the pool's restart policy paces those attempts.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import type { Logger } from '../util/logger.js';
import { workerEnv } from '../worker/worker-spawn.js';
import { WorkerProcess } from '../worker/worker-process.js';
import type { ExitInfo } from '../worker/worker-link.js';
import type { ResolvedRayBackend } from './ray-config.js';
import { RayLink, type RayLinkPort } from './ray-link.js';

const HEADER = 9; // length u32 | type u8 | worker u32
/** Most bytes one frame from the driver may announce: it carries the channel's frames, themselves bounded. */
const MAX_PAYLOAD = 256 * 1024 * 1024;

let driverCount = 0;

export type ClusterState =
  | { state: 'connecting' }
  | { state: 'connected'; ray: string; nodes: string[]; address: string }
  | { state: 'failed'; message: string };

export interface RayDriverOptions {
  pool: string;
  config: ResolvedPoolConfig;
  backend: ResolvedRayBackend;
  runId: string;
  logger: Logger;
}

export class RayDriver implements RayLinkPort {
  readonly process: WorkerProcess;
  cluster: ClusterState = { state: 'connecting' };
  readonly #options: RayDriverOptions;
  readonly #links = new Map<number, RayLink>();
  readonly #stderr: string[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #nextNumber = 1;
  #gone: string | undefined;
  /** Workers that keep the host alive (busy or starting): the driver's process is ref'd while there are any. */
  readonly #refs = new Set<number>();
  #closing = false;

  constructor(options: RayDriverOptions) {
    this.#options = options;
    const { config, backend, runId, pool } = options;
    this.process = new WorkerProcess({
      executable: config.python.executable,
      args: ['-m', 'snakepit_bridge.ray.driver', '--channel-fd', '3'],
      env: {
        // Its own marker (containment.ts): when a driver exits, what carries its marker is ended with it, and
        // that must never be the driver that replaced it.
        ...workerEnv(config, runId, `${pool}-ray-driver-${++driverCount}`),
        SNAKEPIT_RAY: JSON.stringify({
          address: backend.address,
          namespace: backend.namespace,
          runtime_env: backend.runtimeEnv,
          init: backend.init,
          ship_bridge: backend.shipBridge,
          // Most of the start-up budget: a cluster that never answers is reported as such before the worker's
          // start deadline says only that it did not become ready.
          connect_timeout_s: (config.startupTimeoutMs * 0.75) / 1000,
        }),
      },
      cwd: config.cwd,
      onLine: (stream, line) => {
        if (stream === 'stderr') {
          this.#stderr.push(line);
          if (this.#stderr.length > 20) this.#stderr.shift();
        }
        options.logger.debug({ pool, stream }, `ray driver: ${line}`);
      },
    });
    this.process.setRef(false);
    this.process.channel.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.process.channel.on('error', () => {
      /* the exit says it */
    });
    void this.process.exited.then((exit) => this.#onExit(exit));
  }

  /** False once the driver has exited or could not reach the cluster: the backend starts another. */
  get usable(): boolean {
    return this.#gone === undefined && this.cluster.state !== 'failed';
  }

  /** A new worker in a new actor. */
  open(spec: Record<string, unknown>, onLine: ConstructorParameters<typeof RayLink>[2]): RayLink {
    const number = this.#nextNumber++;
    const link = new RayLink(this, number, onLine);
    if (this.#gone !== undefined) {
      link.ended({ code: null, signal: null, lost: this.#gone });
      return link;
    }
    this.#links.set(number, link);
    this.ref(number, true); // starting
    void link.exited.then(() => this.#links.delete(number));
    this.send('S', number, Buffer.from(JSON.stringify(spec)));
    return link;
  }

  ref(worker: number, ref: boolean): void {
    if (ref) this.#refs.add(worker);
    else this.#refs.delete(worker);
    this.process.setRef(this.#closing || this.#refs.size > 0);
  }

  send(kind: 'S' | 'D' | 'E' | 'K', worker: number, payload: Buffer): void {
    if (this.#gone !== undefined) return;
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt8(kind.charCodeAt(0), 4);
    header.writeUInt32BE(worker, 5);
    this.process.channel.write(payload.length ? Buffer.concat([header, payload]) : header);
  }

  /**
   * End the driver: end of file on its socket, and it kills its actors and leaves (at least 5 s for that, as Ray
   * answers slowly under load); a driver that has not left by then is signalled, and Ray ends a dead driver's
   * actors with its job.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.process.setRef(true);
    await this.process.stop(Math.max(graceMs, 5_000), () => this.process.channel.end());
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= HEADER) {
      const length = this.#buffer.readUInt32BE(0);
      if (length > MAX_PAYLOAD) {
        this.#fail(`the Ray driver sent a frame of ${length} bytes`);
        return;
      }
      if (this.#buffer.length < HEADER + length) return;
      const kind = String.fromCharCode(this.#buffer[4]!);
      const number = this.#buffer.readUInt32BE(5);
      const payload = this.#buffer.subarray(HEADER, HEADER + length);
      this.#buffer = this.#buffer.subarray(HEADER + length);
      try {
        this.#onFrame(kind, number, payload);
      } catch (err) {
        // Not JSON where JSON belongs: nothing more it says can be trusted, so its workers end (typed) here.
        this.#fail(`the Ray driver sent a malformed "${kind}" frame (${(err as Error).message})`);
        return;
      }
    }
  }

  #onFrame(kind: string, number: number, payload: Buffer): void {
    if (kind === 'C') {
      const c = jsonObject(payload);
      if (c['state'] === 'connected') {
        const nodes = Array.isArray(c['nodes']) ? c['nodes'].map(String) : [];
        this.cluster = { state: 'connected', ray: String(c['ray']), nodes, address: String(c['address']) };
        this.#options.logger.info(
          { pool: this.#options.pool },
          `ray: connected to ${this.cluster.address} (Ray ${this.cluster.ray}, ${nodes.length} nodes)`,
        );
      } else {
        const message = typeof c['message'] === 'string' ? c['message'] : 'the Ray driver could not connect';
        this.cluster = { state: 'failed', message };
        this.#fail(message);
      }
      return;
    }
    const link = this.#links.get(number);
    if (!link) return;
    if (kind === 'D') link.data(Buffer.from(payload));
    else if (kind === 'P') {
      const p = jsonObject(payload);
      link.placed({
        pid: Number(p['pid']),
        worker_pid: Number(p['worker_pid']),
        node_id: String(p['node_id']),
        node_ip: String(p['node_ip']),
        actor_id: String(p['actor_id']),
      });
    } else if (kind === 'O') {
      const out = jsonObject(payload);
      link.output(lines(out['stdout']), lines(out['stderr']));
    } else if (kind === 'X') {
      const x = jsonObject(payload);
      const code = x['code'] ?? null;
      const signal = x['signal'] ?? null;
      const lost = x['lost'] ?? undefined;
      if (
        (code !== null && !Number.isInteger(code)) ||
        (signal !== null && typeof signal !== 'string') ||
        (lost !== undefined && typeof lost !== 'string')
      ) {
        throw new Error('not {code, signal, lost}');
      }
      link.ended({
        code: code as number | null,
        signal: signal as NodeJS.Signals | null,
        ...(lost ? { lost: lost as string } : {}),
      });
    }
  }

  #onExit(exit: ExitInfo): void {
    const tail = this.#stderr.slice(-5).join(' | ');
    this.#fail(
      `the pool's Ray driver (pid ${this.process.pid ?? '?'}) exited (${
        exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`
      })${tail ? `: ${tail}` : ''}`,
    );
  }

  /** Every link ends as lost, with `why`; the driver is not used again. */
  #fail(why: string): void {
    if (this.#gone !== undefined) return;
    this.#gone = why;
    for (const link of this.#links.values()) link.ended({ code: null, signal: null, lost: why });
    this.#links.clear();
    if (this.process.exitInfo === undefined) void this.close(1_000);
  }
}

/** A frame's JSON payload, which must be an object (anything else: the driver cannot be trusted). */
function jsonObject(payload: Buffer): Record<string, unknown> {
  const value: unknown = JSON.parse(payload.toString());
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  return value as Record<string, unknown>;
}

function lines(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
