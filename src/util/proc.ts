/**
 * Facts about processes, by pid: from /proc on Linux, from `ps` elsewhere. Used to sample worker memory and to
 * recognise (never guess) the processes of a dead host before signalling them.
 *
 * Every function answers `undefined` for a process that does not exist or cannot be read, rather than throwing:
 * processes come and go while we look.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

const LINUX = process.platform === 'linux';

export interface ProcessFacts {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** When the process started, as an opaque token (clock ticks since boot on Linux): pid reuse changes it. */
  startTime: string;
  zombie: boolean;
  /** The command line, arguments joined by single spaces. */
  cmdline: string;
}

/** Resident set size of a process in bytes (Linux `VmRSS`); undefined elsewhere or when it is gone. */
export function readRssBytes(pid: number): number | undefined {
  if (!LINUX) return undefined;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** A process's resident memory by kind, in bytes (Linux `/proc/<pid>/status`). */
export interface ResidentMemory {
  /** VmRSS: all of it. */
  rss: number;
  /** RssAnon: private memory (heap, arrays, stacks): what a memory limit is about. */
  anon: number;
  /** RssFile: pages of mapped files, mostly the code of the interpreter and its libraries (clean, reclaimable). */
  file: number;
  /** RssShmem: shared memory (shared anonymous mappings, /dev/shm, memfd). */
  shmem: number;
}

const MEMORY_FIELDS = /^(VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+) kB$/gm;

/** The resident memory of a process by kind; undefined elsewhere than Linux or when it is gone. */
export function readResidentMemory(pid: number): ResidentMemory | undefined {
  if (!LINUX) return undefined;
  const status = readProcText(pid, 'status');
  if (status === undefined) return undefined;
  const fields = new Map<string, number>();
  for (const match of status.matchAll(MEMORY_FIELDS)) fields.set(match[1]!, Number(match[2]) * 1024);
  const kb = (field: string): number | undefined => fields.get(field);
  const rss = kb('VmRSS');
  if (rss === undefined) return undefined; // a zombie has no memory left to report
  return { rss, anon: kb('RssAnon') ?? rss, file: kb('RssFile') ?? 0, shmem: kb('RssShmem') ?? 0 };
}

let pageSize: number | undefined;

/**
 * Resident set size in bytes from `/proc/<pid>/statm` (Linux): a third of the cost of `status`, for readers that
 * look often (the memory sampler) and need the split of `readResidentMemory` only past a threshold.
 */
export function readResidentBytes(pid: number): number | undefined {
  if (!LINUX) return undefined;
  const pages = Number(readProcText(pid, 'statm')?.split(' ')[1]);
  if (!Number.isFinite(pages)) return undefined;
  pageSize ??= measurePageSize();
  return pages * pageSize;
}

/** The kernel's page size: our own VmRSS over our own resident pages, rounded to a power of two. */
function measurePageSize(): number {
  const rss = readResidentMemory(process.pid)?.rss;
  const pages = Number(readProcText(process.pid, 'statm')?.split(' ')[1]);
  if (!rss || !pages) return 4096;
  return 2 ** Math.round(Math.log2(rss / pages));
}

/** Facts about one process, or undefined when it does not exist. */
export function processFacts(pid: number): ProcessFacts | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (LINUX) return linuxFacts(pid);
  return psTable(['-p', String(pid)]).get(pid);
}

/** Every process we can see, keyed by pid. */
export function processTable(): Map<number, ProcessFacts> {
  if (!LINUX) return psTable(['-A']);
  const table = new Map<number, ProcessFacts>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const facts = linuxFacts(Number(entry));
    if (facts) table.set(facts.pid, facts);
  }
  return table;
}

/** True while the process exists and is not a zombie (a zombie has exited; only its exit status is left). */
export function isRunning(pid: number): boolean {
  const facts = processFacts(pid);
  return facts !== undefined && !facts.zombie;
}

function linuxFacts(pid: number): ProcessFacts | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ..." — comm may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      startTime: fields[19] ?? '',
      zombie: fields[0] === 'Z' || fields[0] === 'X',
      cmdline,
    };
  } catch {
    return undefined;
  }
}

function psTable(select: string[]): Map<number, ProcessFacts> {
  const table = new Map<number, ProcessFacts>();
  let out: string;
  try {
    out = execFileSync('ps', [...select, '-o', 'pid=,ppid=,pgid=,stat=,lstart=,command='], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch {
    return table; // ps exits 1 when no process matched
  }
  // lstart is five words, e.g. "Mon Jan  1 12:00:00 2024".
  const line = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+\s+\S+\s+\d+\s+[\d:]+\s+\d+)\s+(.*)$/;
  for (const row of out.split('\n')) {
    const m = line.exec(row);
    if (!m) continue;
    const pid = Number(m[1]);
    table.set(pid, {
      pid,
      ppid: Number(m[2]),
      pgid: Number(m[3]),
      zombie: m[4]!.startsWith('Z'),
      startTime: m[5]!.replace(/\s+/g, ' '),
      cmdline: m[6]!,
    });
  }
  return table;
}

let buffer = Buffer.alloc(16 * 1024);
const MAX_READ = 4 * 1024 * 1024;

/**
 * `/proc/<pid>/<name>`, whole, as latin1 (environ may hold any bytes), or undefined when it cannot be read. open +
 * read + close into one reused buffer: about a third of `readFileSync`'s cost, which matters on a VM where each
 * system call is slow and these are read many times (the memory sampler, containment scans).
 */
export function readProcText(pid: number, name: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/${name}`, 'r');
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) {
        if (length >= MAX_READ) break; // an environment this large: its first MAX_READ bytes
        const bigger = Buffer.alloc(buffer.length * 2);
        buffer.copy(bigger);
        buffer = bigger;
      }
    }
    return buffer.toString('latin1', 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
