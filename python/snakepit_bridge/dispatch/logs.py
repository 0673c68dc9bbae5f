"""Python ``logging`` records forwarded to the host as ``log`` frames."""

from __future__ import annotations

import logging
import sys

from ..session_context import current_call

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
            send(msg)
        except Exception:
            self.handleError(record)  # prints to stderr; never raises into the code that logged


def install() -> LogForwarder:
    """Put a LogForwarder on the root logger (level INFO), replacing Python's stderr fallback."""
    handler = LogForwarder()
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.WARNING:  # the default: lower it so INFO records are forwarded
        root.setLevel(logging.INFO)
    return handler
