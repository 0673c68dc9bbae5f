/**
 * ForkedWorker: the link of a worker forked by its pool's template (template.ts). The same pipe and exit as a spawned
 * process (WorkerProcess), reached differently:
 *
 *   new ─► fork request ─► template forks ─► pid known ─► the host connects the channel, stdout and stderr to the
 *          socket the template made for this worker (one byte each says which) ─► handshake, as any worker
 *   new ─► claims the template's spare (pid known) ─► writes which worker it is to be to `<its socket>.claim`, then
 *          connects at once to the socket the spare listens at: channel, stdout, stderr, in that order, untagged
 *          (the spare takes them in the order they were made, without waiting for a first byte) ─► handshake
 *
 * A claim that cannot connect (the spare died a moment ago) counts as a fork that failed: the pool starts another.
 * The channel is a socket from the start (writes wait until it connects), so the handle above it does not know the
 * difference. The template reaps the worker and reports its exit status; if the template is gone first, the exit
 * status is lost and the link watches the pid instead. Stopping, containment (process group, marker, cgroup) and
 * the output drain are those of a spawned worker.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { WorkerCgroup } from '../limits/cgroup.js';
import { endTree, startTicks, type TreeMarker } from '../limits/containment.js';
import { readProcText } from '../util/proc.js';
import { captureLines } from './output-lines.js';
import { type ExitInfo, type OutputStream, stopInSteps, type WorkerLink } from './worker-link.js';
import { OUTPUT_DRAIN_MS } from './worker-process.js';

/** Polling for the end of a worker whose template is gone. */
const ORPHAN_POLL_MS = 50;

export interface ForkedWorkerOptions {
  workerId: string;
  runId: string;
  onLine(stream: OutputStream, line: string): void;
  /** The socket path the template listens at for this worker. */
  listen: string;
  /** A path the worker opens its ledger by (the host's open file, through /proc). */
  ledger: string | undefined;
  cgroup: WorkerCgroup | undefined;
  fork(request: { worker: string; listen: string; ledger: string | undefined }): Promise<number>;
  /** The template's spare to claim instead of asking for a fork: its pid and the socket it listens at. */
  claimed?: { pid: number; listen: string } | undefined;
  /** The template could not fork this worker (it died, hung or refused): the pool starts one cold instead. */
  onForkFailed(): void;
}

export class ForkedWorker implements WorkerLink {
  readonly channel = new Socket();
  readonly #stdout = new Socket();
  readonly #stderr = new Socket();
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  /** Resolves with the pid once forked (a claimed spare: once connected), undefined when the fork failed. */
  readonly forked: Promise<number | undefined>;
  #claimSettled: ((pid: number | undefined) => void) | undefined;
  #pid: number | undefined;
  #marker: TreeMarker | undefined;
  #cgroup: WorkerCgroup | undefined;
  /** A signal asked for before the pid was known. */
  #pendingSignal: NodeJS.Signals | undefined;
  #resolveExit!: (info: ExitInfo) => void;
  #orphanTimer: NodeJS.Timeout | undefined;
  #startTicks: number | undefined;
  readonly #stderrTail: string[] = [];
  readonly #options: ForkedWorkerOptions;

