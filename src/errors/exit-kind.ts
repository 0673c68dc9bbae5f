/**
 * The exit kinds: why a worker process ended, as one word. Errors (`WorkerCrashedError.exitKind`) and events
 * (`worker:exit`) carry them; worker/classify-exit.ts reads them from an exit status.
 */

/**
 * - `stopped`: the host stopped it on purpose (close, recycling).
 * - `clean_exit`: it exited with code 0 on its own (`sys.exit()` in a tool, a host it thought gone).
 * - `error_exit`: it exited with a non-zero code on its own (`sys.exit(3)`, `os._exit(1)`, a failed start).
 * - `crash_signal`: a crash signal (SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGTRAP): a fault in C code.
 * - `oom_kill`: SIGKILL from the kernel's out-of-memory killer, or from the host for memory past `limits.memoryMb`.
 * - `killed`: another signal the host did not send (someone ran `kill -9`).
 * - `timeout_kill`: the host killed it because a cancelled call (timeout, abort) did not stop in time.
 * - `hang_kill`: the host killed it because it stopped answering heartbeats (stuck in C code holding the GIL).
 * - `protocol_kill`: the host killed it because it broke the protocol (garbage or an oversized frame).
 * - `start_failed`: it never became ready (import error, start-up timeout, missing interpreter).
 * - `connection_lost`: a remote worker's connection failed or was cut (its process may still run over there).
 */
export type WorkerExitKind =
  | 'stopped'
  | 'clean_exit'
  | 'error_exit'
  | 'crash_signal'
  | 'oom_kill'
  | 'killed'
  | 'timeout_kill'
  | 'hang_kill'
  | 'protocol_kill'
  | 'start_failed'
  | 'connection_lost';

/** The kinds of kill the host itself decides on. */
export type HostKillKind = 'timeout_kill' | 'hang_kill' | 'protocol_kill' | 'connection_lost' | 'oom_kill';
