/**
 * A worker as the picker and the StallWatch see it, for their unit tests: its calls in a list, its pipelining
 * judged by `timings` as the pool judges it at dispatch.
 */
import { testCall } from './test-call.js';
import type { Call } from '../../src/call/call.js';
import { ToolTimings, type PickableWorker } from '../../src/pool/picker.js';

export function call(tool = 't', timeoutMs = 10_000): Call {
  return testCall({ tool, timeoutMs });
}

export class FakeWorker implements PickableWorker {
  calls: Call[] = [];
  stalled = false;
  /** As the pool decides at dispatch: a call blocks pipelining unless its tool is measured fast. */
  timings = new ToolTimings();
  get pipelineBlockers(): number {
    return this.calls.filter((c) => c.cancelled || c.stream || !this.timings.isFast(c.tool)).length;
  }
  constructor(
    readonly name: string,
    public state = 'ready',
  ) {}
  get load(): number {
    return this.calls.length;
  }
  inFlight(): Iterable<Call> {
    return this.calls;
  }
}

/** The workers, judging their calls with `timings`. */
export function timed(workers: FakeWorker[], timings: ToolTimings): FakeWorker[] {
  for (const w of workers) w.timings = timings;
  return workers;
}
