"""The bridge's own tools: for object references, ``__snakepit__.call_method`` and ``__snakepit__.get_attr``;
for moving a session to another worker, ``__snakepit__.session_export`` and ``__snakepit__.session_import``
(session_tools.py).

The host's ``pit.callMethod(ref, method, args)`` and ``pit.getAttr(ref, name)`` are ordinary calls to these
names (PROTOCOL.md section 5, "Reserved tools"), so they get everything a call gets: the session, the
deadline, cancellation, errors with tracebacks. The ``ref`` argument must be a reference; like any
reference argument it is resolved only in its own session on its own worker (refs.py). A result that
cannot be encoded by value comes back as a new reference.
"""

from __future__ import annotations

from ..channel.values import RefToken
from .session_tools import session_export, session_import, session_problem
from .tools import Tool

__all__ = ["RESERVED_PREFIX", "BUILTIN_TOOLS", "builtin_problem"]

RESERVED_PREFIX = "__snakepit__."


def call_method(ref, method: str, args: list = None, kwargs: dict = None):
    """Call ``ref.<method>(*args, **kwargs)`` and return what it returns."""
    return getattr(ref, method)(*(args or ()), **(kwargs or {}))


def get_attr(ref, name: str):
    """Return ``ref.<name>``."""
    return getattr(ref, name)


BUILTIN_TOOLS = {
    RESERVED_PREFIX + "call_method": Tool(RESERVED_PREFIX + "call_method", call_method, None),
    RESERVED_PREFIX + "get_attr": Tool(RESERVED_PREFIX + "get_attr", get_attr, None),
    RESERVED_PREFIX + "session_export": Tool(RESERVED_PREFIX + "session_export", session_export, None),
    RESERVED_PREFIX + "session_import": Tool(RESERVED_PREFIX + "session_import", session_import, None),
}


def builtin_problem(call) -> str | None:
    """What is wrong with the arguments of a builtin call beyond its signature, or None."""
    if call.tool.startswith(RESERVED_PREFIX + "session_"):
        return session_problem(call)
    args = call.args
    if not isinstance(args.get("ref"), RefToken):
        return "'ref' must be an object reference (a PyRef), got %s" % type(args.get("ref")).__name__
    name = args.get("method", args.get("name"))
    if not isinstance(name, str) or not name:
        return "the attribute or method name must be a non-empty string, got %r" % (name,)
    if not isinstance(args.get("args", []), list) and args.get("args") is not None:
        return "'args' must be a list of positional arguments"
    if not isinstance(args.get("kwargs", {}), dict) and args.get("kwargs") is not None:
        return "'kwargs' must be a map of keyword arguments"
    return None
