"""Exceptions of the bridge, and ErrorInfo: how an exception crosses the channel as data.

ErrorInfo is the ``error`` field of ``error`` and ``fatal`` frames (PROTOCOL.md section 5): the exception's
kind, type, module, MRO names, message, formatted traceback and kind-specific details. Like CPython's
``_ExceptionWithTraceback``, the traceback travels as text and the host rebuilds a typed error from it.
"""

from __future__ import annotations

import os

__all__ = [
    "CallCancelled",
    "HostToolError",
    "BridgeError",
    "UnknownHostToolError",
    "error_info",
    "bridge_error",
    "serialization_error",
    "payload_too_large",
    "cancelled",
    "shrunk",
]


class CallCancelled(BaseException):
    """Raised inside a running tool when the host cancels its call.

    A ``BaseException``, so ``except Exception`` in a tool does not swallow it; ``finally`` blocks run.
    ``reason`` is the host's: ``timeout``, ``abort``, ``consumer_stopped`` or ``shutdown``.
    """

    def __init__(self, reason: str = "abort") -> None:
        super().__init__(reason)
        self.reason = reason


class HostToolError(RuntimeError):
    """A host tool called from Python failed: its handler threw, the host refused the arguments, or no
    answer came before the call's deadline. A ``RuntimeError``, as in Snakepit.

    Attributes:
        tool: the host tool's name.
        name: the name of the host's error (``TypeError``, ``InvalidArgumentsError``, ``CallTimeoutError``).
        message: the host error's message.
        code: the host error's code when it has one (``SNAKEPIT_INVALID_ARGUMENTS``, ``ERR_X``), or
            ``"timeout"`` when no answer came in time.
    """

    def __init__(self, tool: str, message: str, code: str | None = None, name: str | None = None) -> None:
        super().__init__("host tool %r failed: %s%s" % (tool, "%s: " % name if name else "", message))
        self.tool = tool
        self.name = name or "Error"
        self.message = message
        self.code = code


class BridgeError(Exception):
    """Raised by bridge code that runs inside a call (the generic adapter) to answer the call with a
    bridge kind (``invalid_arguments``, ``unknown_tool``, ``serialization``) instead of ``python``."""

    def __init__(self, kind: str, message: str, details: dict | None = None, type_name: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details or {}
        self.type_name = type_name


class UnknownHostToolError(HostToolError):
    """No host tool of that name is visible to this call (not registered, or registered for another session).
    ``str(exc)`` lists the ones that are."""

    CODE = "SNAKEPIT_UNKNOWN_HOST_TOOL"

    def __init__(self, tool: str, message: str, code: str | None = None, name: str | None = None) -> None:
        super().__init__(tool, message, code, name)
        self.args = (message,)  # the host's message already names the tool and what is available

    def __str__(self) -> str:
        return self.message


# Frames from these directories are the bridge calling the tool: drop them from the top of a traceback
# so the user sees their own code first.
_BRIDGE_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), sub) + os.sep for sub in ("dispatch", "generic")
)


def _user_traceback(exc: BaseException):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_BRIDGE_DIRS):
        tb = tb.tb_next
    return tb if tb is not None else exc.__traceback__


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not break error reporting
        return "<unprintable %s>" % type(exc).__name__


_memory_note = None  # what a MemoryError means in this worker, when it has a memory limit (dispatch/limits.py)


def note_memory_limit(note: str) -> None:
    """Add ``note`` to the message of every MemoryError a tool raises from now on."""
    global _memory_note
    _memory_note = note


def error_info(exc: BaseException, kind: str = "python", details: dict | None = None) -> dict:
    """Describe ``exc`` as an ErrorInfo dict.

    Args:
        exc: the exception, normally with its ``__traceback__``.
        kind: the ErrorInfo kind (``python`` for an exception raised by a tool).
        details: kind-specific fields.

    Returns:
        ``{"kind", "type", "module", "mro", "message", "traceback", "details"}``
    """
    if isinstance(exc, BridgeError):
        return bridge_error(exc.kind, str(exc), exc.details, exc.type_name)
    cls = type(exc)
    try:
        import traceback  # loaded by the first error (a dict lookup after that): an idle worker does without it

        text = "".join(traceback.format_exception(cls, exc, _user_traceback(exc)))
    except Exception:  # pragma: no cover - formatting a traceback should not fail, but never crash here
        text = "%s: %s\n" % (cls.__name__, _safe_str(exc))
    message = _safe_str(exc)
    if _memory_note is not None and isinstance(exc, MemoryError):
        message = "%s (%s)" % (message, _memory_note) if message else _memory_note
    return {
        "kind": kind,
        "type": cls.__name__,
        "module": cls.__module__,
        "mro": [c.__name__ for c in cls.__mro__ if c is not object],
        "message": message,
        "traceback": text,
        "details": details or {},
    }


def bridge_error(kind: str, message: str, details: dict | None = None, type_name: str = "") -> dict:
    """An ErrorInfo the bridge raises itself (unknown tool, bad arguments, cancelled, ...)."""
    type_name = type_name or "".join(part.capitalize() for part in kind.split("_")) + "Error"
    return {
        "kind": kind,
        "type": type_name,
        "module": "snakepit_bridge",
        "mro": [type_name],
        "message": message,
        "traceback": "",
        "details": details or {},
    }


def serialization_error(exc) -> dict:
    """ErrorInfo for a :class:`~snakepit_bridge.channel.codec.SerializationError`."""
    return bridge_error(
        "serialization",
        str(exc),
        {"path": exc.path, "python_type": exc.python_type},
        type_name="SerializationError",
    )


def payload_too_large(exc) -> dict:
    """ErrorInfo for a :class:`~snakepit_bridge.channel.connection.PayloadTooLarge`."""
    return bridge_error(
        "payload_too_large", str(exc), {"size": exc.size, "limit": exc.limit},
        type_name="PayloadTooLargeError",
    )


def cancelled(reason: str) -> dict:
    """ErrorInfo for a cancelled call."""
    return bridge_error("cancelled", "call cancelled (%s)" % reason, {"reason": reason},
                        type_name="CallCancelled")


def shrunk(info: dict, max_chars: int) -> dict:
    """A copy of an ErrorInfo that can always be encoded: lone surrogates escaped, long texts cut.

    Used when the ErrorInfo itself could not be sent (a message with invalid text, or a traceback
    larger than the frame limit), so the call still gets its terminal frame.
    """
    def fix(value):
        if isinstance(value, str):
            text = value.encode("utf-8", "backslashreplace").decode("utf-8")
            return text if len(text) <= max_chars else "...[cut]..." + text[-max_chars:]
        if isinstance(value, dict):
            return {fix(k): fix(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value[:64]]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return fix(repr(value))

    return fix(info)
