/**
 * The orphan sweep, run by `Snakepit.start`: find the workers, and everything the workers started, that hosts which
 * died without cleaning up left behind, and stop them — SIGTERM, then SIGKILL after a grace period.
 *
 * Nothing is matched by a broad process name. A process is signalled only when its host's record is in the
 * registry directory, that host is dead (its pid is gone, or now belongs to a process that started at another
 * time) and it ran in our pid namespace, and one of these holds:
 * - it is a recorded worker: same pid, same start time, and a command line that contains `snakepit_bridge` and
 *   `--run-id <that run>` — then its whole process group goes;
 * - it is in the process group of a recorded worker that is itself gone, and its environment carries
 *   `SNAKEPIT_RUN_ID=<that run>` (Linux; the pid of a group's leader cannot be reused while the group has members);
 * - it started after that host and its environment carries `SNAKEPIT_RUN_ID=<that run>`, wherever it is: a worker's
 *   child in a new session, a daemon it double-forked (Linux; src/limits/containment.ts). The run id is random
 *   per host, so only the descendants of that host's workers carry it.
 *
 * Records of live hosts (other programs using snakepit right now) are never touched, nor are those hosts
 * themselves. Temporary files a dead host left mid-write are removed, and so are its shared-memory segments
 * (`/dev/shm/snakepit-<run id>-*`).
 */
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupProbe, endCgroupsOfRuns } from '../limits/cgroup.js';
import { removeSegments, runPrefix } from '../shm/segment-names.js';
import { findMarked, type TreeMarker } from '../limits/containment.js';
import type { Logger } from '../util/logger.js';
import { isRunning, processFacts, processTable, type ProcessFacts } from '../util/proc.js';
import { ownPidNamespace, removeStaleTemporaryFiles, type RunRecord } from './process-registry.js';

const POLL_MS = 25;

export interface SweepOptions {
  logger: Logger;
  /** This host's own run id (never swept). */
  ownRunId?: string;
  /** Between SIGTERM and SIGKILL. Default 1,000 ms. */
  graceMs?: number;
}

export interface SweepResult {
  /** Run ids of dead hosts whose records were swept. */
  runs: string[];
  /** Pids signalled. */
  pids: number[];
  /** Pids that needed SIGKILL. */
  killed: number[];
}

interface Target {
  pid: number;
  /** Signal the whole group (a verified worker leads it). */
  group: boolean;
}

/** Sweep `dir`; never throws (problems are logged). */
export async function sweepOrphans(dir: string, options: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { runs: [], pids: [], killed: [] };
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return result;
  }
  removeStaleTemporaryFiles(dir, files);
  let table: Map<number, ProcessFacts> | undefined;
  const targets: Target[] = [];
  const deadFiles: string[] = [];
  const markers: TreeMarker[] = [];
  const liveHosts = new Set<number>();
  const namespace = ownPidNamespace();
  for (const name of files.filter((f) => /^run-[\w-]+\.json$/.test(f))) {
    const file = join(dir, name);
    const record = readRecord(file);
    if (!record) {
      options.logger.warn({}, `process registry: ignoring unreadable record ${file}`);
      continue;
    }
    // Another pid namespace (a container sharing the directory): its pids are not ours to judge.
    const foreign = record.pidNamespace !== undefined && record.pidNamespace !== namespace;
    if (record.runId === options.ownRunId || foreign || hostAlive(record)) {
      if (!foreign) liveHosts.add(record.hostPid);
      continue;
    }
    table ??= processTable();
    targets.push(...targetsOf(record, table));
    const since = Number(record.hostStartTime);
    markers.push(Number.isFinite(since) ? { runId: record.runId, since } : { runId: record.runId });
    deadFiles.push(file);
    result.runs.push(record.runId);
  }
  const marked = (): Target[] => findMarked(markers, liveHosts).map((pid) => ({ pid, group: false }));
  addNew(targets, marked());
  if (targets.length > 0) {
    options.logger.warn(
      {},
      `orphan sweep: the host of run ${result.runs.join(', run ')} died without stopping its workers; ` +
        `stopping ${targets.length} process(es) left behind: ${targets.map((t) => t.pid).join(', ')}`,
    );
    for (const t of targets) signal(t, 'SIGTERM');
    const left = await waitGone(
      targets.map((t) => t.pid),
      options.graceMs ?? 1_000,
    );
    // What ignored SIGTERM, and what forked while we waited, gets SIGKILL.
    const forked = addNew(targets, marked());
    const stubborn = [...left, ...forked.map((t) => t.pid)];
    for (const t of targets) if (stubborn.includes(t.pid)) signal(t, 'SIGKILL');
    result.pids = targets.map((t) => t.pid);
    result.killed = stubborn;
    await waitGone(stubborn, 1_000);
  }
  const cgroups = result.runs.length > 0 ? cgroupProbe() : undefined;
  if (cgroups?.usable) endCgroupsOfRuns(cgroups.parent, result.runs);
  // Shared-memory segments of the dead runs (their workers remove their own when they see the host gone; this
  // covers workers that were killed too, src/shm/segment-names.ts).
  for (const runId of result.runs) removeSegments(runPrefix(runId));
  for (const file of deadFiles) {
    try {
      unlinkSync(file);
    } catch {
      /* another host swept it first */
    }
  }
  return result;
}

