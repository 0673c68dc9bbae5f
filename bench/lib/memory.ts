/**
 * Memory of a process tree, as Linux accounts it (/proc/<pid>/smaps_rollup): PSS (each shared page divided among
 * the processes sharing it) and USS (pages only this process maps: what ending it would free). RSS counts every
 * shared page in full in every process, so it overstates what a forked worker costs.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeMemory {
  pssMb: number;
  ussMb: number;
  processes: number;
}

/** PSS and USS summed over every descendant of `root` (not `root` itself); undefined where /proc is missing. */
export function descendantsMemory(root: number = process.pid): TreeMemory | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const parent = new Map<number, number>();
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) {
      if (p === root) return true;
    }
    return false;
  };
  const total: TreeMemory = { pssMb: 0, ussMb: 0, processes: 0 };
  for (const pid of parent.keys()) {
    if (!isDescendant(pid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = (name: string): number =>
        Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
      total.pssMb += kb('Pss') / 1024;
      total.ussMb += (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
      total.processes++;
    } catch {
      /* gone, or not ours to read */
    }
  }
  return total;
}
