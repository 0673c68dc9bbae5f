/**
 * WorkerTemplate: a pool's template process (a fork server), which imports the bridge, the adapter's module and the
 * libraries the pool names once, then forks workers on request (python/snakepit_bridge/template.py). A worker
 * forked from it is ready in milliseconds, and shares the template's pages copy-on-write.
 *
 *   spawn ─► starting ─┬─ ready (forks on request) ─── dies / hangs on a fork ─► failed ─► (after a pause) spawn
 *                      ├─ unsafe: threads or sockets after the imports, __fork_safe__ = False ─► never again
 *                      └─ failed (did not import, died, startup timeout) ─► workers start cold meanwhile
 *
 * At the pool's start, its workers' fork requests are written while the template still imports: it reads them
 * once ready and forks at once, with no round trip between its `ready` and the first fork. Once idle, the template
 * keeps a spare child forked ahead, listening at a socket of its own (its `spare` message says where): the next
 * worker claims it by connecting, with no request to the template on the way (a replacement after a crash is
 * then a connection and a handshake away). Later, the pool never waits on a template that is not ready: its
 * workers then start cold (worker-spawn.ts), and the template is started again in the background after a pause
 * that doubles while it keeps failing. A request the template could not answer (it failed, or is unsafe) starts
 * its worker cold. The template is an ordinary local process for the host's safety nets: recorded in the process
 * registry, in the pool's limits (rlimits, a cgroup of its own), gone with the host (parent-death signal, end of
 * file on its control channel).
 * Control messages are lines of JSON, read with a bound (a hostile import could write anything).
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResolvedPoolConfig } from '../config/config-types.js';
import { workerCgroup } from '../limits/cgroup.js';
import { startTicks } from '../limits/containment.js';
import type { Logger } from '../util/logger.js';
import { warmUpCodecsSoon } from '../transport/codec-warm-up.js';
import { processFacts } from '../util/proc.js';
import { ForkedWorker } from './forked-worker.js';
import type { WorkerLink } from './worker-link.js';
import { BRIDGE_MAIN, workerEnv, type LocalWorkerSpec } from './worker-spawn.js';
import { WorkerProcess } from './worker-process.js';

/** Longest control line read from the template. */
const MAX_LINE = 64 * 1024;
/** How long a fork may take before the template is judged hung (a fork is a few milliseconds). */
export const FORK_TIMEOUT_MS = 3_000;
/** After a template failed, the pause before the next one; doubles up to the maximum while they keep failing. */
const RETRY_MS = 1_000;
const RETRY_MAX_MS = 60_000;

export type TemplateState = 'off' | 'starting' | 'ready' | 'failed' | 'unsafe' | 'closed';

/** `PoolStats.template`. */
export interface TemplateStats {
  state: TemplateState;
  pid: number | undefined;
  /** Workers forked from it (from every template the pool had). */
  forks: number;
  /** Why it is not used, when it is not. */
  reason: string | undefined;
}

export interface TemplateHost {
  readonly config: ResolvedPoolConfig;
  readonly runId: string;
  readonly logger: Logger;
  /** The template process was spawned (pid) or ended (undefined): the process registry records it. */
  onProcess(pid: number | undefined): void;
}

interface PendingFork {
  resolve(pid: number): void;
  reject(error: Error): void;
  /** Armed when the request is written to a ready template, or when the template it waited for is ready. */
  timer: NodeJS.Timeout | undefined;
}

export class WorkerTemplate {
  readonly #host: TemplateHost;
  #state: TemplateState = 'off';
  #process: WorkerProcess | undefined;
  #ready: Promise<boolean> | undefined;
  #settleReady: ((ok: boolean) => void) | undefined;
  #inbox = '';
  #nextRequest = 1;
  readonly #pending = new Map<number, PendingFork>();
  /** The template's spare child, listening for the worker that claims it (`spare`), until claimed or gone. */
  #spare: { pid: number; listen: string } | undefined;
  /** Forked workers alive, by pid: the template reports their exits. */
  readonly #children = new Map<number, ForkedWorker>();
  /** Wardens of the workers of templates that are gone (python/snakepit_bridge/warden.py). */
  readonly #wardens = new Set<ChildProcess>();
  #dir: string | undefined;
  #failures = 0;
  #retryAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Why the template is not used, once known (`unsafe`, or the last failure). */
  reason: string | undefined;
  /** The template's own import time, from its `ready`. */
  importMs: number | undefined;
  /** Workers forked, for stats and tests. */
  forks = 0;

  constructor(host: TemplateHost) {
    this.#host = host;
  }

