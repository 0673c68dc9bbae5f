/**
 * Crash classification: reads why a worker process ended from its exit status, as one of the exit kinds in
 * errors/exit-kind.ts (the crash barrier's vocabulary).
 *
 * The host knows when it killed a worker itself (and why); everything else is read from the exit status. A
 * SIGKILL the host did not send is called an OOM kill when the memory cgroup's `oom_kill` counter moved while the
 * worker lived (the kernel's OOM killer sends SIGKILL), and `killed` otherwise.
 */
import { readFileSync } from 'node:fs';
import type { HostKillKind, WorkerExitKind } from '../errors/exit-kind.js';
import type { ExitInfo } from './worker-link.js';

const CRASH_SIGNALS: ReadonlySet<string> = new Set([
  'SIGSEGV',
  'SIGABRT',
  'SIGBUS',
  'SIGILL',
  'SIGFPE',
  'SIGSYS',
  'SIGTRAP',
]);

export interface ExitFacts {
  exit: ExitInfo;
  /** The host asked it to stop (close, recycle). */
  stopping: boolean;
  /** It never became ready. */
  starting: boolean;
  /** Set when the host killed it, with the reason kind. */
  hostKill: HostKillKind | undefined;
  /** The OOM-kill counter of the memory cgroup moved while the worker lived (undefined: unknown). */
  oomKillsDuringLife: number | undefined;
}

export function classifyExit(facts: ExitFacts): WorkerExitKind {
  if (facts.hostKill) return facts.hostKill;
  if (facts.starting) return 'start_failed';
  if (facts.stopping) return 'stopped';
  if (facts.exit.lost !== undefined) return 'connection_lost';
  const { code, signal } = facts.exit;
  if (signal) {
    if (CRASH_SIGNALS.has(signal)) return 'crash_signal';
    if (signal === 'SIGKILL' && (facts.exit.oomKilled || (facts.oomKillsDuringLife ?? 0) > 0))
      return 'oom_kill';
    return 'killed';
  }
  return code === 0 ? 'clean_exit' : 'error_exit';
}

let cgroupEventsFile: string | null | undefined;

/**
 * The OOM-kill counter of this process's memory cgroup (workers share the host's cgroup unless the user moved
 * them), or undefined where it cannot be read (not Linux, no memory controller, no permission).
 */
export function oomKillCount(): number | undefined {
  if (cgroupEventsFile === undefined) cgroupEventsFile = findCgroupEventsFile();
  if (cgroupEventsFile === null) return undefined;
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(cgroupEventsFile, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function findCgroupEventsFile(): string | null {
  if (process.platform !== 'linux') return null;
  let cgroups: string;
  try {
    cgroups = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return null;
  }
  const candidates: string[] = [];
  for (const line of cgroups.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controllers === '') candidates.push(`/sys/fs/cgroup${path}/memory.events`); // v2
    if (controllers?.split(',').includes('memory')) {
      candidates.push(`/sys/fs/cgroup/memory${path}/memory.oom_control`); // v1
      candidates.push('/sys/fs/cgroup/memory/memory.oom_control'); // v1 inside a cgroup namespace
    }
  }
  candidates.push('/sys/fs/cgroup/memory.events');
  for (const file of candidates) {
    try {
      if (/^oom_kill \d+$/m.test(readFileSync(file, 'utf8'))) return file;
    } catch {
      /* try the next */
    }
  }
  return null;
}
