"""The one place where a library result that has no by-value form becomes an object reference.

    to_ref(obj, path)  ->  a ``Ref`` the codecs send as the ``ref`` tag (a ``PyRef`` on the host)

References belong to sessions (docs/SESSIONS.md, ``refs.py``): the object stays in this worker, bound to the
session of the call that made it, until the host releases the handle or the session ends. So a reference needs
a call with a session; without one the result is a ``serialization`` error that says how to get one.
"""

from __future__ import annotations

from ..errors import BridgeError
from ..refs import make_ref
from ..session_context import current_call

__all__ = ["to_ref", "REFS_AVAILABLE"]

REFS_AVAILABLE = True


def _type_name(obj) -> str:
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else "%s.%s" % (cls.__module__, cls.__qualname__)


def to_ref(obj, path: str):
    """Keep ``obj`` in this worker for the current call's session and return its reference.

    Raises:
        BridgeError: kind ``serialization`` (``SerializationError`` on the host) when the call has no session.
    """
    call = current_call.get()
    session = call.session if call is not None else None
    if session is None:
        type_name = _type_name(obj)
        raise BridgeError(
            "serialization",
            "cannot return %s by value at %s; in a session it is returned as an object reference: call it with "
            "executeInSession (or the sessionId option)" % (type_name, path),
            {"path": path, "python_type": type_name},
            type_name="SerializationError",
        )
    return make_ref(obj, session)
