/**
 * Link kinds: the transports a pool may reach workers through besides a spawned local process. Each kind lives
 * in its own folder (remote/ for gRPC, interop/ for Snakepit-style workers) and is listed once in
 * pool/link-registry.ts; the supervisor asks the registry, so it knows no transport by name.
 *
 * A kind looks at a pool's config and, when the config asks for it, opens the pool's links of that kind: link
 * factories for new workers, and (for workers at endpoints) the lifecycle hooks that keep them at strength.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import type { Logger } from '../util/logger.js';
import type { WorkerHandle } from './worker-handle.js';
import type { LinkFactory } from './worker-link.js';

/** What a pool's links need of it. */
export interface LinkHost {
  readonly name: string;
  readonly config: ResolvedPoolConfig;
  readonly logger: Logger;
  readonly runId: string;
  /** The pool's workers (any state). */
  workers(): readonly WorkerHandle[];
  /** Create a worker at `endpoint` (the pool counts it), start it; resolves when it is ready. */
  startRemoteWorker(endpoint: string): Promise<WorkerHandle>;
  isRunning(): boolean;
}

/** One pool's links of one kind. Every hook but `linkFor` is optional. */
export interface PoolLinks {
  /**
   * How to open a new worker's link: one at `endpoint`, or a local one (`endpoint` undefined). Undefined: not
   * this kind's worker (a local worker with no kind claiming it is a spawned process).
   */
  linkFor(endpoint: string | undefined): LinkFactory | undefined;
  /** The pool starts: start the workers this kind keeps at endpoints. */
  start?(): Promise<void>;
  /** A worker's slot freed. */
  onSlotFree?(worker: WorkerHandle): void;
  /** A worker at an endpoint left the pool. */
  onExit?(worker: WorkerHandle): void;
  /** The pool is closing: no more reconnecting. */
  stop?(): void;
  /** The pool has stopped its workers: release what is left (channels, a driver process); close() awaits it. */
  close?(): void | Promise<void>;
}

export interface LinkKind {
  /** The transport's name in messages (`grpc`, `snakepit`). */
  readonly name: string;
  /** The pool's links of this kind, or undefined when the pool's config does not use it. */
  open(host: LinkHost): PoolLinks | undefined;
}
