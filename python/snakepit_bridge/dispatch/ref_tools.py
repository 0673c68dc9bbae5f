"""The bridge's own tools: for object references, ``__snakepit__.call_method`` and ``__snakepit__.get_attr``;
for moving a session to another worker, ``__snakepit__.session_export`` and ``__snakepit__.session_import``
(session_tools.py).

The host's ``pit.callMethod(ref, method, args)`` and ``pit.getAttr(ref, name)`` are ordinary calls to these
names (PROTOCOL.md section 5, "Reserved tools"), so they get everything a call gets: the session, the
deadline, cancellation, errors with tracebacks. The ``ref`` argument must be a reference; like any
reference argument it is resolved only in its own session on its own worker (refs.py). A result that
cannot be encoded by value comes back as a new reference.

The name policy (names.py) holds at three points, each refusal an ``invalid_arguments`` answer that names
the policy: the name itself, before anything runs (``builtin_problem``: no ``_`` names, no frame or code
internals, no evaluating methods); the object the reference holds and what the name reaches on it (no
modules, no code-running builtins, nothing of a module that runs processes or code); and the result
(nothing the caller would get a reference to that the policy refuses).
"""

from __future__ import annotations

from ..channel.values import RefToken
from ..errors import BridgeError
from ..names import member_problem, object_problem, result_problem, value_problem
from .session_tools import session_export, session_import, session_problem
from .tools import Tool

__all__ = ["RESERVED_PREFIX", "BUILTIN_TOOLS", "builtin_problem"]

RESERVED_PREFIX = "__snakepit__."
CALL_METHOD = RESERVED_PREFIX + "call_method"
GET_ATTR = RESERVED_PREFIX + "get_attr"


def _refused(tool: str, problem: str) -> BridgeError:
    return BridgeError("invalid_arguments", "%s() %s" % (tool, problem),
                       {"tool": tool, "signature": "", "problem": problem})


def _reach(tool: str, obj, name: str):
    what = "%s.%s" % (type(obj).__name__, name)
    problem = object_problem(obj, "%s (the object behind the reference)" % what)
    if problem is None:
        value = getattr(obj, name)
        problem = value_problem(value, what)
    if problem is not None:
        raise _refused(tool, problem)
    return value, what


def call_method(ref, method: str, args: list = None, kwargs: dict = None):
    """Call ``ref.<method>(*args, **kwargs)`` and return what it returns."""
    bound, what = _reach(CALL_METHOD, ref, method)
    result = bound(*(args or ()), **(kwargs or {}))
    problem = result_problem(result, what + "()")
    if problem is not None:
        raise _refused(CALL_METHOD, problem)
    return result


def get_attr(ref, name: str):
    """Return ``ref.<name>``."""
    value, what = _reach(GET_ATTR, ref, name)
    problem = result_problem(value, what)
    if problem is not None:
        raise _refused(GET_ATTR, problem)
    return value


BUILTIN_TOOLS = {
    CALL_METHOD: Tool(CALL_METHOD, call_method, None),
    GET_ATTR: Tool(GET_ATTR, get_attr, None),
    RESERVED_PREFIX + "session_export": Tool(RESERVED_PREFIX + "session_export", session_export, None),
    RESERVED_PREFIX + "session_import": Tool(RESERVED_PREFIX + "session_import", session_import, None),
}


def builtin_problem(call) -> str | None:
    """What is wrong with the arguments of a builtin call beyond its signature, or None."""
    if call.tool.startswith(RESERVED_PREFIX + "session_"):
        return session_problem(call)
    args = call.args
    name = args.get("method", args.get("name"))
    if not isinstance(name, str) or not name:
        return "the attribute or method name must be a non-empty string, got %s" % type(name).__name__
    problem = member_problem(name)  # first: whatever else is wrong, a refused name is refused as such
    if problem is not None:
        return problem
    if not isinstance(args.get("ref"), RefToken):
        return "'ref' must be an object reference (a PyRef), got %s" % type(args.get("ref")).__name__
    if not isinstance(args.get("args", []), list) and args.get("args") is not None:
        return "'args' must be a list of positional arguments"
    if not isinstance(args.get("kwargs", {}), dict) and args.get("kwargs") is not None:
        return "'kwargs' must be a map of keyword arguments"
    return None
