"""The one place where a library result that has no by-value form becomes an object reference.

    to_ref(obj, path)  ->  a reference the codecs send as the ``ref`` tag (a ``PyRef`` on the host)

Object references belong to the sessions issue (issue 3): a worker-side table of objects bound to the
session of the call that made them, the ``ref`` tag, and ``pit.callMethod`` / ``pit.getAttr`` on the host.
Until that mechanism is on this branch, ``to_ref`` refuses with a ``serialization`` error that says why,
so a caller never gets a fake handle. Wiring it in is this function's body only:

    from ..refs import make_ref                      # issue 3
    call = current_call.get()
    if call is None or call.session is None: raise the error below, with "call it in a session"
    return make_ref(obj, call.session)
"""

from __future__ import annotations

from ..errors import BridgeError

__all__ = ["to_ref", "REFS_AVAILABLE"]

REFS_AVAILABLE = False  # True once to_ref returns real references (the generic tests read this)


def to_ref(obj, path: str):
    """Return a reference to ``obj`` for the current call's session.

    Raises:
        BridgeError: kind ``serialization`` (``SerializationError`` on the host), naming the type and path.
    """
    cls = type(obj)
    type_name = "%s.%s" % (cls.__module__, cls.__qualname__) if cls.__module__ != "builtins" else cls.__qualname__
    raise BridgeError(
        "serialization",
        "cannot return %s by value at %s; object references arrive with sessions (issue 3), until then "
        "call a function that returns plain data (e.g. DataFrame.to_dict) or list it as a nested path "
        "(DataFrame.describe) and pass the value in" % (type_name, path),
        {"path": path, "python_type": type_name},
        type_name="SerializationError",
    )
