/**
 * Process-tree containment: find and end everything a worker started, wherever it went.
 *
 * The marker. Every worker runs with `SNAKEPIT_RUN_ID=<run>` and `SNAKEPIT_WORKER_ID=<worker>` in its environment,
 * and every process it starts inherits them — in a new session (`start_new_session=True`), in its own process
 * group, double-forked into a daemon, however deep. `/proc/<pid>/environ` shows the environment a process was
 * started with, so the host finds a worker's descendants even after the worker itself is gone, which parent links
 * cannot do (orphans are re-parented to init) and a process group cannot either (a new session leaves it).
 *
 * Why not a subreaper: `PR_SET_CHILD_SUBREAPER` in the worker keeps orphans under the worker only while the worker
 * lives — a worker that crashes or is killed hands them to init, the cases that matter — and makes the worker
 * reap zombies it did not start. A cgroup holds a tree for good, but needs one the host may write (rare without
 * root; see cgroup.ts). The marker works without privileges, survives the worker and the host, and costs one
 * scan of /proc when a worker ends.
 *
 * What the marker cannot see (docs/RELIABILITY.md, "Limits"): a process started with a scrubbed environment
 * (`env={}`, `env -i`) or by a setuid program, and, without root, processes of other users. A process found by
 * the marker is always a descendant of a worker of that run: nothing else carries the run's random id.
 *
 * Scans are cheap but not free on a VM (~50 µs per process read): requests that arrive together share one pass
 * over /proc, only processes started after the worker (or host) are read beyond their `stat`, and a worker's end
 * is scanned in slices, the event loop free between them.
 */
import { readdirSync } from 'node:fs';
import { readProcText } from '../util/proc.js';
import { trace } from '../util/trace.js';

const LINUX = process.platform === 'linux';

/** Which processes belong to a worker (`workerId` set) or to every worker of a run. */
export interface TreeMarker {
  runId: string;
  workerId?: string;
  /** Start time (clock ticks since boot, /proc/<pid>/stat field 22) of the worker or host: nothing older is its. */
  since?: number;
}

/** Rounds after the first, while a round still found someone (a process that forked between scan and kill). */
const ROUND_DELAYS_MS = [20, 50, 100, 200, 400, 800];

/** The marker of the worker whose environment is `env`, or undefined when it carries none. */
export function markerOf(env: NodeJS.ProcessEnv, since: number | undefined): TreeMarker | undefined {
  const runId = env['SNAKEPIT_RUN_ID'];
  const workerId = env['SNAKEPIT_WORKER_ID'];
  if (!runId || !workerId) return undefined;
  return since === undefined ? { runId, workerId } : { runId, workerId, since };
}

/** A process's start time in clock ticks since boot; undefined when it is gone or not on Linux. */
export function startTicks(pid: number): number | undefined {
  if (!LINUX) return undefined;
  const stat = readProcText(pid, 'stat');
  return stat === undefined ? undefined : parseStat(stat)?.start;
}

/** Pids of live processes (not in `exclude`, never this one) carrying one of the markers. */
export function findMarked(
  markers: readonly TreeMarker[],
  exclude: ReadonlySet<number> = new Set(),
): number[] {
  const scan = new Scan(markers, exclude);
  scan.check(scan.entries.length);
  return scan.found;
}

/** One pass over /proc, which may be taken in slices (`check(n)`: the next `n` entries). */
class Scan {
  readonly entries: string[];
  readonly found: number[] = [];
  #next = 0;
  readonly #oldest: number;

  constructor(
    readonly markers: readonly TreeMarker[],
    readonly exclude: ReadonlySet<number>,
  ) {
    this.#oldest = Math.min(...markers.map((m) => m.since ?? 0));
    let entries: string[] = [];
    if (LINUX && markers.length > 0) {
      try {
        entries = readdirSync('/proc');
      } catch {
        /* no /proc: nothing to find */
      }
    }
    this.entries = entries;
  }

  get done(): boolean {
    return this.#next >= this.entries.length;
  }

  /** Look at the next `count` entries; returns the pids found among them. */
  check(count: number): number[] {
    const end = Math.min(this.#next + count, this.entries.length);
    const found: number[] = [];
    for (; this.#next < end; this.#next++) {
      const entry = this.entries[this.#next]!;
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue; // not a pid
      const pid = Number(entry);
      if (pid === process.pid || this.exclude.has(pid)) continue;
      const stat = readProcText(pid, 'stat');
      const facts = stat === undefined ? undefined : parseStat(stat);
      if (!facts || facts.zombie || facts.start < this.#oldest) continue;
      const environ = readProcText(pid, 'environ');
      if (environ !== undefined && this.markers.some((m) => carries(environ, m, facts.start)))
        found.push(pid);
    }
    this.found.push(...found);
    return found;
  }
}

/** SIGKILL every process carrying one of the markers, once, now (for `exit` hooks); returns the pids signalled. */
export function killMarkedNow(markers: readonly TreeMarker[], exclude?: ReadonlySet<number>): number[] {
  const pids = findMarked(markers, exclude);
  for (const pid of pids) kill(pid, 'SIGKILL');
  return pids;
}

let pending: TreeMarker[] = [];
let scheduled = false;

/**
 * End a worker's tree: SIGKILL every process carrying its marker, then look again a few times while a look still
 * finds someone (a process that forked between the scan and the kill). Markers asked for in the same turn of the
 * event loop (a pool closing) share each pass over /proc. Fire and forget; never throws.
 */
export function endTree(marker: TreeMarker): void {
  if (!LINUX) return;
  pending.push(marker);
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    const markers = pending;
    pending = [];
    scheduled = false;
    killRounds(markers, 0);
  });
}

/**
 * Entries of /proc read between two turns of the event loop: ~0.5 ms on our VM (~1.5 ms under load), so a scan
 * never stalls calls, nor the handshake of the worker replacing the one whose end is scanned for.
 */
const SLICE = 8;

function killRounds(markers: TreeMarker[], round: number): void {
  const scan = new Scan(markers, new Set());
  const step = (): void => {
    for (const pid of scan.check(SLICE)) kill(pid, 'SIGKILL');
    if (!scan.done) {
      setImmediate(step).unref();
      return;
    }
    if (scan.found.length > 0) {
      trace(
        'worker',
        `contained ${scan.found.length} process(es) of ${describe(markers)}: ${scan.found.join(', ')}`,
      );
    }
    const delay = ROUND_DELAYS_MS[round];
    if ((scan.found.length === 0 && round > 0) || delay === undefined) return;
    setTimeout(() => killRounds(markers, round + 1), delay).unref();
  };
  step();
}

function describe(markers: TreeMarker[]): string {
  return markers.map((m) => (m.workerId ? `worker ${m.workerId}` : `run ${m.runId}`)).join(', ');
}

function carries(environ: string, marker: TreeMarker, start: number): boolean {
  if (marker.since !== undefined && start < marker.since) return false;
  // environ is NUL-separated `NAME=value` entries; match whole entries only.
  const text = `\0${environ}`;
  if (!text.includes(`\0SNAKEPIT_RUN_ID=${marker.runId}\0`)) return false;
  return marker.workerId === undefined || text.includes(`\0SNAKEPIT_WORKER_ID=${marker.workerId}\0`);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone meanwhile */
  }
}

interface StatFacts {
  start: number;
  zombie: boolean;
}

function parseStat(stat: string): StatFacts | undefined {
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  if (!Number.isFinite(start)) return undefined;
  return { start, zombie: fields[0] === 'Z' || fields[0] === 'X' };
}
