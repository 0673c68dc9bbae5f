/**
 * cgroup v2 for `limits.memoryMb`, where the host may use one: each worker then runs in a cgroup of its own,
 * `<parent>/snakepit-<run>-<worker>`, whose `memory.max` caps the worker and everything it starts together
 * (subprocesses included, which rlimits cannot do), whose OOM kills the whole tree (`memory.oom.group`), and whose
 * `cgroup.procs` lists every descendant, scrubbed environment or not, for containment.
 *
 * Usable when a cgroup v2 directory has the memory controller enabled for its children (`cgroup.subtree_control`)
 * and we may create directories in it: `SNAKEPIT_CGROUP_PARENT` names one prepared for snakepit, else the host's
 * own cgroup is tried. cgroup v2 lets a cgroup either hold processes or hand controllers to children, not both, so
 * the host's own cgroup qualifies only at the root (e.g. a container run as root with its own cgroup namespace);
 * elsewhere prepare a delegated directory and name it (docs/RELIABILITY.md, "Limits"). When none is usable (cgroup
 * v1 machines, no delegation), the rlimits and the sampler enforce the limit alone; `snakepit doctor` says why.
 *
 * Every step that fails falls back to that quietly, with one warning: a cgroup is an extra, never a condition.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_PARENT_ENV = 'SNAKEPIT_CGROUP_PARENT';
const LEAF_PREFIX = 'snakepit-';
const MIB = 1024 * 1024;

export type CgroupProbe = { usable: true; parent: string } | { usable: false; reason: string };

/**
 * Where worker cgroups can be made, or why not. `root` prefixes every path read (tests use a fake tree); `env` is
 * where SNAKEPIT_CGROUP_PARENT is read.
 */
export function probeCgroup(root = '', env: NodeJS.ProcessEnv = process.env): CgroupProbe {
  if (process.platform !== 'linux')
    return { usable: false, reason: `cgroups are Linux only (${process.platform})` };
  let parent = env[CGROUP_PARENT_ENV];
  if (!parent) {
    const own = ownCgroupDir(root);
    if ('reason' in own) return { usable: false, reason: own.reason };
    parent = own.dir;
  } else {
    parent = root + parent;
  }
  const controllers = readText(join(parent, 'cgroup.controllers'));
  if (controllers === undefined) return { usable: false, reason: `${parent} is not a cgroup v2 directory` };
  const enabled = (readText(join(parent, 'cgroup.subtree_control')) ?? '').split(/\s+/);
  if (!enabled.includes('memory')) {
    return {
      usable: false,
      reason: controllers.split(/\s+/).includes('memory')
        ? `the memory controller is not enabled for the children of ${parent} (cgroup.subtree_control)`
        : `${parent} has no memory controller (cgroup v2 controllers: ${controllers.trim() || 'none'}; cgroup v1 ` +
          'may hold it)',
    };
  }
  try {
    const probe = join(parent, `${LEAF_PREFIX}probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (err) {
    return { usable: false, reason: `cannot create a cgroup in ${parent}: ${(err as Error).message}` };
  }
  return { usable: true, parent };
}

function ownCgroupDir(root: string): { dir: string } | { reason: string } {
  const self = readText(`${root}/proc/self/cgroup`);
  const line = self?.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) return { reason: 'this process is in no cgroup v2 hierarchy' };
  const path = line.slice(3).trim();
  // mountinfo: "id parent maj:min root mountpoint options [optional...] - fstype source super-options"
  for (const mount of (readText(`${root}/proc/self/mountinfo`) ?? '').split('\n')) {
    const [before, after] = mount.split(' - ');
    if (!after?.startsWith('cgroup2 ')) continue;
    const fields = before!.split(' ');
    const mountRoot = fields[3]!;
    if (path !== mountRoot && !path.startsWith(mountRoot === '/' ? '/' : `${mountRoot}/`)) continue;
    const dir = join(fields[4]!, path.slice(mountRoot === '/' ? 0 : mountRoot.length));
    return { dir: root + (dir.length > 1 ? dir.replace(/\/$/, '') : dir) };
  }
  return { reason: 'no cgroup v2 file system is mounted' };
}

/** One worker's cgroup. */
export class WorkerCgroup {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A worker cgroup that already exists (one a dead host left). */
  static at(dir: string): WorkerCgroup {
    return new WorkerCgroup(dir);
  }

  /** Make `<parent>/snakepit-<run>-<worker>` capped at `memoryMb`; throws when the kernel refuses a step. */
  static create(parent: string, runId: string, workerId: string, memoryMb: number): WorkerCgroup {
    const dir = join(parent, `${LEAF_PREFIX}${runId}-${workerId}`);
    mkdirSync(dir);
    const cgroup = new WorkerCgroup(dir);
    try {
      writeFileSync(join(dir, 'memory.max'), String(memoryMb * MIB));
      // A limit on memory, not an invitation to swap; and an OOM takes the whole tree, not one arbitrary member.
      writeOptional(join(dir, 'memory.swap.max'), '0');
      writeOptional(join(dir, 'memory.oom.group'), '1');
    } catch (err) {
      cgroup.remove();
      throw err;
    }
    return cgroup;
  }

  /** Move a process in (the worker, right after it was spawned: before it can start anything). */
  join(pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** Whether the kernel's OOM killer acted in this cgroup (memory.events `oom_kill`). */
  oomKilled(): boolean {
    const match = /^oom_kill (\d+)$/m.exec(readText(join(this.dir, 'memory.events')) ?? '');
    return match !== null && Number(match[1]) > 0;
  }

  /** SIGKILL every process still in it (`cgroup.kill`, or one by one on kernels before 5.14), then remove it. */
  end(): void {
    if (!writeOptional(join(this.dir, 'cgroup.kill'), '1')) {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    this.remove();
  }

  pids(): number[] {
    return (readText(join(this.dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number);
  }

  /** rmdir, retried for a while: the kernel refuses while the killed processes are still being reaped. */
  remove(attempt = 0): void {
    try {
      rmdirSync(this.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || attempt >= 20) return;
      setTimeout(() => this.remove(attempt + 1), 50).unref();
    }
  }
}

let probed: CgroupProbe | undefined;

/** The probe of this process, made once (it creates and removes a directory). */
export function cgroupProbe(): CgroupProbe {
  return (probed ??= probeCgroup());
}

/** A cgroup for a worker capped at `memoryMb` when one can be made; undefined otherwise (rlimits apply alone). */
export function workerCgroup(runId: string, workerId: string, memoryMb: number): WorkerCgroup | undefined {
  const probe = cgroupProbe();
  if (!probe.usable) return undefined;
  try {
    return WorkerCgroup.create(probe.parent, runId, workerId, memoryMb);
  } catch {
    return undefined;
  }
}

/** End and remove the worker cgroups of `runIds` (hosts that died) under `parent`. */
export function endCgroupsOfRuns(parent: string, runIds: readonly string[]): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (runIds.some((run) => name.startsWith(`${LEAF_PREFIX}${run}-`))) {
      WorkerCgroup.at(join(parent, name)).end();
    }
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Write when the file exists (a controller file of this kernel); true when written. */
function writeOptional(file: string, value: string): boolean {
  if (!existsSync(file)) return false;
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}
