"""Tools for examples/tracing.ts: they report the trace context and correlation id the call brought along."""
from __future__ import annotations

import logging

from snakepit_bridge import BaseAdapter, tool

log = logging.getLogger("examples.traced")


class TracedTools(BaseAdapter):
    @tool(description="what this call knows about its trace and its correlation id")
    def where_am_i(self, text: str = "") -> dict:
        meta = self.session_context.request_metadata
        log.info("classifying %r", text)  # forwarded to the host with the call's correlation id
        report = {
            "traceparent": (meta.get("trace") or {}).get("traceparent"),
            "correlation_id": meta.get("correlation_id"),
            "otel_trace_id": None,
        }
        try:  # with the OpenTelemetry API installed, the worker's current span continues the host's trace
            from opentelemetry import trace

            ctx = trace.get_current_span().get_span_context()
            if ctx.is_valid:
                report["otel_trace_id"] = format(ctx.trace_id, "032x")
        except ImportError:
            pass
        return report
