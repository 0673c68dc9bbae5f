"""Object references: Python objects kept in the worker and handed to the host as typed handles.

    worker (this process)                                   host
    REFS: id -> (object, session)  --- tag "ref" ------->   PyRef {id, type, repr, session, worker}
          ^                         <-- tag "ref" in args--  passed back in the same session
          `-- dropped on "release", "session_end", or when the host's handle is garbage-collected

A reference is bound to the session of the call that made it and to this worker (PROTOCOL.md section
3.1, kind ``ref``). A reference that arrives in the arguments of a call is replaced by its object before
the tool runs, but only when the call is in the same session and on the same worker; anything else is
refused with ``invalid_arguments`` and never resolved.

Two ways to make one:

- explicitly, anywhere in a result or chunk: ``make_ref(obj)`` (or ``ctx.ref(obj)``);
- implicitly: in a call that has a session, a result or chunk value that no codec can carry (a DataFrame,
  a model, a file handle) is sent as a reference instead of failing with a serialization error
  (``encode_by_ref``). Without a session the serialization error stays, with a hint.
"""

from __future__ import annotations

import itertools
import reprlib
import threading

from . import runtime
from .channel.connection import PayloadTooLarge
from .channel.values import TAG_KEY, RefToken, SerializationError, TaggedValue
from .call_context import current_call

__all__ = ["Ref", "RefToken", "RefTable", "REFS", "make_ref", "encode_by_ref", "resolve_args",
           "REPR_CHARS"]

REPR_CHARS = 200  # the repr sent with a reference is cut to this many characters

_repr = reprlib.Repr()
_repr.maxstring = REPR_CHARS
_repr.maxother = REPR_CHARS


class Ref(TaggedValue):
    """A reference on its way out: encoded by both codecs as the ``ref`` tag (never by value)."""

    __slots__ = ("id", "type", "module", "repr", "session", "worker", "pool", "run")

    def __init__(self, ref_id: str, obj: object, session: str) -> None:
        info = runtime.worker_info()
        cls = type(obj)
        self.id = ref_id
        self.type = getattr(cls, "__qualname__", cls.__name__)
        self.module = getattr(cls, "__module__", None) or ""
        self.repr = _short_repr(obj)
        self.session = session
        self.worker = info.get("worker_id")
        self.pool = info.get("pool")
        self.run = info.get("run_id")

    def tag(self) -> dict:
        tag = {TAG_KEY: "ref", "id": self.id, "type": self.type, "module": self.module, "repr": self.repr,
               "session": self.session}
        for field in ("worker", "pool", "run"):
            value = getattr(self, field)
            if value is not None:
                tag[field] = value
        return tag

    def __repr__(self) -> str:
        return "Ref(%s, %s, session=%r)" % (self.id, self.type, self.session)


def _short_repr(obj: object) -> str:
    try:
        text = _repr.repr(obj)
    except Exception:  # a broken __repr__ must not break the result
        text = "<%s object>" % type(obj).__name__
    return text if len(text) <= REPR_CHARS else text[: REPR_CHARS - 3] + "..."


class _Entry:
    __slots__ = ("obj", "session")

    def __init__(self, obj: object, session: str) -> None:
        self.obj = obj
        self.session = session


