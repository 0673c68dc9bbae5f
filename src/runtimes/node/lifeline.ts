/**
 * A worker must not outlive its host (PROTOCOL.md §1.1), and nothing it started may outlive it (§1.2). Node has no
 * parent-death signal, so this watches instead: every 0.5 s, whether the parent pid changed and whether the host's
 * pid (SNAKEPIT_HOST_PID) still exists.
 */
import { readdirSync, readFileSync } from 'node:fs';

const WATCH_MS = 500;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Call `onGone` once when the host is gone. Returns a stop function. Off with SNAKEPIT_PARENT_WATCH=0. */
export function watchHost(onGone: (why: string) => void): () => void {
  if (process.env['SNAKEPIT_PARENT_WATCH'] === '0') return () => {};
  const parent = process.ppid;
  const hostPid = Number(process.env['SNAKEPIT_HOST_PID']);
  const check = (): boolean => {
    if (process.ppid !== parent) onGone(`parent ${parent} is gone`);
    else if (Number.isInteger(hostPid) && hostPid > 0 && !alive(hostPid)) onGone(`host ${hostPid} is gone`);
    else return false;
    return true;
  };
  if (check()) return () => {};
  const timer = setInterval(check, WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
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
