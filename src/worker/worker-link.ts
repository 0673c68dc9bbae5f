/**
 * WorkerLink: what a WorkerHandle needs from "the other side" of a worker — a byte pipe for the channel, an exit,
 * a way to stop it — whatever carries it. Everything above the pipe (handshake, codecs, calls, cancel, credit,
 * sessions, references, host calls, heartbeats) is the same code for every link.
 *
 *   WorkerProcess   a spawned child; the pipe is a socket pair on fd 3            (transport "local")
 *   RemoteLink      a WorkerChannel stream to `snakepit_bridge serve --grpc`     (transport "grpc")
 *   SnakepitLink    a spawned Snakepit-style worker, driven by BridgeService RPCs  (transport "snakepit")
 */
import type { ByteStream } from '../transport/byte-stream.js';

export type OutputStream = 'stdout' | 'stderr';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: Error;
  /** Remote workers: set when the connection failed or was lost, saying how (no exit status is known then). */
  lost?: string;
  /** The kernel's OOM killer acted in the worker's own cgroup (limits.memoryMb with a cgroup). */
  oomKilled?: boolean;
}

export interface WorkerLink {
  /** The local process id, when there is a local process. */
  readonly pid: number | undefined;
  /** The channel's bytes. */
  readonly channel: ByteStream;
  /** Resolves once, when the worker has ended (or the connection to it is gone). */
  readonly exited: Promise<ExitInfo>;
  readonly exitInfo: ExitInfo | undefined;
  /** For messages: `pid 4242`, `endpoint 10.0.0.5:50051`. */
  readonly label: string;
  /** The last lines the worker wrote to stderr. */
  stderrTail(): string[];
  /** Stop it now (SIGKILL, SIGTERM; a remote link cancels its stream, which kills the process over there). */
  signal(signal: NodeJS.Signals): void;
  /** Whether the link keeps the host's event loop alive. */
  setRef(ref: boolean): void;
  /** `ask` (the polite request), then force after `graceMs`; resolves when it has ended. */
  stop(graceMs: number, ask?: () => void): Promise<ExitInfo>;
}

/** Opens the link of one worker; `onLine` receives its stdout and stderr lines. */
export type LinkFactory = (options: {
  workerId: string;
  onLine(stream: OutputStream, line: string): void;
}) => WorkerLink;

/**
 * `stop` for a link with no local process to wait on: `ask` (when given), up to `graceMs` for the worker to end,
 * then SIGKILL through `link.signal`; resolves with its exit.
 */
export async function askThenKill(
  link: Pick<WorkerLink, 'exited' | 'exitInfo' | 'signal'>,
  graceMs: number,
  ask: (() => void) | undefined,
): Promise<ExitInfo> {
  if (link.exitInfo) return link.exitInfo;
  if (ask) {
    ask();
    const ended = await exitWithin(link, graceMs);
    if (ended) return ended;
  }
  link.signal('SIGKILL');
  return link.exited;
}

/**
 * Stop a process this host started, in steps: `ask` (the polite request, e.g. a shutdown frame), then SIGTERM after
 * `graceMs`, then SIGKILL after another `graceMs`. Resolves with its exit.
 */
export async function stopInSteps(
  proc: Pick<WorkerLink, 'exited' | 'exitInfo' | 'signal'>,
  graceMs: number,
  ask: (() => void) | undefined,
): Promise<ExitInfo> {
  if (proc.exitInfo) return proc.exitInfo;
  ask?.();
  const asked = await exitWithin(proc, ask ? graceMs : 0);
  if (asked) return asked;
  proc.signal('SIGTERM');
  const termed = await exitWithin(proc, graceMs);
  if (termed) return termed;
  proc.signal('SIGKILL');
  return proc.exited;
}

/** Its exit, once it has exited within `ms`; undefined when it has not. */
function exitWithin(
  proc: Pick<WorkerLink, 'exited' | 'exitInfo'>,
  ms: number,
): Promise<ExitInfo | undefined> {
  if (proc.exitInfo) return Promise.resolve(proc.exitInfo);
  if (ms <= 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void proc.exited.then((info) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}