/** Add the targets not already in `targets`; returns those. */
function addNew(targets: Target[], more: Target[]): Target[] {
  const known = new Set(targets.map((t) => t.pid));
  const added = more.filter((t) => !known.has(t.pid));
  targets.push(...added);
  return added;
}

function readRecord(file: string): RunRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    if (typeof record.runId !== 'string' || typeof record.hostPid !== 'number') return undefined;
    if (record.workers === null || typeof record.workers !== 'object') return undefined;
    return record;
  } catch {
    return undefined;
  }
}

function hostAlive(record: RunRecord): boolean {
  const host = processFacts(record.hostPid);
  if (!host || host.zombie) return false;
  return record.hostStartTime === undefined || host.startTime === record.hostStartTime;
}

function targetsOf(record: RunRecord, table: Map<number, ProcessFacts>): Target[] {
  const targets: Target[] = [];
  const marker = `SNAKEPIT_RUN_ID=${record.runId}`;
  for (const worker of Object.values(record.workers)) {
    if (!worker || typeof worker.pid !== 'number') continue;
    const leader = table.get(worker.pid);
    const leaderGone = !leader || leader.zombie;
    const verified =
      !leaderGone &&
      leader.cmdline.includes('snakepit_bridge') &&
      leader.cmdline.includes(`--run-id ${record.runId}`) &&
      (worker.startTime === undefined || leader.startTime === worker.startTime);
    if (!verified && !leaderGone) continue; // the pid belongs to someone else now
    if (verified) targets.push({ pid: worker.pid, group: leader.pgid === worker.pid });
    // The group's other members: the adapter's own subprocesses. Tracked one by one, so one that survives
    // SIGTERM still gets SIGKILL.
    for (const member of table.values()) {
      if (member.pgid !== worker.pid || member.pid === worker.pid || member.zombie) continue;
      if (verified || environHas(member.pid, marker)) targets.push({ pid: member.pid, group: false });
    }
  }
  return targets;
}

function environHas(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
  } catch {
    return false;
  }
}

function signal(target: Target, sig: NodeJS.Signals): void {
  try {
    process.kill(target.group ? -target.pid : target.pid, sig);
  } catch {
    try {
      process.kill(target.pid, sig);
    } catch {
      /* gone */
    }
  }
}

/** Wait until none of `pids` runs, or `ms` passed; returns the ones still running. */
async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(isRunning);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = left.filter(isRunning);
  }
  return left;
}
