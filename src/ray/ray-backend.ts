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

export class RayBackend implements PoolLinks {
  readonly #host: LinkHost;
  #driver: RayDriver | undefined;

  constructor(host: LinkHost) {
    this.#host = host;
  }

  /** The driver in use (tests and the bench read where actors went). */
  get driver(): RayDriver | undefined {
    return this.#driver;
  }

  linkFor(endpoint: string | undefined): LinkFactory | undefined {
    if (endpoint !== undefined) return undefined;
    return ({ workerId, onLine }) => this.#currentDriver().open(this.#spec(workerId), onLine);
  }

  close(): void {
    const driver = this.#driver;
    this.#driver = undefined;
    void driver?.close(this.#host.config.killGraceMs);
  }

  #currentDriver(): RayDriver {
    if (!this.#driver?.usable) {
      const old = this.#driver;
      if (old) void old.close(0);
      const { name, config, runId, logger } = this.#host;
      this.#driver = new RayDriver({ pool: name, config, backend: config.backend!, runId, logger });
    }
    return this.#driver!;
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
