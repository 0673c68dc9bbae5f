/**
 * CallTelemetry: what one pool's calls report — latency and queue-wait histograms (always; per tool too, for the
 * pool's configured tools), `call:start` /
 * `call:stop` / `call:exception` events (only when someone listens), OpenTelemetry spans (only when a tracer
 * provider is registered).
 *
 * A Call holds its pool's CallTelemetry as its observer and tells it three things: created (in the caller's
 * context: the span opens there), started (dispatched to a worker), settled (once). With no listener and no
 * tracer, a call costs two histogram records and no allocation.
 */
import { AbortError, CallTimeoutError, QueueTimeoutError, WorkerCrashedError } from '../errors/errors.js';
import { PythonError } from '../errors/python-errors.js';
import type { Call, CallObserver } from '../call/call.js';
import type { CallEventBase, CallFailureKind, EventBus, SnakepitEvents } from './event-bus.js';
import { type LatencySummary, LogHistogram } from './histogram.js';
import type { CallTracer } from './tracing.js';

/** One tool's figures for the metrics (`snakepit_tool_*`). */
export interface ToolMetrics {
  /** Calls of the tool that settled, whatever the outcome. */
  calls: number;
  /** Of those, the ones that ended in an error. */
  errors: number;
  /** Submission to settlement, in ms, of its calls that reached a worker. */
  latency: LogHistogram;
}

/** Most tools with their own series per pool: a label's values must stay few (Prometheus keeps each series). */
export const MAX_TOOL_SERIES = 500;

export class CallTelemetry implements CallObserver {
  readonly pool: string;
  /** Submission to settlement, in ms, of calls that reached a worker (whatever their outcome). */
  readonly latency = new LogHistogram();
  /** Submission to dispatch, in ms, of every dispatch. */
  readonly queueWait = new LogHistogram();
  /** Chunks received by the pool's stream calls. */
  chunks = 0;
  /**
   * Per-tool figures, for the tools `allowTools` named only: a tool name comes from the caller, and a label
   * value per name made up by a caller would grow the metrics without bound.
   */
  readonly tools = new Map<string, ToolMetrics>();
  readonly #events: EventBus;
  #tracer: CallTracer | undefined;
  readonly #runId: string;

  constructor(pool: string, events: EventBus, tracer: CallTracer | undefined, runId: string) {
    this.pool = pool;
    this.#events = events;
    this.#tracer = tracer;
    this.#runId = runId;
  }
  /** Set once by `Snakepit.start`, which loads the OpenTelemetry API while the workers start. */
  useTracer(tracer: CallTracer | undefined): void {
    this.#tracer = tracer;
  }

  /** The call's correlation id: the caller's, else `<runId>-<callId>` (what the worker derives too). */
  correlationId(call: Call): string {
    return call.correlationId ?? `${this.#runId}-${call.id}`;
  }
  readonly #correlationIdOf = (call: Call): string => this.correlationId(call);

  /** Give these tools series of their own (the adapter's tools, the configured library functions). */
  allowTools(names: Iterable<string>): void {
    for (const name of names) {
      if (this.tools.size >= MAX_TOOL_SERIES) return;
      if (!this.tools.has(name)) this.tools.set(name, { calls: 0, errors: 0, latency: new LogHistogram() });
    }
  }

  created(call: Call): void {
    this.#tracer?.begin(call, this.#correlationIdOf);
  }

  started(call: Call): void {
    this.queueWait.record(call.dispatchedAt - call.submittedAt);
    if (this.#events.wants('call:start')) this.#events.emit('call:start', this.#base(call));
  }

  settled(call: Call, error: Error | undefined): void {
    const now = performance.now();
    const reached = call.dispatchedAt > 0;
    if (reached) this.latency.record(now - call.submittedAt);
    const tool = this.tools.get(call.tool);
    if (tool !== undefined) {
      tool.calls++;
      if (error !== undefined) tool.errors++;
      if (reached) tool.latency.record(now - call.submittedAt);
    }
    const chunks = call.stream ? call.stream.received : 0;
    this.chunks += chunks;
    if (call.span !== undefined) {
      this.#tracer?.end(call, error, {
        worker: call.runner?.id,
        queueWaitMs: (reached ? call.dispatchedAt : now) - call.submittedAt,
        chunks,
        attempt: call.retries + 1,
        errorName: error?.name,
      });
    }
    if (error === undefined) {
      if (this.#events.wants('call:stop')) this.#events.emit('call:stop', this.#ended(call, now, chunks));
    } else if (this.#events.wants('call:exception')) {
      const code = (error as { code?: unknown }).code;
      const payload = this.#ended(call, now, chunks) as SnakepitEvents['call:exception'];
      payload.error = error;
      payload.errorName = error.name;
      payload.errorCode = typeof code === 'string' ? code : undefined;
      payload.kind = failureKind(error);
      this.#events.emit('call:exception', payload);
    }
  }

  /** The fields of `call:stop`, which `call:exception` extends: the common fields, then the end's own two. */
  #ended(call: Call, now: number, chunks: number): SnakepitEvents['call:stop'] {
    const ended = this.#base(call, now) as SnakepitEvents['call:stop'];
    ended.durationMs = now - call.submittedAt;
    ended.chunks = chunks;
    return ended;
  }

  #base(call: Call, now = performance.now()): CallEventBase {
    return {
      callId: call.id,
      correlationId: this.correlationId(call),
      pool: call.pool,
      tool: call.tool,
      worker: call.runner?.id,
      session: call.sessionId,
      stream: call.stream !== undefined,
      queueWaitMs: (call.dispatchedAt > 0 ? call.dispatchedAt : now) - call.submittedAt,
      attempt: call.retries + 1,
    };
  }
}

export function failureKind(error: Error): CallFailureKind {
  if (error instanceof CallTimeoutError || error instanceof QueueTimeoutError) return 'timeout';
  if (error instanceof AbortError) return 'abort';
  if (error instanceof WorkerCrashedError) return 'crash';
  if (error instanceof PythonError) return 'python';
  return 'error';
}

/** Per-call figures of a pool, part of `pit.stats()`. */
export interface CallStats {
  /** Submission to settlement of calls that reached a worker (any outcome), from a log-scale histogram. */
  latencyMs: LatencySummary;
  /** Submission to dispatch of each dispatch. */
  queueWaitMs: LatencySummary;
  /** Chunks received by stream calls. */
  streamChunks: number;
}

const EMPTY = new LogHistogram();

/** The call figures of one pool's telemetry (zeros when call telemetry is off). */
export function callStats(telemetry: CallTelemetry | undefined): CallStats {
  return {
    latencyMs: (telemetry?.latency ?? EMPTY).summary(),
    queueWaitMs: (telemetry?.queueWait ?? EMPTY).summary(),
    streamChunks: telemetry?.chunks ?? 0,
  };
}
