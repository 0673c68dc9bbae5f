/**
 * A pool's first worker, spawned as early as `Snakepit.start` may: once the config is resolved, the interpreter
 * found, orphans swept, the run recorded in the process registry and the worker's ledger made — before the
 * host builds its telemetry, sessions, pools, supervisors and the worker's handle, which then run while the
 * interpreter starts (docs/PERFORMANCE.md, "Start of one worker"). The handle takes the process over
 * (`take`) as if it had spawned it; one never taken is killed (`abandon`).
 *
 * Only a cold local Python worker (no template, no link, no `command`) starts this way; every other start is
 * unchanged. What covers a host killed between the spawn and the handle's taking it is what covers any worker
 * before its pid is written to the registry: the run's marker in its environment (the sweep finds it by that,
 * the run's record being written before the spawn), the parent-death signal and the host-pid watch (the worker
 * leaves by itself: dispatch/lifeline.py), and the ledger, made before the spawn as always.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { Ledger } from './ledger.js';
import type { OutputStream } from './worker-link.js';
import type { WorkerProcess } from './worker-process.js';
import { spawnLocalWorker } from './worker-spawn.js';

type LineSink = (stream: OutputStream, line: string) => void;

/** Whether a pool's first worker is a local Python process spawned cold: the only start `EarlyWorker` makes. */
export function firstWorkerSpawnsCold(config: ResolvedPoolConfig): boolean {
  return (
    config.size > 0 &&
    !config.template.enabled &&
    config.transport === 'local' &&
    config.backend === undefined &&
    config.command === undefined
  );
}

export class EarlyWorker {
  /** The id the pool gives its first worker. */
  readonly id: string;
  readonly ledger: Ledger | undefined;
  readonly process: WorkerProcess;
  /** Lines the worker wrote before its handle took it, for the handle's sink. */
  #pending: Array<[OutputStream, string]> = [];
  #sink: LineSink | undefined;
  #done = false;

  private constructor(config: ResolvedPoolConfig, runId: string) {
    this.id = `${config.name}-1`;
    this.ledger = Ledger.create();
    try {
      this.process = spawnLocalWorker({
        config,
        workerId: this.id,
        runId,
        onLine: (stream, line) => {
          if (this.#sink) this.#sink(stream, line);
          else if (this.#pending.length < 1000) this.#pending.push([stream, line]);
        },
        ledgerFd: this.ledger?.fd,
      });
    } catch (err) {
      this.ledger?.close();
      throw err;
    }
  }

  /** The pool's first worker, spawned now; undefined for a pool whose first worker starts another way. */
  static spawn(config: ResolvedPoolConfig, runId: string): EarlyWorker | undefined {
    return firstWorkerSpawnsCold(config) ? new EarlyWorker(config, runId) : undefined;
  }

  /** The handle takes the process and its ledger; its lines go to `onLine` from now on (earlier ones first). */
  take(onLine: LineSink): { process: WorkerProcess; ledger: Ledger | undefined } {
    if (this.#done) throw new Error(`early worker ${this.id} was taken or abandoned already`);
    this.#done = true;
    this.#sink = onLine;
    for (const [stream, line] of this.#pending.splice(0)) onLine(stream, line);
    return { process: this.process, ledger: this.ledger };
  }

  /** Not taken (the host's start failed or stopped first): kill the process's group and close the ledger. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.process.signal('SIGKILL');
    this.process.setRef(false);
    void this.process.exited.then(() => this.ledger?.close());
  }

  /** Whether a handle took it. */
  get taken(): boolean {
    return this.#done && this.#sink !== undefined;
  }
}
