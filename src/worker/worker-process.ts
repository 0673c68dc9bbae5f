/**
 * The OS side of a worker: spawn the interpreter with the channel socket on fd 3, capture stdout and stderr
 * line by line, and stop it in steps. Each worker leads its own process group, so a signal reaches the whole
 * tree (an adapter's own subprocesses too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { WorkerCgroup } from '../limits/cgroup.js';
import { endTree, markerOf, startTicks, type TreeMarker } from '../limits/containment.js';
import { captureLines } from './output-lines.js';
import { type ExitInfo, type OutputStream, stopInSteps, type WorkerLink } from './worker-link.js';

export interface WorkerProcessOptions {
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string | undefined;
  onLine(stream: OutputStream, line: string): void;
  /** An open file the worker inherits as fd 4 (the ledger, worker/ledger.ts). */
  fd4?: number | undefined;
  /** The worker's own cgroup (limits.memoryMb, where one can be made): joined at spawn, ended with the worker. */
  cgroup?: WorkerCgroup | undefined;
}

/**
 * After the process exited, how long its stdout and stderr may stay open: a grandchild that escaped containment
 * may hold them forever, and each would keep a descriptor of the host.
 */
export const OUTPUT_DRAIN_MS = 500;

export class WorkerProcess implements WorkerLink {
  readonly child: ChildProcess;
  readonly channel: Socket;
  /** Resolves once, when the process has exited (or failed to spawn). */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly #stderrTail: string[] = [];
  /** What everything this worker starts inherits (SNAKEPIT_RUN_ID, SNAKEPIT_WORKER_ID): see containment.ts. */
  readonly #marker: TreeMarker | undefined;
  #cgroup: WorkerCgroup | undefined;

  constructor(options: WorkerProcessOptions) {
    this.child = spawn(options.executable, options.args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...(options.fd4 === undefined ? [] : [options.fd4])],
      env: options.env,
      cwd: options.cwd,
      // Own process group: signals go to -pid, and a Ctrl+C in the host's terminal does not reach the worker
      // directly (the host decides how to stop it).
      detached: true,
    });
    this.channel = this.child.stdio[3] as Socket;
    this.#marker =
      this.child.pid === undefined ? undefined : markerOf(options.env, startTicks(this.child.pid));
    this.#cgroup = options.cgroup;
    if (this.#cgroup) this.#joinCgroup(this.#cgroup);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        // 'error' without a pid means the spawn itself failed; with a pid, a later 'exit' still comes.
        if (this.child.pid === undefined) this.#exit({ code: null, signal: null, spawnError: err }, resolve);
      });
      this.child.once('exit', (code, signal) => this.#exit({ code, signal }, resolve));
    });
    captureLines(this.child.stdout!, 'stdout', this.#stderrTail, options.onLine);
    captureLines(this.child.stderr!, 'stderr', this.#stderrTail, options.onLine);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get label(): string {
    return `pid ${this.child.pid ?? '?'}`;
  }

  get alive(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  /** The last lines the worker wrote to stderr, for crash and start-up reports. */
  stderrTail(): string[] {
    return [...this.#stderrTail];
  }

  /** Send a signal to the worker's whole process group; quietly does nothing once it is gone. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exitInfo) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }

  /** Whether the process handles keep the host's event loop alive. */
  setRef(ref: boolean): void {
    const handles: Array<{ ref?: () => void; unref?: () => void } | null | undefined> = [
      this.child,
      this.child.stdout as unknown as Socket,
      this.child.stderr as unknown as Socket,
      this.channel,
    ];
    for (const h of handles) {
      if (ref) h?.ref?.();
      else h?.unref?.();
    }
  }

  /**
   * Stop in steps: `ask` (the polite request, e.g. a shutdown frame), then SIGTERM after `graceMs`, then
   * SIGKILL after another `graceMs`. Resolves when the process has exited.
   */
  stop(graceMs: number, ask?: () => void): Promise<ExitInfo> {
    return stopInSteps(this, graceMs, ask);
  }

  #exit(info: ExitInfo, resolve: (info: ExitInfo) => void): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    // The group may still hold children of the worker (an adapter's subprocesses); they go with it, and so does
    // whatever else carries its marker: children in other sessions and groups, daemons (containment.ts).
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* no group left */
      }
    }
    if (this.#marker) endTree(this.#marker);
    if (this.#cgroup) {
      if (info.signal === 'SIGKILL' && this.#cgroup.oomKilled()) info.oomKilled = true;
      this.#cgroup.end(); // whatever is left in it, scrubbed environment or not
    }
    // Its output is read until end of file, but for a bounded time: a descendant that escaped (a scrubbed
    // environment) may hold the pipes open, and each would keep one of the host's descriptors.
    setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    }, OUTPUT_DRAIN_MS).unref();
    resolve(info);
  }

  #joinCgroup(cgroup: WorkerCgroup): void {
    try {
      if (this.child.pid === undefined) throw new Error('not spawned');
      cgroup.join(this.child.pid);
    } catch {
      cgroup.end(); // the rlimits still apply
      this.#cgroup = undefined;
    }
  }
}
