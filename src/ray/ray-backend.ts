/**
 * The `ray` link kind: a pool with `backend: { kind: 'ray' }` runs each of its `size` workers in a Ray actor,
 * through one driver process per pool (ray-driver.ts). The workers are the pool's own (not workers at endpoints):
 * a dead actor is a dead worker, replaced under the pool's restart policy and crash barrier. This module loads
 * nothing of Ray; only the driver process imports `ray`, and only for a pool that asks for it.
 */
import { NATIVE_THREAD_VARIABLES } from '../config/profile-config.js';
import { LIMITS_ENV } from '../limits/worker-limits.js';
import type { LinkHost, LinkKind, PoolLinks } from '../worker/link-kind.js';
import { workerEnv } from '../worker/worker-spawn.js';
import type { LinkFactory } from '../worker/worker-link.js';
import { RayDriver } from './ray-driver.js';

export const rayLinks: LinkKind = {
  name: 'ray',
  open: (host) => (host.config.backend?.kind === 'ray' ? new RayBackend(host) : undefined),
};

/** The variables of a local worker's environment an actor's worker gets too (the rest is the node's own). */
const PASSED = new Set([
  ...NATIVE_THREAD_VARIABLES,
  LIMITS_ENV,
  'SNAKEPIT_SPIN_US',
  'SNAKEPIT_RUN_ID',
  'SNAKEPIT_WORKER_ID',
]);

/**
 * The drivers in use in this host process, shared by every pool (of every Snakepit) that reaches the same
 * cluster the same way: one Ray job, one `import ray` and one `ray.init` for all of them. A driver ends when the
 * last pool using it closes.
 */
const drivers = new Map<string, { driver: RayDriver; users: Set<RayBackend> }>();

function driverKey(host: LinkHost): string {
  const { config } = host;
  const { address, namespace, runtimeEnv, init, shipBridge } = config.backend!;
  return JSON.stringify([
    config.python.executable,
    config.cwd,
    address,
    namespace,
    runtimeEnv,
    init,
    shipBridge,
  ]);
}

export class RayBackend implements PoolLinks {
  readonly #host: LinkHost;
  readonly #key: string;
  #driver: RayDriver | undefined;

  constructor(host: LinkHost) {
    this.#host = host;
    this.#key = driverKey(host);
  }

  /** The driver in use (tests and the bench read where actors went). */
  get driver(): RayDriver | undefined {
    return this.#driver;
  }

  linkFor(endpoint: string | undefined): LinkFactory | undefined {
    if (endpoint !== undefined) return undefined;
    return ({ workerId, onLine }) => this.#currentDriver().open(this.#spec(workerId), onLine);
  }

  /** The pool has stopped its workers: let go of the driver (it ends when no pool uses it). */
  async close(): Promise<void> {
    const shared = drivers.get(this.#key);
    const mine = this.#driver;
    this.#driver = undefined;
    if (shared?.users.delete(this) && shared.users.size === 0) {
      drivers.delete(this.#key);
      await shared.driver.close(this.#host.config.killGraceMs);
    }
    // A driver this pool used that is no longer the shared one (it failed) has been ending: wait for it too.
    if (mine && mine !== shared?.driver) await mine.close(0);
  }

  #currentDriver(): RayDriver {
    let shared = drivers.get(this.#key);
    if (!shared?.driver.usable) {
      // None yet, or the last one is gone (it exited, or could not reach the cluster): a new one, a new attempt.
      if (shared) void shared.driver.close(0);
      const { name, config, runId, logger } = this.#host;
      shared = {
        driver: new RayDriver({ pool: name, config, backend: config.backend!, runId, logger }),
        users: shared?.users ?? new Set(),
      };
      drivers.set(this.#key, shared);
    }
    shared.users.add(this);
    this.#driver = shared.driver;
    return shared.driver;
  }
  #spec(workerId: string): Record<string, unknown> {
    const { config, runId } = this.#host;
    const local = workerEnv(config, runId, workerId);
    const env: Record<string, string> = { ...config.env };
    for (const [name, value] of Object.entries(local)) {
      if (PASSED.has(name) && value !== undefined) env[name] = value;
    }
    // The pool's pythonPath, for clusters that share this machine's paths; elsewhere use runtimeEnv.
    if (config.pythonPath.length) env['PYTHONPATH'] = config.pythonPath.join(':');
    return {
      adapter: config.adapter,
      worker_id: workerId,
      pool: config.name,
      run_id: runId,
      codec: config.codec,
      env,
      resources: config.backend!.resources,
    };
  }
}
