"""Python ``logging`` records forwarded to the host as ``log`` frames.

Every record created while a call runs carries the call's correlation id as ``record.correlation_id``
(None outside a call), so a formatter of the adapter's own can print it (``%(correlation_id)s``); the
forwarded frame carries it too, and the host puts it on the line it logs and on the ``log`` event.
"""

from __future__ import annotations

import logging
import sys

from ..session_context import correlation_id_of, current_call

__all__ = ["LogForwarder", "install"]

_LEVELS = ((logging.CRITICAL, "critical"), (logging.ERROR, "error"), (logging.WARNING, "warning"),
           (logging.INFO, "info"))


def _level_name(levelno: int) -> str:
    for threshold, name in _LEVELS:
        if levelno >= threshold:
            return name
    return "debug"


class LogForwarder(logging.Handler):
    """Sends each record as a ``log`` frame; before the channel is usable, writes it to stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))
        self.send = None  # set once the worker is ready: a function taking one message dict

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            send = self.send
            if send is None:
                # Before ``ready`` the host expects only ``ready`` or ``fatal``; stderr is logged too.
                sys.stderr.write("%s:%s:%s\n" % (record.levelname, record.name, text))
                return
            msg = {"type": "log", "level": _level_name(record.levelno), "logger": record.name,
                   "message": text}
            call = current_call.get()
            if call is not None:
                msg["call"] = call.id
            cid = getattr(record, "correlation_id", None)
            if cid is not None:
                msg["correlation_id"] = cid
            send(msg)
        except Exception:
            self.handleError(record)  # prints to stderr; never raises into the code that logged


def _with_correlation_id(factory):
    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        call = current_call.get()
        record.correlation_id = correlation_id_of(call) if call is not None else None
        return record

    make_record.snakepit = True
    return make_record


def install() -> LogForwarder:
    """Put a LogForwarder on the root logger (level INFO), replacing Python's stderr fallback, and stamp each
    record with the current call's correlation id."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "snakepit", False):
        logging.setLogRecordFactory(_with_correlation_id(factory))
    handler = LogForwarder()
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.WARNING:  # the default: lower it so INFO records are forwarded
        root.setLevel(logging.INFO)
    return handler