class RefTable:
    """The objects this worker keeps for the host, by reference id. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries = {}  # id -> _Entry
        self._by_session = {}  # session -> set of ids
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, obj: object, session: str) -> Ref:
        """Keep ``obj`` for ``session`` and return the reference to send."""
        ref_id = "r%d" % next(self._ids)
        with self._lock:
            self._entries[ref_id] = _Entry(obj, session)
            self._by_session.setdefault(session, set()).add(ref_id)
        return Ref(ref_id, obj, session)

    def get(self, ref_id):
        """The entry for ``ref_id`` (``.obj``, ``.session``), or None."""
        return self._entries.get(ref_id)

    def adopt(self, key: str, obj: object, session: str) -> None:
        """Keep ``obj`` under ``key`` (``<worker>/<id>``): a reference another worker made, moved here with its
        session (dispatch/session_tools.py). It keeps its id; the host names it by that key."""
        with self._lock:
            self._entries[key] = _Entry(obj, session)
            self._by_session.setdefault(session, set()).add(key)

    def items(self, session: str) -> list:
        """``(key, object)`` of every reference of ``session`` (a snapshot)."""
        with self._lock:
            return [(key, self._entries[key].obj) for key in self._by_session.get(session, ())
                    if key in self._entries]

    def release(self, ref_ids, session=None) -> int:
        """Drop the given references (only those of ``session`` when it is given); returns how many."""
        dropped = []
        with self._lock:
            for ref_id in ref_ids:
                entry = self._entries.get(ref_id)
                if entry is None or (session is not None and entry.session != session):
                    continue
                del self._entries[ref_id]
                ids = self._by_session.get(entry.session)
                if ids is not None:
                    ids.discard(ref_id)
                    if not ids:
                        del self._by_session[entry.session]
                dropped.append(entry)
        count = len(dropped)
        del dropped  # the objects go here, outside the lock (their __del__ may run user code)
        return count

    def drop_session(self, session: str) -> int:
        """Drop every reference of ``session``; returns how many."""
        with self._lock:
            ids = self._by_session.pop(session, ())
            dropped = [self._entries.pop(ref_id, None) for ref_id in ids]
        count = sum(1 for e in dropped if e is not None)
        del dropped
        return count

    def stats(self) -> dict:
        """``{"refs": live references, "sessions": sessions holding any}``."""
        with self._lock:
            return {"refs": len(self._entries), "sessions": len(self._by_session)}


REFS = RefTable()  # one per worker process


def make_ref(obj: object, session: str | None = None) -> Ref:
    """Keep ``obj`` in this worker and return a reference to it, to put in a result or chunk.

    Args:
        obj: any Python object.
        session: the session to bind it to; default: the session of the call being handled.

    Raises:
        RuntimeError: there is no session (references live in a session: call the tool with one).
    """
    if session is None:
        call = current_call.get()
        session = call.session if call is not None else None
    if session is None:
        raise RuntimeError("a reference needs a session: call this tool in a session "
                           "(executeInSession, or the sessionId option)")
    return REFS.add(obj, session)


# ------------------------------------------------------------------------------- outgoing values


def encode_by_ref(conn, call, msg: dict, error: SerializationError):
    """Encode ``msg`` (which failed with ``error``) with every value that has no form made a reference.

    Only in a session: without one, ``error`` is raised again with a hint. Raises SerializationError
    for what a reference cannot fix (a cycle, nesting deeper than the codecs allow), or PayloadTooLarge;
    references made before that are dropped again.
    """
    session = call.session if call is not None else None
    if session is None:
        raise SerializationError(error.path, error.python_type, error.reason + (
            " (in a session this value would be returned as an object reference: call the tool with a "
            "sessionId; or ask for graceful values to get a marker in its place)"))
    made = []

    def as_ref(value, path):
        ref = REFS.add(value, session)
        made.append(ref)
        return ref

    try:
        return conn.encode(msg, as_ref)
    except (SerializationError, PayloadTooLarge):
        REFS.release([ref.id for ref in made])
        raise


# ------------------------------------------------------------------------------- incoming values


def resolve_args(call, tokens, worker_id):
    """Replace the reference tokens in ``call.args`` by their objects.

    Returns None on success, else the problem (text) for an ``invalid_arguments`` answer: a reference
    from another session, from another worker, or one already released.
    """
    objects = {}
    for token in tokens:
        tag = token.fields
        ref_id, owner = tag.get("id"), tag.get("session")
        if not isinstance(ref_id, str) or not isinstance(owner, str):
            return "%r is not a valid object reference (it needs a string id and session)" % (tag,)
        what = "reference %s (%s)" % (ref_id, tag.get("type") or "object")
        if call.session is None:
            return "%s belongs to session %r; this call has no session (pass the reference in its " \
                   "session)" % (what, owner)
        if owner != call.session:
            return "%s belongs to session %r, not to this call's session %r: a reference is only " \
                   "valid in its own session" % (what, owner, call.session)
        key = ref_id
        if tag.get("worker") not in (None, worker_id):
            key = "%s/%s" % (tag.get("worker"), ref_id)  # moved here with its session (adopt)
            if REFS.get(key) is None:
                return "%s lives on worker %s, not on %s, which ran this call (use strict session affinity " \
                       "to keep a session on its worker)" % (what, tag.get("worker"), worker_id)
        entry = REFS.get(key)
        if entry is None or entry.session != owner:
            return "%s was released (or its session ended)" % what
        objects[id(token)] = entry.obj
    call.args = _replace(call.args, objects)
    return None


def _replace(value, objects):
    if type(value) is RefToken:
        return objects[id(value)]
    if type(value) is dict:
        for key, item in value.items():
            if type(item) in (dict, list, RefToken):
                value[key] = _replace(item, objects)
    elif type(value) is list:
        for index, item in enumerate(value):
            if type(item) in (dict, list, RefToken):
                value[index] = _replace(item, objects)
    return value
