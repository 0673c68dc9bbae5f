/**
 * The process registry: one small JSON file per running host (`Snakepit` instance) listing its live workers, so
 * that if the host dies without cleaning up, the next start can find what it left (see orphan-sweep.ts).
 *
 *   <dir>/run-<runId>.json   { version, runId, hostPid, hostStartTime, createdAt, workers: { id: {pid, …} } }
 *
 * `<dir>` defaults to `<os.tmpdir()>/snakepit-<uid>` (mode 0700, and it must be ours: a directory another user
 * controls could feed us pids to kill). One file per host means hosts never contend for a lock; each file is
 * rewritten whole, atomically (write a temporary file, rename it over), whenever a worker starts or exits, and
 * removed when the host closes. A host that exits without closing (it forgot `close()`, or called
 * `process.exit()`) kills the workers it still has on its way out (a process `exit` hook) and removes its record
 * too; only a host that dies (SIGKILL, a crash) leaves a record for the sweep.
 */
import { lstatSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { processFacts } from '../util/proc.js';

export const RECORD_VERSION = 1;

export interface WorkerRecord {
  pid: number;
  pool: string;
  /** The worker's start time (see ProcessFacts.startTime): a recycled pid never matches it. */
  startTime: string | undefined;
}

export interface RunRecord {
  version: number;
  runId: string;
  hostPid: number;
  hostStartTime: string | undefined;
  createdAt: string;
  workers: Record<string, WorkerRecord>;
}

export function runFileName(runId: string): string {
  return `run-${runId}.json`;
}

/**
 * Make sure `dir` exists, is a real directory (not a symlink), belongs to us and is not writable by others.
 * @returns a problem description, or undefined when the directory is fit
 */
export function checkRegistryDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return `${dir} is not a directory`;
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) return `${dir} belongs to uid ${stat.uid}, not to us (${uid})`;
    if ((stat.mode & 0o022) !== 0)
      return `${dir} is writable by other users (mode ${(stat.mode & 0o777).toString(8)})`;
    return undefined;
  } catch (err) {
    return `cannot use ${dir}: ${(err as Error).message}`;
  }
}

/** Registries of this process still open, for the `exit` hook. */
const openRegistries = new Set<ProcessRegistry>();
let exitHooked = false;

function onProcessExit(): void {
  for (const registry of [...openRegistries]) registry.abandon();
}

export class ProcessRegistry {
  readonly #file: string;
  readonly #record: RunRecord;
  readonly #logger: Logger;
  #broken = false;

  private constructor(file: string, record: RunRecord, logger: Logger) {
    this.#file = file;
    this.#record = record;
    this.#logger = logger;
  }

  /** Open this host's record in `dir`; undefined (with a warning) when the directory is unfit. */
  static open(dir: string, runId: string, logger: Logger): ProcessRegistry | undefined {
    const problem = checkRegistryDir(dir);
    if (problem) {
      logger.warn({}, `process registry disabled: ${problem} (set registryDir or SNAKEPIT_REGISTRY_DIR)`);
      return undefined;
    }
    const record: RunRecord = {
      version: RECORD_VERSION,
      runId,
      hostPid: process.pid,
      hostStartTime: processFacts(process.pid)?.startTime,
      createdAt: new Date().toISOString(),
      workers: {},
    };
    const registry = new ProcessRegistry(join(dir, runFileName(runId)), record, logger);
    registry.#write();
    openRegistries.add(registry);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', onProcessExit);
    }
    return registry;
  }

  get file(): string {
    return this.#file;
  }

  /** A worker process was spawned. */
  add(workerId: string, pool: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.#record.workers[workerId] = { pid, pool, startTime: processFacts(pid)?.startTime };
    this.#write();
  }

  /** A worker process is gone. */
  remove(workerId: string): void {
    if (!(workerId in this.#record.workers)) return;
    delete this.#record.workers[workerId];
    this.#write();
  }

  /**
   * The host process is exiting without having closed: SIGKILL the worker groups still recorded (they are our
   * children, so their pids cannot have been reused), then drop the record. Synchronous: runs in `exit`.
   */
  abandon(): void {
    for (const worker of Object.values(this.#record.workers)) {
      try {
        process.kill(-worker.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    this.close();
  }

  /** The host closed cleanly: nothing is left to sweep. */
  close(): void {
    openRegistries.delete(this);
    this.#broken = true;
    try {
      unlinkSync(this.#file);
    } catch {
      /* already gone */
    }
  }

  #write(): void {
    if (this.#broken) return;
    const tmp = `${this.#file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.#record), { mode: 0o600 });
      renameSync(tmp, this.#file);
    } catch (err) {
      this.#broken = true;
      this.#logger.warn({}, `process registry: cannot write ${this.#file}: ${(err as Error).message}`);
    }
  }
}