  constructor(options: ForkedWorkerOptions) {
    this.#options = options;
    this.#cgroup = options.cgroup;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    captureLines(this.#stdout, 'stdout', this.#stderrTail, options.onLine);
    captureLines(this.#stderr, 'stderr', this.#stderrTail, options.onLine);
    const claimed = options.claimed;
    if (claimed) {
      this.forked = new Promise((resolve) => (this.#claimSettled = resolve));
      this.#onForked(claimed.pid, claimed);
      return;
    }
    this.forked = options
      .fork({ worker: options.workerId, listen: options.listen, ledger: options.ledger })
      .then(
        (pid) => {
          this.#onForked(pid, undefined);
          return pid;
        },
        (err: Error) => {
          this.#forkFailed(err);
          return undefined;
        },
      );
  }

  #forkFailed(err: Error): void {
    this.#options.onForkFailed();
    this.#exit({ code: null, signal: null, spawnError: err });
    this.channel.destroy();
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  get label(): string {
    return `pid ${this.#pid ?? '?'} (forked)`;
  }

  stderrTail(): string[] {
    return [...this.#stderrTail];
  }

  /** The template reaped it. */
  reportExit(code: number | null, signal: number | null): void {
    const name = signal === null ? null : signalName(signal);
    this.#exit({ code, signal: name });
  }

  /**
   * The template is gone (or its report is late: it may be stopped or busy): watch the pid, and read the exit
   * status from the zombie's /proc entry while it is one.
   */
  orphaned(): void {
    if (this.exitInfo || this.#pid === undefined || this.#orphanTimer) return;
    const pid = this.#pid;
    this.#orphanTimer = setInterval(() => {
      const ended = endedStatus(pid, this.#startTicks);
      if (ended) this.#exit(ended);
    }, ORPHAN_POLL_MS);
    this.#orphanTimer.unref();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo) return;
    const pid = this.#pid;
    if (pid === undefined) {
      this.#pendingSignal = signal;
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  setRef(ref: boolean): void {
    for (const s of [this.channel, this.#stdout, this.#stderr]) {
      if (ref) s.ref();
      else s.unref();
    }
    if (this.#orphanTimer) {
      if (ref) this.#orphanTimer.ref();
      else this.#orphanTimer.unref();
    }
  }

  stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    return stopInSteps(this, graceMs, ask);
  }

  #onForked(pid: number, claimed: { listen: string } | undefined): void {
    this.#pid = pid;
    this.#startTicks = startTicks(pid);
    this.#marker = {
      runId: this.#options.runId,
      workerId: this.#options.workerId,
      ...(this.#startTicks === undefined ? {} : { since: this.#startTicks }),
    };
    if (this.#cgroup) {
      try {
        this.#cgroup.join(pid);
      } catch {
        this.#cgroup.end(); // the rlimits still apply
        this.#cgroup = undefined;
      }
    }
    if (this.#pendingSignal) {
      this.signal(this.#pendingSignal);
      if (this.#pendingSignal === 'SIGKILL') return;
    }
    if (claimed) return this.#claim(claimed.listen);
    // The worker takes three connections; the first byte of each says which it is.
    const connect = (socket: Socket, tag: string): void => {
      socket.connect(this.#options.listen);
      socket.write(tag);
    };
    connect(this.channel, 'c');
    this.channel.once('close', () => this.orphaned()); // its end: the template reports the status, or the pid does
    connect(this.#stdout, 'o');
    connect(this.#stderr, 'e');
  }

  /**
   * Claim the template's spare: say which worker it is to be (a file beside its socket, in the template's private
   * directory, written before connecting), then connect the channel, stdout and stderr, in that order and in this
   * turn of the event loop: each connect() reaches the kernel at once, and the spare takes the connections in the
   * order they were made. No byte is written: a socket's writes wait for its 'connect' event, one more turn of
   * the host's loop, which the spare need not wait for.
   */
  #claim(listen: string): void {
    const claimFile = `${listen}.claim`;
    const { workerId, ledger } = this.#options;
    try {
      writeFileSync(claimFile, JSON.stringify({ worker: workerId, ledger: ledger ?? null }), {
        flag: 'wx',
        mode: 0o600,
      });
    } catch (err) {
      const error = new Error(`cannot claim the template's spare: ${(err as Error).message}`);
      queueMicrotask(() => this.#claimFailed(error));
      return;
    }
    let connected = false;
    this.channel.once('connect', () => {
      connected = true;
      this.#claimSettled?.(this.#pid);
    });
    this.channel.once('error', (err) => {
      if (connected || this.exitInfo) return;
      rmSync(claimFile, { force: true });
      this.#claimFailed(new Error(`the template's spare is gone: ${err.message}`));
    });
    this.channel.connect(listen);
    this.channel.once('close', () => this.orphaned());
    this.#stdout.connect(listen);
    this.#stderr.connect(listen);
  }

  #claimFailed(err: Error): void {
    this.#claimSettled?.(undefined);
    // Not this worker's process after all: nothing of it is signalled or contained as this worker's (the spare,
    // if it lives, is the template's to deal with).
    this.#pid = undefined;
    this.#marker = undefined;
    this.#cgroup?.end();
    this.#cgroup = undefined;
    this.#forkFailed(err);
  }

  #exit(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    clearInterval(this.#orphanTimer);
    const pid = this.#pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL'); // what is left of its group
      } catch {
        /* no group left */
      }
    }
    if (this.#marker) endTree(this.#marker);
    if (this.#cgroup) {
      if (info.signal === 'SIGKILL' && this.#cgroup.oomKilled()) info.oomKilled = true;
      this.#cgroup.end();
    }
    setTimeout(() => {
      this.#stdout.destroy();
      this.#stderr.destroy();
    }, OUTPUT_DRAIN_MS).unref();
    this.#resolveExit(info);
  }
}

/** How `pid` ended, if it has: its status while it is a zombie, unknown once it is gone. */
function endedStatus(pid: number, ticks: number | undefined): ExitInfo | undefined {
  const stat = readProcText(pid, 'stat');
  if (stat === undefined) return { code: null, signal: null };
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (ticks !== undefined && Number(fields[19]) !== ticks) return { code: null, signal: null }; // pid reused
  if (fields[0] !== 'Z' && fields[0] !== 'X') return undefined;
  const status = Number(fields[49]); // exit_code (field 52), as waitpid reports it
  if (!Number.isInteger(status)) return { code: null, signal: null };
  const termsig = status & 0x7f;
  return termsig === 0
    ? { code: (status >> 8) & 0xff, signal: null }
    : { code: null, signal: signalName(termsig) };
}

function signalName(signal: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(constants.signals))
    if (value === signal) return name as NodeJS.Signals;
  return null;
}
