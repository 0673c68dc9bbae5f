"""The call running in this thread or task (``current_call``) and its correlation id.

Its own module, below everything that needs it (session contexts, references, dispatch, telemetry), so none of
them has to import another to learn which call it serves.
"""

from __future__ import annotations

import contextvars

from .runtime import _INFO as _runtime_info

__all__ = ["correlation_id_of", "current_call"]

# The dispatch.calls.Call being handled in this thread or task, or None.
current_call: contextvars.ContextVar = contextvars.ContextVar("snakepit_current_call", default=None)


def correlation_id_of(call) -> str | None:
    """A call's correlation id: the host's ``correlation_id``, else ``<run id>-<call id>`` (as the host derives
    it; PROTOCOL.md section 5), or None for a worker started without a run id."""
    cid = call.correlation_id
    if cid is None:
        run = _runtime_info.get("run_id")
        if run is not None:
            cid = "%s-%s" % (run, call.id)
    return cid
