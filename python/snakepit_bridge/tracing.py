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

_api = None  # (context, trace, propagator) once loaded; False when the API is missing or broken


def _load():
    global _api
    if _api is None:
        try:
            from opentelemetry import context, trace
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

            _api = (context, trace, TraceContextTextMapPropagator())
        except ImportError:
            _api = False
        except Exception as exc:  # installed but broken: say so once, then run untraced
            sys.stderr.write("snakepit_bridge: OpenTelemetry API unusable, tracing off: %r\n" % (exc,))
            _api = False
    return _api


def available() -> bool:
    """True when the OpenTelemetry API is importable (calls with a trace context are traced)."""
    return bool(_load())


def _start(call, api):
    context, trace, propagator = api
    info = call.trace
    if not isinstance(info, dict) or not isinstance(info.get("traceparent"), str):
        return None
    carrier = {"traceparent": info["traceparent"]}
    if isinstance(info.get("tracestate"), str):
        carrier["tracestate"] = info["tracestate"]
    parent = propagator.extract(carrier)
    if not trace.get_current_span(parent).get_span_context().is_valid:
        return None  # a malformed traceparent: run untraced rather than start a stray root
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
    tracer = trace.get_tracer("snakepit_bridge")
    return tracer.start_span("%s/%s" % (pool, call.tool), context=parent, kind=trace.SpanKind.SERVER,
                             attributes=attributes)


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
        context, trace, _ = api
        return context.attach(trace.set_span_in_context(span))
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
    if span is None or not _api:
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