  get state(): TemplateState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Start the template (if it is not running); resolves true when it is ready to fork, false when not. */
  start(): Promise<boolean> {
    if (this.#state === 'ready') return Promise.resolve(true);
    if (this.#state === 'unsafe' || this.#state === 'closed') return Promise.resolve(false);
    if (this.#state === 'starting') return this.#ready!;
    this.#spawn();
    return this.#ready!;
  }

  /**
   * A local worker's link: forked from the template when it is ready (or, at the pool's start, when it will be:
   * the request waits in its control channel), else a cold spawn (and the template is started again in the
   * background when its pause is over).
   */
  spawn(
    spec: LocalWorkerSpec,
    cold: (spec: LocalWorkerSpec) => WorkerLink,
    onForkFailed: () => void,
  ): WorkerLink {
    if (this.#state !== 'ready' && !this.#firstStart()) {
      this.#restartLater();
      return cold(spec);
    }
    // The spare is claimed only while it is still the template's live child: a spare that died a moment ago (its
    // exit not read yet) is not, and its pid may be another process's by now, which the host must never signal.
    const spare = this.#spare;
    this.#spare = undefined;
    const claimed = this.#state === 'ready' && spare && this.#isChild(spare.pid) ? spare : undefined;
    const worker = new ForkedWorker({
      workerId: spec.workerId,
      runId: spec.runId,
      onLine: spec.onLine,
      listen: join(
        this.#dir!,
        `${spec.workerId.length <= 40 ? spec.workerId : randomBytes(6).toString('hex')}.sock`,
      ),
      ledger: spec.ledgerFd === undefined ? undefined : `/proc/${process.pid}/fd/${spec.ledgerFd}`,
      cgroup:
        spec.config.limits.memoryMb === undefined
          ? undefined
          : workerCgroup(spec.runId, spec.workerId, spec.config.limits.memoryMb),
      fork: (request) => this.#fork(request),
      claimed,
      onForkFailed,
    });
    if (claimed) this.#children.set(claimed.pid, worker);
    void worker.forked.then((pid) => {
      if (pid === undefined) return;
      this.#children.set(pid, worker);
      this.forks++;
    });
    return worker;
  }

  /** Stop the template (its workers are stopped by the pool first). */
  async close(graceMs: number): Promise<void> {
    this.#state = 'closed';
    this.#spare = undefined;
    clearTimeout(this.#retryTimer);
    const proc = this.#process;
    if (proc) await proc.stop(graceMs, () => proc.channel.end());
    // The pool stopped its workers before: the wardens have nothing left to guard.
    for (const warden of this.#wardens) warden.stdin?.end('release\n');
    this.#wardens.clear();
    this.#removeDir();
  }

  /** The template's first start is under way (a restarted one is not waited for: workers start cold meanwhile). */
  #firstStart(): boolean {
    return this.#state === 'starting' && this.#failures === 0;
  }

  // ── the process ──────────────────────────────────────────────────────────────────────────────────────────

  #spawn(): void {
    const { config, runId } = this.#host;
    this.#state = 'starting';
    this.#inbox = '';
    this.#ready = new Promise((resolve) => (this.#settleReady = resolve));
    try {
      this.#dir ??= mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'snakepit-fork-'));
    } catch (err) {
      this.#fail(`could not get a socket directory: ${(err as Error).message}`);
      return;
    }
    const env = workerEnv(config, runId, '');
    // No worker id in the template's environment: its workers' descendants carry their own (set after the fork),
    // and containment must not take the forked workers for descendants of the template.
    delete env['SNAKEPIT_WORKER_ID'];
    const id = `${config.name}~template`;
    const proc = new WorkerProcess({
      executable: config.python.executable,
      args: [
        ...BRIDGE_MAIN,
        'template',
        '--adapter',
        config.adapter,
        '--pool',
        config.name,
        '--run-id',
        runId,
        '--codec',
        config.codec,
        '--socket-dir',
        this.#dir!,
        ...(config.template.preload.length > 0 ? ['--preload', config.template.preload.join(',')] : []),
      ],
      env,
      cwd: config.cwd,
      onLine: (stream, line) =>
        stream === 'stderr'
          ? this.#host.logger.warn({ pool: config.name, worker: id, stream }, line)
          : this.#host.logger.info({ pool: config.name, worker: id, stream }, line),
      cgroup:
        config.limits.memoryMb === undefined ? undefined : workerCgroup(runId, id, config.limits.memoryMb),
    });
    this.#process = proc;
    warmUpCodecsSoon(); // while the interpreter starts (transport/codec-warm-up.ts)
    // The template keeps the host alive only while someone waits for it (its start, a fork): an idle one never does.
    this.#host.onProcess(proc.pid);
    proc.channel.setEncoding('utf8');
    proc.channel.on('data', (chunk: string) => this.#onData(proc, chunk));
    proc.channel.on('error', () => {
      /* the exit reports it */
    });
    const deadline = setTimeout(() => {
      if (this.#process === proc && this.#state === 'starting') {
        this.#fail(`was not ready within startupTimeoutMs (${config.startupTimeoutMs} ms)`);
      }
    }, config.startupTimeoutMs);
    deadline.unref();
    void proc.exited.then((exit) => {
      clearTimeout(deadline);
      this.#host.onProcess(undefined);
      if (this.#process !== proc) return;
      this.#process = undefined;
      this.#orphanChildren();
      if (this.#state === 'starting' || this.#state === 'ready') {
        this.#fail(`exited (${exit.signal ?? `code ${exit.code}`})`);
      }
    });
  }

  #onData(proc: WorkerProcess, chunk: string): void {
    if (this.#process !== proc) return;
    this.#inbox += chunk;
    let newline: number;
    while ((newline = this.#inbox.indexOf('\n')) >= 0) {
      const line = this.#inbox.slice(0, newline);
      this.#inbox = this.#inbox.slice(newline + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return this.#fail('wrote a control line that is not JSON');
      }
      this.#onMessage(message);
      if (this.#process !== proc) return;
    }
    if (this.#inbox.length > MAX_LINE) this.#fail('wrote a control line longer than 64 KiB');
  }

  #onMessage(message: unknown): void {
    if (message === null || typeof message !== 'object')
      return this.#fail('wrote a control line that is not an object');
    const m = message as Record<string, unknown>;
    switch (m['type']) {
      case 'ready': {
        if (this.#state !== 'starting') return;
        this.importMs = typeof m['import_ms'] === 'number' ? m['import_ms'] : undefined;
        if (typeof m['unsafe'] === 'string') return this.#unsafe(m['unsafe'].slice(0, 1000));
        this.#state = 'ready';
        if (this.#pending.size === 0) this.#process?.setRef(false);
        for (const [id, pending] of this.#pending) pending.timer ??= this.#forkTimer(id);
        this.#failures = 0;
        this.reason = undefined;
        this.#settleReady?.(true);
        return;
      }
      case 'failed':
        if (this.#state === 'starting') this.#fail(String(m['error']).slice(0, 1000));
        return;
      case 'forked':
      case 'fork_failed': {
        const pending = typeof m['id'] === 'number' ? this.#pending.get(m['id']) : undefined;
        if (!pending) return;
        this.#pending.delete(m['id'] as number);
        clearTimeout(pending.timer);
        if (this.#pending.size === 0) this.#process?.setRef(false);
        if (m['type'] === 'forked' && Number.isInteger(m['pid']) && (m['pid'] as number) > 0)
          pending.resolve(m['pid'] as number);
        else pending.reject(new Error(`the template could not fork: ${String(m['error']).slice(0, 500)}`));
        return;
      }
      case 'spare': {
        const pid = m['pid'];
        const listen = m['listen'];
        // Only a socket in our own directory, and a child of the template: the host connects where the template
        // says, and will signal that pid as its worker.
        if (this.#state !== 'ready' || !Number.isInteger(pid) || (pid as number) <= 0) return;
        if (typeof listen !== 'string' || dirname(listen) !== this.#dir || listen.includes('\0')) return;
        if (!this.#isChild(pid as number)) return;
        this.#spare = { pid: pid as number, listen };
        return;
      }
      case 'exit': {
        const pid = m['pid'];
        if (pid === this.#spare?.pid) this.#spare = undefined; // a spare that died unclaimed
        const child = typeof pid === 'number' ? this.#children.get(pid) : undefined;
        if (!child) return;
        this.#children.delete(pid as number);
        child.reportExit(
          typeof m['code'] === 'number' ? m['code'] : null,
          typeof m['signal'] === 'number' ? m['signal'] : null,
        );
        return;
      }
      default:
        return;
    }
  }

  /** `pid` is a live child of the template (where /proc tells; elsewhere taken on its word). */
  #isChild(pid: number): boolean {
    if (process.platform !== 'linux') return true;
    const facts = processFacts(pid);
    return facts !== undefined && !facts.zombie && facts.ppid === this.#process?.pid;
  }

  #fork(request: { worker: string; listen: string; ledger: string | undefined }): Promise<number> {
    const proc = this.#process;
    if ((this.#state !== 'ready' && !this.#firstStart()) || !proc)
      return Promise.reject(new Error('the template is not running'));
    const id = this.#nextRequest++;
    return new Promise<number>((resolve, reject) => {
      proc.setRef(true);
      // Written now either way; timed from when the template can answer it (its start has its own deadline).
      const timer = this.#state === 'ready' ? this.#forkTimer(id) : undefined;
      this.#pending.set(id, { resolve, reject, timer });
      proc.channel.write(
        `${JSON.stringify({ type: 'fork', id, worker: request.worker, listen: request.listen, ledger: request.ledger ?? null })}\n`,
      );
    });
  }

  #forkTimer(id: number): NodeJS.Timeout {
    return setTimeout(() => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#pending.delete(id);
      pending.reject(new Error(`the template did not fork within ${FORK_TIMEOUT_MS} ms`));
      this.#fail(`did not answer a fork request within ${FORK_TIMEOUT_MS} ms (hung?)`);
    }, FORK_TIMEOUT_MS);
  }

  // ── failure ──────────────────────────────────────────────────────────────────────────────────────────────

  /** The template cannot serve now: kill it, fail its pending forks; workers start cold until it is back. */
  #fail(why: string): void {
    if (this.#state === 'closed' || this.#state === 'unsafe') return;
    const { logger, config } = this.#host;
    this.#failures++;
    this.reason = why;
    const wait = Math.min(RETRY_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
    this.#retryAt = Date.now() + wait;
    logger.warn(
      { pool: config.name },
      `pool "${config.name}": its template ${why}; workers start cold, and the template is started again in ` +
        `${wait} ms at the earliest`,
    );
    this.#state = 'failed';
    this.#stopProcess();
    this.#settleReady?.(false);
  }

  #unsafe(why: string): void {
    const { logger, config } = this.#host;
    this.reason = why;
    this.#state = 'unsafe';
    logger.info({ pool: config.name }, `pool "${config.name}": workers start cold, not forked: ${why}`);
    this.#stopProcess();
    this.#settleReady?.(false);
  }

  #stopProcess(): void {
    const proc = this.#process;
    this.#spare = undefined;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`the template stopped: ${this.reason ?? 'closing'}`));
    }
    this.#pending.clear();
    if (!proc) return;
    // Its workers stay: they serve calls and leave on their own signs. Their exit status is lost with it.
    this.#process = undefined;
    this.#orphanChildren();
    proc.signal('SIGKILL');
  }

  /**
   * The template is gone: its workers' exits will not be reported, so each watches its own pid; and it will not
   * take them along when the host dies, so a warden will.
   */
  #orphanChildren(): void {
    for (const child of this.#children.values()) child.orphaned();
    this.#guard([...this.#children.keys()]);
    this.#children.clear();
  }

  /**
   * Start a warden for workers whose template is gone (python/snakepit_bridge/warden.py): a small process with
   * this host's parent-death signal that SIGKILLs their process groups when the host dies. Without it, a worker
   * holding the GIL in C code would have only Python threads to notice the host's death.
   */
  #guard(pids: number[]): void {
    if (this.#state === 'closed' || process.platform !== 'linux') return;
    const lines = pids.flatMap((pid) => {
      const ticks = startTicks(pid);
      return ticks === undefined ? [] : [`${pid} ${ticks}\n`];
    });
    if (lines.length === 0) return;
    const { config, runId } = this.#host;
    let warden: ChildProcess;
    try {
      warden = spawnProcess(
        config.python.executable,
        // -I -S: nothing from the environment or site-packages; it needs the standard library only.
        [
          '-I',
          '-S',
          join(config.bridgeDir, 'snakepit_bridge', 'warden.py'),
          '--pool',
          config.name,
          '--run-id',
          runId,
          '--host-pid',
          String(process.pid),
        ],
        { stdio: ['pipe', 'ignore', 'ignore'], detached: true, cwd: config.cwd },
      );
    } catch (err) {
      this.#host.logger.warn(
        { pool: config.name },
        `pool "${config.name}": could not start a warden for the workers of its template: ${(err as Error).message}`,
      );
      return;
    }
    warden.on('error', () => this.#wardens.delete(warden));
    warden.stdin!.on('error', () => {
      /* it left: every worker it guarded ended */
    });
    warden.stdin!.write(lines.join(''));
    warden.once('exit', () => this.#wardens.delete(warden));
    warden.unref(); // it never keeps the host alive
    (warden.stdin as unknown as { unref?: () => void }).unref?.();
    this.#wardens.add(warden);
  }

  #restartLater(): void {
    if (this.#state !== 'failed' || this.#retryTimer) return;
    const wait = Math.max(0, this.#retryAt - Date.now());
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state === 'failed') void this.start();
    }, wait);
    this.#retryTimer.unref();
  }

  #removeDir(): void {
    if (!this.#dir) return;
    try {
      rmSync(this.#dir, { recursive: true, force: true });
    } catch {
      /* best effort: it holds only socket files */
    }
    this.#dir = undefined;
  }
}
