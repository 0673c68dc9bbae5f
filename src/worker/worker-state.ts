/**
 * A worker's lifecycle, as one enum and one transition function (grpc-js `Subchannel.transitionToState`).
 *
 *   starting ──► ready ──► stopping ──► stopped
 *       │          │
 *       └──────────┴──────► crashed          (exit, broken channel, failed start)
 */
import { trace } from '../util/trace.js';

export type WorkerState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'crashed';

const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['ready', 'stopping', 'crashed'],
  ready: ['stopping', 'crashed'],
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
