"""OpenTelemetry in the worker: continue the host's trace around each call that carries one.

The host puts the W3C trace context of its call span in the call's ``trace`` field (``traceparent``,
``tracestate``). When the OpenTelemetry API (``opentelemetry-api``) is importable, the worker opens a SERVER
span with that parent while the tool runs, and makes it current, so spans the tool creates (and
instrumented libraries it calls) join the same trace. Which SDK records the spans is the adapter's choice
(``trace.set_tracer_provider(...)`` in ``initialize()``); without one the API's no-op span still carries the
context. Without the API this module does nothing.

    host span "pool/tool" (CLIENT) ──traceparent──► worker span "pool/tool" (SERVER) ──► the tool's own spans

Nothing here runs for a call without ``trace``; tracing never fails a call (a broken install is reported
once on stderr and then ignored).
"""

from __future__ import annotations

import sys

from . import runtime
from .session_context import correlation_id_of

__all__ = ["activate", "deactivate", "finish", "available"]

_api = None  # (context, trace, tracer, TraceState) once loaded; False when the API is missing or broken


def _load():
    global _api
    if _api is None:
        try:
            from opentelemetry import context, trace
            from opentelemetry.trace.span import TraceState

            # A ProxyTracer until the adapter registers a provider, which it then follows: safe to keep.
            _api = (context, trace, trace.get_tracer("snakepit_bridge"), TraceState)
        except ImportError:
            _api = False
        except Exception as exc:  # installed but broken: say so once, then run untraced
            sys.stderr.write("snakepit_bridge: OpenTelemetry API unusable, tracing off: %r\n" % (exc,))
            _api = False
    return _api


def available() -> bool:
    """True when the OpenTelemetry API is importable (calls with a trace context are traced)."""
    return bool(_load())


def _parent(info, api):
    """The remote parent named by a ``trace`` field (W3C traceparent, version 00) as a non-recording span,
    or None if malformed."""
    if type(info) is not dict:
        return None
    tp = info.get("traceparent")
    if type(tp) is not str or len(tp) != 55 or tp[:3] != "00-" or tp[35] != "-" or tp[52] != "-":
        return None
    try:
        tid, sid, flags = int(tp[3:35], 16), int(tp[36:52], 16), int(tp[53:55], 16)
    except ValueError:
        return None
    if tid == 0 or sid == 0:
        return None
    trace, trace_state = api[1], api[3]
    ts = info.get("tracestate")
    state = trace_state.from_header([ts]) if type(ts) is str and ts else None
    ctx = trace.SpanContext(tid, sid, is_remote=True, trace_flags=trace.TraceFlags(flags), trace_state=state)
    return trace.NonRecordingSpan(ctx)


def _provider_registered(trace) -> bool:
    """Whether the adapter registered a tracer provider (it can be set once, never unset)."""
    global _registered
    if not _registered:
        provider = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)  # fast path; the public call reads os.environ
        if provider is _UNKNOWN:
            provider = None if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider) else True
        _registered = provider is not None
    return _registered


_registered = False
_UNKNOWN = object()


def _start(call, api):
    parent = _parent(call.trace, api)
    if parent is None:
        return None  # no usable context: run untraced rather than start a stray root
    trace, tracer = api[1], api[2]
    if not _provider_registered(trace):
        # No SDK registered: a span would not be recorded. The host's context is made current as it is, so
        # what the tool calls (an instrumented HTTP client) still propagates the trace.
        return parent
    pool = runtime._INFO.get("pool") or "default"
    attributes = {
        "rpc.system": "snakepit", "rpc.service": pool, "rpc.method": call.tool,
        "snakepit.pool": pool, "snakepit.tool": call.tool, "snakepit.call_id": call.id,
        "snakepit.worker": runtime._INFO.get("worker_id") or "",
    }
    if call.session is not None:
        attributes["snakepit.session"] = call.session
    cid = correlation_id_of(call)
    if cid is not None:
        attributes["snakepit.correlation_id"] = cid
    return tracer.start_span("%s/%s" % (pool, call.tool), context=trace.set_span_in_context(parent),
                             kind=trace.SpanKind.SERVER, attributes=attributes)


def activate(call):
    """Make ``call``'s span current here (opening it on first use). Returns a token for ``deactivate``.

    Returns None when the call carries no usable trace context or the API is missing.
    """
    api = _load()
    if not api:
        return None
    try:
        span = call.span
        if span is None:
            span = call.span = _start(call, api)
            if span is None:
                return None
        return api[0].attach(api[1].set_span_in_context(span))
    except Exception as exc:
        _broken(exc)
        return None


def deactivate(token) -> None:
    """Undo ``activate`` (same thread or task)."""
    if token is not None and _api:
        try:
            _api[0].detach(token)
        except Exception as exc:
            _broken(exc)


def finish(call, error) -> None:
    """End ``call``'s span as its terminal frame goes out; ``error`` is its ErrorInfo, or None."""
    span, call.span = call.span, None
    if span is None or not _api or not span.is_recording():
        return
    try:
        if error is not None:
            kind = error.get("kind")
            etype = error.get("type") or kind or "error"
            span.set_attribute("error.type", etype)
            if kind == "cancelled":
                span.set_attribute("snakepit.cancelled", str((error.get("details") or {}).get("reason")))
            span.add_event("exception", {
                "exception.type": etype,
                "exception.message": str(error.get("message") or ""),
                "exception.stacktrace": str(error.get("traceback") or ""),
            })
            span.set_status(_api[1].Status(_api[1].StatusCode.ERROR, str(error.get("message") or etype)))
        span.end()
    except Exception as exc:
        _broken(exc)


_reported = False


def _broken(exc) -> None:
    global _reported
    if not _reported:
        _reported = True
        sys.stderr.write("snakepit_bridge: tracing failed (calls go on untraced): %r\n" % (exc,))
