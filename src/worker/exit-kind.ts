/**
 * Crash classification: why a worker process ended, as one word (the crash barrier's vocabulary).
 *
 * The host knows when it killed a worker itself (and why); everything else is read from the exit status. A
 * SIGKILL the host did not send is called an OOM kill when the memory cgroup's `oom_kill` counter moved while the
 * worker lived (the kernel's OOM killer sends SIGKILL), and `killed` otherwise.
 */
import { readFileSync } from 'node:fs';
import type { ExitInfo } from './worker-process.js';

/**
 * - `stopped`: the host stopped it on purpose (close, recycling).
 * - `clean_exit`: it exited with code 0 on its own (`sys.exit()` in a tool, a host it thought gone).
 * - `error_exit`: it exited with a non-zero code on its own (`sys.exit(3)`, `os._exit(1)`, a failed start).
 * - `crash_signal`: a crash signal (SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGTRAP): a fault in C code.
 * - `oom_kill`: SIGKILL from the kernel's out-of-memory killer, or from the host for memory past `limits.memoryMb`.
 * - `killed`: another signal the host did not send (someone ran `kill -9`).
 * - `timeout_kill`: the host killed it because a cancelled call (timeout, abort) did not stop in time.
 * - `hang_kill`: the host killed it because it stopped answering heartbeats (stuck in C code holding the GIL).
 * - `protocol_kill`: the host killed it because it broke the protocol (garbage or an oversized frame).
 * - `start_failed`: it never became ready (import error, start-up timeout, missing interpreter).
 * - `connection_lost`: a remote worker's connection failed or was cut (its process may still run over there).
 */
export type WorkerExitKind =
  | 'stopped'
  | 'clean_exit'
  | 'error_exit'
  | 'crash_signal'
  | 'oom_kill'
  | 'killed'
  | 'timeout_kill'
  | 'hang_kill'
  | 'protocol_kill'
  | 'start_failed'
  | 'connection_lost';

/** The kinds of kill the host itself decides on. */
export type HostKillKind = 'timeout_kill' | 'hang_kill' | 'protocol_kill' | 'connection_lost' | 'oom_kill';

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

/** A short phrase for messages: "a crash signal", "the OOM killer", … */
export function describeExitKind(kind: WorkerExitKind): string {
  switch (kind) {
    case 'stopped':
      return 'stopped by the host';
    case 'clean_exit':
      return 'exited on its own (code 0)';
    case 'error_exit':
      return 'exited on its own with an error code';
    case 'crash_signal':
      return 'crashed (a fault in native code)';
    case 'oom_kill':
      return 'killed for using too much memory';
    case 'killed':
      return 'killed by a signal the host did not send';
    case 'timeout_kill':
      return 'killed by the host: a cancelled call did not stop in time';
    case 'hang_kill':
      return 'killed by the host: it stopped answering heartbeats';
    case 'protocol_kill':
      return 'killed by the host: it broke the protocol';
    case 'start_failed':
      return 'failed to start';
    case 'connection_lost':
      return 'lost its connection (remote worker)';
  }
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
