/**
 * A worker's lifecycle, as one enum and one transition function (grpc-js `Subchannel.transitionToState`).
 *
 *   starting ──► ready ──► draining ──► stopping ──► stopped
 *
 *   tainted ◄── starting, ready, draining         judged broken, being killed
 *   crashed ◄── every non-final state             the process ended without being asked to
 *
 * - `draining`: being recycled. Its replacement is ready; it takes no new calls and finishes the ones it holds,
 *   then stops.
 * - `tainted`: judged broken (missed heartbeats, a protocol violation, end of file, a cancel it did not honour).
 *   It takes no new calls; it is being killed, and its calls fail (or are retried) when its exit is collected.
 */
import { trace } from '../util/trace.js';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'tainted' | 'stopping' | 'stopped' | 'crashed';

const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['ready', 'stopping', 'tainted', 'crashed'],
  ready: ['draining', 'stopping', 'tainted', 'crashed'],
  draining: ['stopping', 'tainted', 'crashed'],
  tainted: ['crashed'],
  stopping: ['stopped', 'crashed'],
  stopped: [],
  crashed: [],
};

export class WorkerLifecycle {
  #state: WorkerState = 'starting';

  constructor(
    private readonly workerId: string,
    private readonly onChange: (from: WorkerState, to: WorkerState) => void,
  ) {}

  get state(): WorkerState {
    return this.#state;
  }

  /** Move to `to` if the current state allows it; returns false (and changes nothing) otherwise. */
  transition(to: WorkerState): boolean {
    const from = this.#state;
    if (!ALLOWED[from].includes(to)) return false;
    this.#state = to;
    trace('worker', `${this.workerId} ${from} -> ${to}`);
    this.onChange(from, to);
    return true;
  }

  get isFinal(): boolean {
    return this.#state === 'stopped' || this.#state === 'crashed';
  }
}
