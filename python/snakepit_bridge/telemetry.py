"""Telemetry from Python: ``event`` frames the host turns into its own telemetry events.

    from snakepit_bridge import telemetry
    telemetry.emit("model.loaded", {"ms": 12.5}, {"model": "small"})
    with telemetry.span("inference", {"batch": 8}):
        ...

Event names are lists of strings on the wire; a dotted string is split on ".". Every function here is a
no-op (returning quietly) when the worker has no channel yet, so tools can emit unconditionally.
"""

from __future__ import annotations

import time

from .session_context import correlation_id_of, current_call

__all__ = ["emit", "span", "get_correlation_id", "is_enabled"]

_send = None  # set by the worker once the channel is ready: a function taking one message dict


def _attach(send) -> None:
    global _send
    _send = send


def is_enabled() -> bool:
    """True when events reach a host."""
    return _send is not None


def get_correlation_id() -> str | None:
    """The correlation id of the call being handled here (the host's, else ``<run id>-<call id>``), or None
    outside a call."""
    call = current_call.get()
    return correlation_id_of(call) if call is not None else None


def _name(event: object) -> list:
    if isinstance(event, str):
        return event.split(".")
    return [str(part) for part in event]


def emit(event: object, measurements: dict, metadata: dict | None = None,
         correlation_id: str | None = None) -> None:
    """Send one telemetry event.

    Args:
        event: ``"a.b.c"`` or ``["a", "b", "c"]``.
        measurements: numbers, by name.
        metadata: anything encodable.
        correlation_id: defaults to the current call's.

    Raises:
        SerializationError: a measurement or metadata value cannot be encoded.
    """
    send = _send
    if send is None:
        return
    msg = {"type": "event", "name": _name(event), "measurements": measurements, "metadata": metadata or {}}
    cid = correlation_id if correlation_id is not None else get_correlation_id()
    if cid is not None:
        msg["correlation_id"] = cid
    send(msg)


class span:
    """Emit ``<name>.start`` on entry and ``<name>.stop`` (or ``<name>.exception``) on exit.

    Measurements: ``system_time`` (ns since the epoch) at start; ``duration`` (ns, monotonic) at the end.
    A context manager (``with telemetry.span(...):``) and a decorator (``@telemetry.span(...)``: one span per
    call), as ``contextlib.contextmanager`` would make it; a class so that a worker's start does not import
    ``contextlib`` for it (docs/PERFORMANCE.md, "Start of one worker").
    """

    __slots__ = ("_parts", "_meta", "_cid", "_started")

    def __init__(self, name: object, metadata: dict | None = None, correlation_id: str | None = None):
        self._parts = _name(name)
        self._meta = metadata or {}
        self._cid = correlation_id
        self._started = None

    def __enter__(self) -> None:
        emit(self._parts + ["start"], {"system_time": time.time_ns()}, self._meta, self._cid)
        self._started = time.monotonic_ns()

    def __exit__(self, exc_type, exc, tb) -> None:  # None: the exception, if any, goes on
        duration = time.monotonic_ns() - self._started
        if exc_type is None:
            emit(self._parts + ["stop"], {"duration": duration}, self._meta, self._cid)
        else:
            emit(self._parts + ["exception"], {"duration": duration},
                 dict(self._meta, kind=exc_type.__name__, reason=str(exc)), self._cid)

    def __call__(self, func):
        import functools  # loaded already in any worker (re, json); only a decorating adapter gets here

        parts, meta, cid = self._parts, self._meta, self._cid

        @functools.wraps(func)
        def spanned(*args, **kwargs):
            with span(parts, meta, cid):
                return func(*args, **kwargs)

        return spanned
