/**
 * The process registry: one small JSON file per running host (`Snakepit` instance) listing its live workers, so
 * that if the host dies without cleaning up, the next start can find what it left (see orphan-sweep.ts).
 *
 *   <dir>/run-<runId>.json   { version, runId, hostPid, hostStartTime, createdAt, workers: { id: {pid, …} } }
 *
 * `<dir>` defaults to `<os.tmpdir()>/snakepit-<uid>` (mode 0700, and it must be ours: a directory another user
 * controls could feed us pids to kill). One file per host means hosts never contend for a lock; each file is
 * rewritten whole, atomically (write `<file>.<pid>.tmp`, rename it over), whenever a worker starts or exits, and
 * removed when the host closes. A write that fails (a full disk: ENOSPC) removes its temporary file and leaves
 * the last complete record in place; the next change tries again with the whole record. The sweep removes
 * temporary files whose writer is gone (a host killed mid-write). A host that exits without closing (it forgot `close()`, or called
 * `process.exit()`) kills the workers it still has on its way out (a process `exit` hook) and removes its record
 * too; only a host that dies (SIGKILL, a crash) leaves a record for the sweep.
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { killMarkedNow } from '../limits/containment.js';
import type { Logger } from '../util/logger.js';
import { isRunning, processFacts } from '../util/proc.js';

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
  /** The host's pid namespace (`pid:[4026531836]`; Linux): a sweep from another namespace leaves it alone. */
  pidNamespace?: string;
  workers: Record<string, WorkerRecord>;
}

/** This process's pid namespace, as /proc/self/ns/pid names it; undefined where there is none to read. */
export function ownPidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** The file operations an atomic write uses; a parameter so a test can make one of them fail. */
export interface WriteIo {
  openSync: typeof openSync;
  writeSync: (fd: number, data: Buffer, offset: number, length: number) => number;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
  unlinkSync: typeof unlinkSync;
}

const nodeIo: WriteIo = { openSync, writeSync, closeSync, renameSync, unlinkSync };

/**
 * Replace `file` with `text` atomically: write `tmp` whole, then rename it over `file`. Readers see the old
 * content or the new, never a part. On any failure (ENOSPC, EIO, …) `tmp` is removed and the error rethrown;
 * `file` is untouched.
 */
export function writeFileAtomically(file: string, tmp: string, text: string, io: WriteIo = nodeIo): void {
  const data = Buffer.from(text);
  let fd: number | undefined;
  try {
    fd = io.openSync(tmp, 'w', 0o600);
    for (let offset = 0; offset < data.length;)
      offset += io.writeSync(fd, data, offset, data.length - offset);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd);
      } catch {
        /* the error that matters is the first */
      }
    }
    try {
      io.unlinkSync(tmp);
    } catch {
      /* never created, or already gone */
    }
    throw err;
  }
}

const TEMPORARY = /^run-[\w-]+\.json\.(\d+)\.tmp$/;

/** Remove the temporary files in `dir` (listed in `names`) whose writer is no longer running. */
export function removeStaleTemporaryFiles(dir: string, names: string[]): void {
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match || isRunning(Number(match[1]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* another host removed it first */
    }
  }
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
  #closed = false;
  /** The last write failed (warned once per streak of failures). */
  #failing = false;

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
    const pidNamespace = ownPidNamespace();
    if (pidNamespace !== undefined) record.pidNamespace = pidNamespace;
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
    // And what they started elsewhere (other sessions, daemons): one pass, there is no later turn to wait for.
    const since = Number(this.#record.hostStartTime);
    killMarkedNow([
      Number.isFinite(since) ? { runId: this.#record.runId, since } : { runId: this.#record.runId },
    ]);
    this.close();
  }

  /** The host closed cleanly: nothing is left to sweep. */
  close(): void {
    openRegistries.delete(this);
    this.#closed = true;
    try {
      unlinkSync(this.#file);
    } catch {
      /* already gone */
    }
  }

  #write(): void {
    if (this.#closed) return;
    try {
      writeFileAtomically(this.#file, `${this.#file}.${process.pid}.tmp`, JSON.stringify(this.#record));
      if (this.#failing) this.#logger.info({}, `process registry: ${this.#file} is written again`);
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#logger.warn(
          {},
          `process registry: cannot write ${this.#file} (${(err as Error).message}); it keeps its last ` +
            'complete version, and the next change tries again',
        );
      }
      this.#failing = true;
    }
  }
}
