/**
 * Opt-in signal handling (`handleSignals: true`; on by default in `Snakepit.runAsScript`): the first SIGINT or
 * SIGTERM closes every registered Snakepit gracefully — calls in flight finish, Python runs `cleanup()` — and a
 * second one forces: workers are stopped at once. Then the signal is raised again with our listeners removed, so
 * the process ends the way it would have without us (exit status 128 + signal number) — unless the program has
 * listeners of its own for that signal, in which case ending the process is its decision.
 *
 * Listeners are installed while at least one Snakepit is registered and removed with the last one, so a program
 * that closed its pools gets Node's default behaviour back.
 */
import type { Logger } from '../util/logger.js';

export interface SignalClosable {
  /** Graceful close (idempotent). */
  close(): Promise<void>;
  /** Stop every worker now, without grace. */
  forceClose(): Promise<void>;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

const registered = new Map<SignalClosable, Logger>();
let installed = false;
let received = 0;
let finished = false;

/** Close `pit` on SIGINT/SIGTERM until `unregister`. */
export function registerForSignals(pit: SignalClosable, logger: Logger): void {
  registered.set(pit, logger);
  if (!installed) {
    installed = true;
    received = 0;
    finished = false;
    for (const sig of SIGNALS) process.on(sig, onSignal);
  }
}

export function unregisterForSignals(pit: SignalClosable): void {
  registered.delete(pit);
  if (registered.size === 0 && received === 0) uninstall();
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const sig of SIGNALS) process.removeListener(sig, onSignal);
}

function onSignal(sig: NodeJS.Signals): void {
  received++;
  const pits = [...registered];
  const logger = pits[0]?.[1];
  if (received === 1) {
    logger?.warn(
      {},
      `received ${sig}: closing ${pits.length} snakepit instance(s) gracefully (send ${sig} again to force)`,
    );
    void Promise.allSettled(pits.map(([pit]) => pit.close())).then(() => finish(sig));
  } else if (received === 2) {
    logger?.warn({}, `received ${sig} again: stopping every worker now`);
    void Promise.allSettled(pits.map(([pit]) => pit.forceClose())).then(() => finish(sig));
  }
}

function finish(sig: NodeJS.Signals): void {
  if (finished) return;
  finished = true;
  registered.clear();
  uninstall();
  // Nobody else listens: end the process as the signal would have without us.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}
