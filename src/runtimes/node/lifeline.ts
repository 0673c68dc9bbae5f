/**
 * A worker must not outlive its host (PROTOCOL.md §1.1), and nothing it started may outlive it (§1.2). Node has no
 * parent-death signal, so a lifeline thread watches instead: every 0.5 s, whether the parent pid changed and
 * whether the host's pid (SNAKEPIT_HOST_PID) still exists. It runs beside the main thread, so it sees the host go
 * even while a sync tool holds the main thread: it tells the main thread (which leaves with code 0), and if the
 * main thread has not left a second later, it stops what the worker started and SIGKILLs the process itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const WATCH_MS = 500;
const MAIN_GRACE_MS = 1_000;

/** Call `onGone` once when the host is gone. Off with SNAKEPIT_PARENT_WATCH=0. */
export function watchHost(onGone: (why: string) => void): void {
  if (process.env['SNAKEPIT_PARENT_WATCH'] === '0') return;
  const parent = process.ppid;
  const hostPid = Number(process.env['SNAKEPIT_HOST_PID']) || 0;
  const thread = new Worker(new URL('./lifeline-thread.js', import.meta.url), {
    workerData: { parent, hostPid },
    stdout: false,
    stderr: false,
    // (It costs about 9 MB of the worker's RSS: a V8 isolate. Heap limits do not shrink that: measured.)
  });
  thread.unref();
  thread.once('message', (why: string) => onGone(why));
  thread.on('error', (err) => {
    // Keep watching from the main thread: blind while a sync tool runs, but never blind for good.
    process.stderr.write(
      `snakepit node worker: lifeline thread failed (${err.message}); watching from the main thread\n`,
    );
    lifelineLoop(parent, hostPid, onGone, false);
  });
}

/** The lifeline thread's loop (lifeline-thread.ts runs it). */
/**
 * Check every WATCH_MS; tell once when the host is gone. In the thread (`armKill`), also SIGKILL the process
 * if the main thread has not left MAIN_GRACE_MS later.
 */
export function lifelineLoop(
  parent: number,
  hostPid: number,
  tell: (why: string) => void,
  armKill = true,
): void {
  const gone = (): string | undefined => {
    if (process.ppid !== parent) return `parent ${parent} is gone`;
    if (hostPid > 0 && !alive(hostPid)) return `host ${hostPid} is gone`;
    return undefined;
  };
  const check = (): void => {
    const why = gone();
    if (why === undefined) return;
    clearInterval(timer);
    tell(why);
    if (!armKill) return;
    setTimeout(() => {
      // The main thread is held (a sync tool) and has not left: leave from here.
      stopDescendants();
      process.kill(process.pid, 'SIGKILL');
    }, MAIN_GRACE_MS);
  };
  const timer = setInterval(check, WATCH_MS);
  if (!armKill) timer.unref(); // on the main thread the watch must not keep the process alive
  check(); // a host already gone at start-up is noticed at once
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function startTicks(stat: string): number {
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[19]);
}

/**
 * SIGKILL what this worker started: the other members of its process group (it leads one when the host spawned
 * it), and on Linux every process started after it whose environment carries its SNAKEPIT_RUN_ID and
 * SNAKEPIT_WORKER_ID (daemons that left the group).
 */
export function stopDescendants(): void {
  const me = process.pid;
  const run = process.env['SNAKEPIT_RUN_ID'];
  const worker = process.env['SNAKEPIT_WORKER_ID'];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return; // no /proc: the host ends the worker's process group when it sees the worker exit
  }
  let myStart = 0;
  try {
    myStart = startTicks(readFileSync(`/proc/${me}/stat`, 'utf8'));
  } catch {
    /* keep 0: compare against every process */
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === me) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgrp = Number(fields[2]);
      let mine = pgrp === me;
      if (!mine && run && worker && startTicks(stat) >= myStart) {
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        mine = env.includes(`SNAKEPIT_RUN_ID=${run}`) && env.includes(`SNAKEPIT_WORKER_ID=${worker}`);
      }
      if (mine) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
}
