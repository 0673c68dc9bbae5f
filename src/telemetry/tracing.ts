/**
 * OpenTelemetry spans for calls, through `@opentelemetry/api` only (an optional peer dependency; the library ships
 * no SDK). The application registers a tracer provider; without one, tracing costs a provider check per call and
 * nothing else.
 *
 *   caller's active span ─► "pool/tool" (CLIENT, host) ── traceparent in the call frame ──► Python SERVER span
 *
 * The host span covers the call from submission to settlement (queue wait included). Its W3C trace context is
 * written into the call's `trace` field (PROTOCOL.md §5), from which the worker continues the trace.
 *
 * When the API is loaded: at `Snakepit.start` with `tracing: true` (so a missing package fails the start), or when
 * the application has already registered something with it. Otherwise (`"auto"` with nothing registered, the usual
 * case) not at start — its import costs ~15 ms of the host's CPU while the first worker starts — but on the first
 * call made once something is registered: registering needs the API, and the API keeps what is registered in one
 * global (`OTEL_GLOBAL`), so until that global exists no provider can be there to trace with.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import { ConfigError } from '../errors/errors.js';
import type { Call } from '../call/call.js';

type Api = typeof OtelApi;

/** What the call telemetry reports when a traced call ends. */
export interface SpanEnd {
  worker: string | undefined;
  queueWaitMs: number;
  chunks: number;
  attempt: number;
  errorName: string | undefined;
}

/**
 * Where `@opentelemetry/api` 1.x keeps the providers registered with it (its `_global` key): present once anything
 * was registered (a tracer provider, a context manager, a propagator), by any copy of the API in the process.
 */
export const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

function registered(): boolean {
  return (globalThis as Record<symbol, unknown>)[OTEL_GLOBAL] !== undefined;
}

/**
 * The call tracer for `mode`: undefined when tracing is off; with `true`, the API imported now (or a ConfigError);
 * with `"auto"`, imported now if something is registered already, else on the first call after something is.
 */
export async function loadCallTracer(mode: boolean | 'auto'): Promise<CallTracer | undefined> {
  if (mode === false) return undefined;
  if (mode === 'auto' && !registered()) return new CallTracer(undefined);
  let api: Api;
  try {
    const mod = (await import('@opentelemetry/api')) as Api & { default?: Api };
    api = mod.trace ? mod : mod.default!;
  } catch (err) {
    if (mode === true) {
      throw new ConfigError(
        'telemetry.tracing',
        `is true, but @opentelemetry/api cannot be loaded (${(err as Error).message}): ` +
          'npm install @opentelemetry/api, or set telemetry.tracing to "auto"',
      );
    }
    return undefined;
  }
  return new CallTracer(api);
}

/** `@opentelemetry/api` loaded synchronously, for a call (its CommonJS entry); undefined when not installed. */
function requireApi(): Api | undefined {
  try {
    const mod = createRequire(import.meta.url)('@opentelemetry/api') as Api & { default?: Api };
    return mod.trace ? mod : mod.default;
  } catch {
    return undefined;
  }
}

interface ProviderLike {
  getTracer(name: string, version?: string): OtelApi.Tracer;
  getDelegate?: () => ProviderLike;
}

export class CallTracer {
  /** The API; undefined until it is needed (see the top of this file); null when it cannot be loaded. */
  #api: Api | undefined | null;
  /** The API's no-op provider: what the global proxy delegates to until an SDK registers. */
  #noop: unknown;
  #delegate: unknown;
  #tracer: OtelApi.Tracer | undefined;

  /**
   * @param api the `@opentelemetry/api` module (typed loosely, so the declarations need no OpenTelemetry types);
   *   undefined to load it on the first call made once something is registered with it
   */
  constructor(api: object | undefined) {
    this.#api = api as Api | undefined;
    if (api) this.#noop = (new this.#api!.ProxyTracerProvider() as ProviderLike).getDelegate?.();
  }

  /** The tracer of the provider registered now, or undefined when none is (no SDK: tracing is off). */
  #currentTracer(): OtelApi.Tracer | undefined {
    if (!this.#api) {
      if (this.#api === null || !registered()) return undefined; // nothing registered: nothing to trace with
      this.#api = requireApi() ?? null;
      if (!this.#api) return undefined;
      this.#noop = (new this.#api.ProxyTracerProvider() as ProviderLike).getDelegate?.();
    }
    const provider = this.#api.trace.getTracerProvider() as ProviderLike;
    const delegate = provider.getDelegate ? provider.getDelegate() : provider;
    if (delegate === this.#noop) return undefined;
    if (delegate !== this.#delegate) {
      this.#delegate = delegate;
      this.#tracer = (delegate as ProviderLike).getTracer('snakepit');
    }
    return this.#tracer;
  }

  /** A call was created (in its caller's context): open its span and put its trace context on the call. */
  begin(call: Call, correlationIdOf: (call: Call) => string): void {
    const tracer = this.#currentTracer();
    if (!tracer) return;
    const correlationId = correlationIdOf(call); // built only for a traced call
    const api = this.#api!; // loaded: a tracer was found
    const attributes: OtelApi.Attributes = {
      'rpc.system': 'snakepit',
      'rpc.service': call.pool,
      'rpc.method': call.tool,
      'snakepit.pool': call.pool,
      'snakepit.tool': call.tool,
      'snakepit.call_id': call.id,
      'snakepit.correlation_id': correlationId,
      'snakepit.stream': call.stream !== undefined,
    };
    if (call.sessionId !== undefined) attributes['snakepit.session'] = call.sessionId;
    const span = tracer.startSpan(
      `${call.pool}/${call.tool}`,
      { kind: api.SpanKind.CLIENT, attributes },
      api.context.active(),
    );
    const sc = span.spanContext();
    if (!api.isSpanContextValid(sc)) {
      span.end();
      return;
    }
    call.span = span;
    const tracestate = sc.traceState?.serialize();
    call.trace = {
      traceparent: `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`,
      ...(tracestate ? { tracestate } : {}),
    };
  }

  /** The call settled: finish its span. */
  end(call: Call, error: Error | undefined, end: SpanEnd): void {
    const span = call.span as OtelApi.Span | undefined;
    if (!span) return;
    call.span = undefined;
    if (end.worker !== undefined) span.setAttribute('snakepit.worker', end.worker);
    span.setAttribute('snakepit.queue_wait_ms', Math.round(end.queueWaitMs * 1000) / 1000);
    if (end.attempt > 1) span.setAttribute('snakepit.attempt', end.attempt);
    if (call.stream) span.setAttribute('snakepit.chunks', end.chunks);
    if (error) {
      span.recordException(error);
      span.setAttribute('error.type', end.errorName ?? error.name);
      span.setStatus({ code: this.#api!.SpanStatusCode.ERROR, message: error.message });
    }
    span.end();
  }
}
