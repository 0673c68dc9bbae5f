/**
 * How a worker's end is told: the `WorkerExit` record the pool receives, the one-line exit status, and the texts
 * of the errors its calls (WorkerCrashedError) or its start (WorkerStartError) fail with.
 */
import { WorkerCrashedError } from '../errors/errors.js';
import type { WorkerExitKind } from '../errors/exit-kind.js';
import type { ExitInfo } from './worker-link.js';

export interface WorkerExit {
  /** False when the worker was stopped on purpose. */
  crashed: boolean;
  exit: ExitInfo;
  /** Why it ended, when known (protocol error, stuck cancel). */
  reason: string | undefined;
  /** The exit, classified. */
  kind: WorkerExitKind;
  /** How long it had been ready (0 if it never was). */
  uptimeMs: number;
  /** Calls it held when it ended (failed, or taken back for a retry). */
  callsInFlight: number;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.lost) return exit.lost;
  if (exit.spawnError) return `spawn failed: ${exit.spawnError.message}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code ?? '?'}`;
}

/** Why a worker that ended before it was ready failed to start. */
export function startupExitMessage(
  workerId: string,
  executable: string,
  exit: ExitInfo,
  stderrTail: string[],
): string {
  const spawnFailed = exit.spawnError ? `could not run ${executable}: ${exit.spawnError.message}` : undefined;
  return (
    spawnFailed ??
    `worker ${workerId} exited during start-up (${describeExit(exit)})` +
      (stderrTail.length ? `; last stderr lines:\n  ${stderrTail.slice(-10).join('\n  ')}` : '')
  );
}

/** What a dead worker's calls in flight fail with. */
export function crashedError(dead: {
  pool: string;
  workerId: string;
  /** The link's label, e.g. `pid 1234`. */
  label: string;
  pid: number | undefined;
  exit: ExitInfo;
  callsInFlight: number;
  reason: string | undefined;
  stderrTail: string[];
  kind: WorkerExitKind;
}): WorkerCrashedError {
  const { reason, exit } = dead;
  const lastStderr = dead.stderrTail.at(-1);
  return new WorkerCrashedError(
    `worker ${dead.workerId} (${dead.label}) died with ${dead.callsInFlight} call(s) in flight: ${describeExit(exit)}` +
      (reason ? ` — ${reason}` : '') +
      (lastStderr ? `; its last stderr line: ${lastStderr}` : ''),
    {
      pool: dead.pool,
      workerId: dead.workerId,
      pid: dead.pid,
      exitCode: exit.code,
      signal: exit.signal,
      stderrTail: dead.stderrTail,
      ...(reason ? { reason } : {}),
      kind: dead.kind,
    },
  );
}
